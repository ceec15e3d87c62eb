"""Formatting briefs for the terminal, Markdown and JSON (Telegram and email have their own)."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Sequence
from pathlib import Path

from briefing.models import GIST_LABEL, KEY_FACTS_LABEL, Brief


def _when(brief: Brief) -> str:
    return brief.published.strftime("%Y-%m-%d %H:%M UTC") if brief.published else "date unknown"


def _made_by(brief: Brief) -> str:
    made = f"{brief.engine}" + (f" ({brief.model})" if brief.model else "")
    if brief.grounding_score is not None:
        made += f" · grounding {brief.grounding_score:.2f}"
    return made


def brief_text(brief: Brief, width: int = 88) -> str:
    """A brief as plain text for a terminal."""
    lines = [brief.headline, "=" * min(width, len(brief.headline))]
    if brief.gist:
        lines += textwrap.wrap(f"{GIST_LABEL}: {brief.gist}", width)
        lines += ["", f"{KEY_FACTS_LABEL}:"]
    lines += textwrap.wrap(brief.summary_text, width)
    if brief.actors:
        lines.append("")
        lines.append("Key actors:")
        for a in brief.actors:
            who = f"{a.name} ({a.description})" if a.description else a.name
            lines += textwrap.wrap(f"- {who} — {a.position}", width, subsequent_indent="  ")
    lines.append("")
    meta = [f"Topics: {', '.join(brief.topics)}" if brief.topics else "", _when(brief), _made_by(brief)]
    lines.append(" · ".join(m for m in meta if m))
    if brief.url:
        lines.append(f"Source: {brief.url}")
    for flag in brief.flags:
        lines.append(f"! {flag}")
    return "\n".join(lines)


def brief_markdown(brief: Brief) -> str:
    out = [f"## {brief.headline}", ""]
    if brief.gist:
        out += [f"*{GIST_LABEL}:* {brief.gist}", "", f"**{KEY_FACTS_LABEL}**", ""]
    out += [brief.summary_text, ""]
    if brief.actors:
        out.append("**Key actors**")
        out.append("")
        for a in brief.actors:
            who = f"**{a.name}** ({a.description})" if a.description else f"**{a.name}**"
            out.append(f"- {who} — {a.position}")
            out.append(f"  > {a.evidence}")
        out.append("")
    meta = [f"Topics: {', '.join(brief.topics)}" if brief.topics else "", _when(brief), _made_by(brief)]
    out.append("*" + " · ".join(m for m in meta if m) + "*")
    if brief.url:
        out.append(f"\n[Source]({brief.url})")
    for flag in brief.flags:
        out.append(f"\n> note: {flag}")
    return "\n".join(out) + "\n"


def briefs_json(briefs: Sequence[tuple[int, Brief]]) -> str:
    return json.dumps([{"id": i, **b.to_dict()} for i, b in briefs], ensure_ascii=False, indent=2)


def write_exports(briefs: Sequence[tuple[int, Brief]], out_dir: Path) -> tuple[Path, Path]:
    """Write ``briefs.json`` and ``briefs.md`` (atomically: a reader never sees half a file)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    md = "# Briefs\n\n" + "\n---\n\n".join(brief_markdown(b) for _, b in briefs)
    paths = (out_dir / "briefs.json", out_dir / "briefs.md")
    for path, content in zip(paths, (briefs_json(briefs), md)):
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(content, encoding="utf-8")
        tmp.replace(path)
    return paths
