"""Service commands: run (the scheduled service) and status."""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import Any

from briefing.cli import EXIT_OK, common_options
from briefing.config import Config
from briefing.app import App, StatusReport
from briefing.service.status import status_report


def register(sub: Any) -> None:
    p = sub.add_parser("run", help="run the service: poll, summarise, deliver and send digests until stopped")
    common_options(p)
    p.add_argument("--dry-run", action="store_true",
                   help="do everything but send: log each message that would go out")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("status", help="show sources, queues, today's briefs and digests, jobs")
    common_options(p)
    p.set_defaults(func=cmd_status)


def cmd_run(config: Config, args: argparse.Namespace) -> int:
    from briefing.service.runner import run_service

    return run_service(config, dry_run=args.dry_run)


def cmd_status(config: Config, args: argparse.Namespace) -> int:
    with App(config) as app:
        report = status_report(app)
    print(format_status(report))
    return EXIT_OK


def _when(dt: datetime | None) -> str:
    return dt.astimezone().strftime("%Y-%m-%d %H:%M") if dt else "never"


def _counts(counts: dict[str, int], keys: tuple[str, ...]) -> str:
    return ", ".join(f"{counts.get(k, 0)} {k}" for k in keys)


def format_status(r: StatusReport) -> str:
    lines = ["Sources:",
             f"  {'name':20} {'state':8} {'last poll':16} {'next poll':16} {'fails':>5}  last error"]
    for s in r.sources:
        state = "active" if s.active else "inactive"
        lines.append(f"  {s.name[:20]:20} {state:8} {_when(s.last_polled_at):16} {_when(s.next_poll_at):16} "
                     f"{s.consecutive_failures:>5}  {s.last_error or ''}")
    lines += [
        "Queues:",
        f"  articles waiting for a brief: {r.articles.get('new', 0)} "
        f"({r.articles.get('failed', 0)} failed, {r.articles.get('summarised', 0)} summarised)",
        f"  deliveries: {_counts(r.deliveries, ('pending', 'sending', 'sent', 'failed'))}",
        f"Today (since {r.day_start.strftime('%Y-%m-%d %H:%M %Z')}):",
        f"  briefs written: {r.briefs_today}",
        f"  digests: {_counts(r.digests_today, ('sent', 'pending', 'failed', 'empty'))}",
        "Jobs:",
    ]
    if not r.jobs:
        lines.append("  none recorded: `briefing run` has not run on this database")
    for j in r.jobs:
        lines.append(f"  {j.name[:28]:28} last {_when(j.last_run_at):16} next {_when(j.next_run_at):16} "
                     f"{'error: ' + j.last_error if j.last_error else ''}".rstrip())
    if r.lease_live and r.lease is not None:
        lines.append(f"Active instance: {r.lease.holder} (lease until {_when(r.lease.expires_at)})")
    else:
        lines.append("Active instance: none running")
    return "\n".join(lines)
