"""Digests grouped by story (issue 12): one entry per story, however many outlets briefed it.

Called by :func:`briefing.digest.compose.compose`: briefs whose articles belong to one story are
collapsed into the story's first brief, which counts every outlet of the story as a source.
Briefs of articles that are in no story pass through unchanged. A story that already existed
before the digest's period (so the subscriber's previous digest could have shown it) is marked
"Update:" — what is listed is what is new since then.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from briefing.store import Store

UPDATE_MARK = "Update: "


def group_by_story(store: Store, candidates: Sequence[Any],
                   since: datetime | None = None) -> tuple[list[Any], dict[int, int]]:
    """(the candidates with one per story, extra outlets per kept article for the ranking)."""
    ids = [c.article_id for c in candidates]
    if not ids:
        return list(candidates), {}
    groups = store.story_groups(ids, since)
    story_of, outlets, older = groups.story_of, groups.outlets, groups.older
    kept: list[Any] = []
    seen: set[int] = set()
    extra: dict[int, int] = {}
    for c in sorted(candidates, key=lambda c: c.brief_id):
        sid = story_of.get(c.article_id)
        if sid is None:
            kept.append(c)
            continue
        if sid in seen:
            continue
        seen.add(sid)
        if sid in older and not c.brief.headline.startswith(UPDATE_MARK):
            c = replace(c, brief=replace(c.brief, headline=UPDATE_MARK + c.brief.headline))
        kept.append(c)
        extra[c.article_id] = max(outlets.get(sid, 1) - 1, 0)
    return kept, extra
