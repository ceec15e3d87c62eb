"""Digests grouped by story (issue 12): one entry per story, however many outlets briefed it.

Called by :func:`briefing.service.digest.compose`: briefs whose articles belong to one story are
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

from sqlalchemy import func, select

from briefing.store import Store
from briefing.store.stories_schema import StoryArticle, StoryRow

UPDATE_MARK = "Update: "


def group_by_story(store: Store, candidates: Sequence[Any],
                   since: datetime | None = None) -> tuple[list[Any], dict[int, int]]:
    """(the candidates with one per story, extra outlets per kept article for the ranking)."""
    ids = [c.article_id for c in candidates]
    if not ids:
        return list(candidates), {}
    with store.session() as s:
        story_of = dict(s.execute(select(StoryArticle.article_id, StoryArticle.story_id)
                                  .where(StoryArticle.article_id.in_(ids))).all())
        stories = set(story_of.values())
        outlets = dict(s.execute(select(StoryArticle.story_id, func.count(func.distinct(StoryArticle.outlet)))
                                 .where(StoryArticle.story_id.in_(stories))
                                 .group_by(StoryArticle.story_id)).all()) if stories else {}
        older = set(s.scalars(select(StoryRow.id).where(StoryRow.id.in_(stories), StoryRow.created_at < since))
                    ) if stories and since is not None else set()
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
