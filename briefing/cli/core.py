"""Core commands: demo, ingest, summarise, briefs, sources, eval."""

from __future__ import annotations

import argparse
import re
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from briefing.cli import EXIT_FAILED, EXIT_OK, common_options, engine_options
from briefing.config import Config
from briefing.errors import ConfigError
from briefing.ingest import PollReport
from briefing.app import App, SummariseReport
from briefing.cli.render import brief_text, briefs_json, write_exports


def register(sub: Any) -> None:
    p = sub.add_parser("demo", help="ingest the bundled seeds/, write briefs, print them")
    common_options(p)
    engine_options(p)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("ingest", help="poll sources for new articles")
    common_options(p)
    p.add_argument("--force", action="store_true", help="poll every source now, not only those due")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("summarise", help="write briefs for articles that have none")
    common_options(p)
    engine_options(p)
    p.add_argument("--limit", type=int, default=1000, help="at most this many articles (default 1000)")
    p.set_defaults(func=cmd_summarise)

    p = sub.add_parser("briefs", help="list stored briefs")
    common_options(p)
    p.add_argument("--since", help="only briefs since a time: ISO date/time, or 24h, 7d, 90m")
    p.add_argument("--topic", help="only briefs with this topic")
    p.add_argument("--limit", type=int, help="at most this many briefs")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_briefs)

    p = sub.add_parser("sources", help="show sources: status, last and next poll, last error; "
                                       "import/export OPML")
    common_options(p)
    p.set_defaults(func=cmd_sources)
    actions = p.add_subparsers(dest="sources_action", metavar="{import,export}")
    q = actions.add_parser("import", help="add the feeds of an OPML file (nested outlines become topics)")
    common_options(q)
    q.add_argument("file", type=Path, help="OPML file")
    q.set_defaults(func=cmd_sources_import)
    q = actions.add_parser("export", help="write every source with a URL to an OPML file (- for stdout)")
    common_options(q)
    q.add_argument("file", help="OPML file to write, or - for standard output")
    q.set_defaults(func=cmd_sources_export)

    p = sub.add_parser("eval", help="score briefs against reference summaries (JSONL)")
    common_options(p)
    engine_options(p, extra=["lead-3"])
    p.add_argument("file", type=Path, help="JSONL with id, article, reference, source_dataset")
    p.add_argument("--limit", type=int, help="only the first N lines")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--folds", type=int, metavar="K",
                   help="cross-validate the extractive selector's settings in K folds; print every held-out fold")
    # lead-3 is a baseline of `eval`, not a configurable engine.
    p.set_defaults(func=cmd_eval, not_config=("lead-3",))


def parse_since(value: str, now: datetime | None = None) -> datetime:
    now = now or datetime.now(timezone.utc)
    m = re.fullmatch(r"(\d+)\s*([mhdw])", value.strip())
    if m:
        unit = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}[m.group(2)]
        return now - timedelta(**{unit: int(m.group(1))})
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"--since: expected an ISO date/time or a duration like 24h or 7d, got {value!r}") from None
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)

def _progress(total: int | None, label: str):  # type: ignore[no-untyped-def]
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    progress = Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                        console=_err_console(), transient=True, disable=not sys.stderr.isatty())
    return progress, progress.add_task(label, total=total)


def _err_console():  # type: ignore[no-untyped-def]
    from rich.console import Console

    return Console(stderr=True)


def _ingest(app: App, force: bool) -> list[PollReport]:
    # Advances per article: the total grows as each source's entries are found.
    progress, task = _progress(0, "Reading articles")

    def items(found: int, done: int) -> None:
        if found:
            progress.update(task, total=(progress.tasks[0].total or 0) + found)
        if done:
            progress.advance(task, done)

    with progress:
        reports = app.ingest(force=force, item_progress=items)
    for r in reports:
        state = f"error: {r.error}" if r.error else ("not modified" if r.not_modified else
                                                     f"{r.added} new, {r.duplicates} duplicate"
                                                     + (f", {r.filtered} filtered out" if r.filtered else ""))
        print(f"  {r.source}: {state}", file=sys.stderr)
        for skipped in r.skipped:
            print(f"    skipped {skipped}", file=sys.stderr)
    return reports


def _summarise(app: App, limit: int) -> SummariseReport:
    pending = app.articles_waiting()
    progress, task = _progress(min(pending, limit), "Writing briefs")
    with progress:
        report = app.summarise_pending(limit=limit, progress=lambda _a: progress.advance(task))
    print(f"  {report.done} brief(s) written ({report.reused} reused), {len(report.failed)} failed",
          file=sys.stderr)
    for failure in report.failed:
        print(f"    failed {failure}", file=sys.stderr)
    return report


def cmd_demo(config: Config, args: argparse.Namespace) -> int:
    with App(config) as app:
        print(f"Database: {config.db_url}", file=sys.stderr)
        reports = _ingest(app, force=True)
        report = _summarise(app, 1000)
        briefs = app.briefs(newest_first=False)
        for _, brief in briefs:
            print(brief_text(brief))
            print()
        json_path, md_path = write_exports(briefs, config.data_path / "briefs")
        print(f"{len(briefs)} brief(s); written to {json_path} and {md_path}", file=sys.stderr)
        _demo_stories(app)
    failed = any(r.error for r in reports) or report.failed
    return EXIT_FAILED if failed else EXIT_OK


