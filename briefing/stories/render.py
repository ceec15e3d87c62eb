"""A story brief as plain text (CLI, demo) and as Telegram HTML (escaped, links only to stored http(s) URLs)."""

from __future__ import annotations

from briefing.markup import esc, link
from briefing.models import StoredStory, StoryBrief
from briefing.stories.diff import Change


def _outlets(names: list[str]) -> str:
    return ", ".join(names)


def story_text(story: StoredStory) -> str:
    b = story.brief
    lines = [f"[story {story.id}] {b.headline}", f"  {len(b.outlets)} outlet(s), {b.articles} article(s): "
             + _outlets([o for o, _ in b.outlets])]
    lines += [f"  {s}" for s in b.summary]
    for f in b.conflicts:
        lines.append("  Outlets differ: " + "; ".join(f"{o}: {s}" for o, s in f.variants.items()))
    if b.actors:
        lines.append("  Who says what:")
    for a in b.actors:
        who = f"{a.name} ({a.description})" if a.description else a.name
        for p in a.positions:
            lines.append(f"    {who} — {p.text} — {_outlets(p.outlets)}")
            lines.append(f"      evidence: \"{p.evidence}\"")
        if a.conflicting:
            lines.append(f"    (outlets report different positions for {a.name})")
    return "\n".join(lines)


def story_html(story_id: int, b: StoryBrief) -> str:
    parts = [f"<b>{esc(b.headline)}</b>", esc(" ".join(b.summary))]
    for f in b.conflicts:
        parts.append("<b>Outlets differ</b>\n" + "\n".join(f"• <i>{esc(o)}</i>: {esc(s)}"
                                                           for o, s in f.variants.items()))
    if b.actors:
        lines = ["<b>Who says what</b>"]
        for a in b.actors:
            who = f"<b>{esc(a.name)}</b>" + (f" ({esc(a.description)})" if a.description else "")
            for p in a.positions:
                lines.append(f"• {who} — {esc(p.text)} — <i>{esc(_outlets(p.outlets))}</i>")
        parts.append("\n".join(lines))
    links = ", ".join(link(url, name) for name, url in b.outlets)
    parts.append(f"<i>{len(b.outlets)} outlet{'s' if len(b.outlets) != 1 else ''}</i>: {links}")
    return "\n\n".join(p for p in parts if p)


def whats_new_html(headline: str, change: Change) -> str:
    lines = [f"<b>What's new</b> — {esc(headline)}"]
    if change.facts:
        lines.append("Now: " + "; ".join(f"{esc(t)} <i>({esc(_outlets(o))})</i>" for t, o in change.facts))
    for name, pos, outlets in change.actors:
        lines.append(f"New: <b>{esc(name)}</b> — {esc(pos)} <i>({esc(_outlets(outlets))})</i>")
    for name, pos, outlets in change.positions:
        lines.append(f"Changed: <b>{esc(name)}</b> now — {esc(pos)} <i>({esc(_outlets(outlets))})</i>")
    return "\n".join(lines)


def correction_html(headline: str, removed: list[str]) -> str:
    lines = [f"<b>Correction</b> — {esc(headline)}",
             "A reader reported a problem and a re-check against the articles did not support:"]
    lines += [f"• {esc(r)}" for r in removed]
    lines.append("It has been removed from this story's brief.")
    return "\n".join(lines)