def _demo_stories(app: App) -> None:
    """Issue 12: the same event from several outlets, as one story with who says what where."""
    from briefing.stories.render import story_text

    app.update_stories()
    multi = app.recent_stories(min_outlets=2)
    print(f"Stories reported by more than one outlet: {len(multi)}\n")
    for story in multi:
        print(story_text(story))
        print()


def cmd_ingest(config: Config, args: argparse.Namespace) -> int:
    with App(config) as app:
        reports = _ingest(app, force=args.force)
    if not reports:
        print("no source is due; use --force to poll all now", file=sys.stderr)
    return EXIT_FAILED if any(r.error for r in reports) else EXIT_OK


def cmd_summarise(config: Config, args: argparse.Namespace) -> int:
    with App(config) as app:
        report = _summarise(app, args.limit)
    return EXIT_FAILED if report.failed else EXIT_OK


def cmd_briefs(config: Config, args: argparse.Namespace) -> int:
    since = parse_since(args.since) if args.since else None
    with App(config) as app:
        briefs = app.briefs(since=since, topic=args.topic, limit=args.limit)
    if args.json:
        print(briefs_json(briefs))
        return EXIT_OK
    if not briefs:
        print("no briefs match", file=sys.stderr)
    for brief_id, brief in briefs:
        print(f"[{brief_id}] " + brief_text(brief))
        print()
    return EXIT_OK


def _ago(dt: datetime | None) -> str:
    return dt.strftime("%Y-%m-%d %H:%M") if dt else "never"


def cmd_sources(config: Config, args: argparse.Namespace) -> int:
    with App(config) as app:
        app.sync_sources()
        rows = app.sources()
    print(f"{'name':20} {'kind':7} {'state':8} {'last poll':17} {'next poll':17} {'fails':>5}  last error")
    for r in rows:
        state = "active" if r.active else "inactive"
        print(f"{r.name[:20]:20} {r.kind:7} {state:8} {_ago(r.last_polled_at):17} {_ago(r.next_poll_at):17} "
              f"{r.consecutive_failures:>5}  {r.last_error or ''}")
    return EXIT_OK


def cmd_sources_import(config: Config, args: argparse.Namespace) -> int:
    """Each feed becomes a run-time source (like /addsource): polled as ``auto``, SSRF-safe."""
    from briefing.ingest.opml import read_opml

    feeds = read_opml(args.file)
    added = 0
    with App(config) as app:
        app.sync_sources()
        rows = app.sources()
        taken, urls = {r.name for r in rows}, {r.location for r in rows} | {s.location for s in config.sources}
        for feed in feeds:
            if feed.url in urls:
                print(f"  {feed.name}: already a source ({feed.url})", file=sys.stderr)
                continue
            if urlsplit(feed.url).scheme not in ("http", "https"):
                print(f"  {feed.name}: skipped, not an http(s) URL ({feed.url})", file=sys.stderr)
                continue
            name, n = feed.name[:180], 2
            while name in taken:
                name, n = f"{feed.name[:180]}-{n}", n + 1
            app.add_source(name, feed.url, feed.topics)
            taken.add(name)
            urls.add(feed.url)
            added += 1
    print(f"{added} source(s) added from {args.file} ({len(feeds)} feed(s) in it)", file=sys.stderr)
    return EXIT_OK


def cmd_sources_export(config: Config, args: argparse.Namespace) -> int:
    from briefing.ingest.opml import OpmlFeed, render_opml

    with App(config) as app:
        app.sync_sources()
        rows = app.sources(active_only=True)
    feeds = [OpmlFeed(r.name, r.location, tuple(r.topics or ())) for r in rows
             if urlsplit(r.location).scheme in ("http", "https")]
    text = render_opml(feeds)
    if args.file == "-":
        sys.stdout.write(text)
    else:
        Path(args.file).write_text(text, encoding="utf-8")
        print(f"{len(feeds)} source(s) written to {args.file}", file=sys.stderr)
    return EXIT_OK


def _eval_folds(examples: list[Any], k: int, as_json: bool) -> int:
    from dataclasses import asdict

    from briefing.evaluation.crossval import cross_validate, format_cv, progress_steps

    if not 2 <= k <= len(examples):
        raise ConfigError(f"--folds: expected 2 to {len(examples)} (the number of pairs), got {k}")
    # Preparing each article (cleaning, splitting, MiniLM embeddings), then choosing per fold.
    progress, task = _progress(progress_steps(len(examples), k), "Cross-validating")
    with progress:
        result = cross_validate(examples, k, progress=lambda: progress.advance(task))
    if as_json:
        import json

        print(json.dumps({"k": result.k, "grid_size": result.grid_size, "folds": [asdict(r) for r in result.rows],
                          "chosen_on_all": result.chosen_on_all.label()}, indent=2))
    else:
        print(format_cv(result))
    return EXIT_OK


def cmd_eval(config: Config, args: argparse.Namespace) -> int:
    from briefing.evaluation.evaluate import evaluate, format_table, load_examples

    examples = load_examples(args.file, limit=args.limit)
    if args.folds is not None:
        return _eval_folds(examples, args.folds, args.json)
    progress, task = _progress(len(examples), "Evaluating")
    with progress:
        result = evaluate(config, examples, baseline=getattr(args, "opt_summariser.engine") == "lead-3",
                          progress=lambda: progress.advance(task))
    print(result.to_json() if args.json else format_table(result))
    return EXIT_OK


