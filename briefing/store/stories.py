"""Storage for stories (issue 12), part of :class:`briefing.store.Store`.

Returns the plain frozen records of :mod:`briefing.models`; the tables are in ``stories_schema.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select, update

from briefing.errors import StoreConflict
from briefing.models import Flag, Follow, MemberRow, StoredStory, StoryBrief, StoryGroups
from briefing.store.schema import Article, Source, Subscriber, utcnow
from briefing.store.stories_schema import BriefFlag, StoryArticle, StoryFollow, StoryRow
from briefing.store.base import StoreBase


def _stored(row: StoryRow) -> StoredStory | None:
    if row.brief is None:
        return None
    return StoredStory(row.id, StoryBrief.from_dict(row.brief), row.version, row.first_seen, row.last_seen)


class Stories(StoreBase):
    """Stories, their members, follows and readers' problem reports (part of :class:`Store`)."""

    # -- clustering --------------------------------------------------------

    def unassigned_articles(self, limit: int = 1000) -> list[MemberRow]:
        """Stored articles (near-duplicates included: a copy is one more outlet) not in a story yet."""
        with self.session() as s:
            rows = s.execute(
                select(Article, Source.name).outerjoin(Source, Source.id == Article.source_id)
                .outerjoin(StoryArticle, StoryArticle.article_id == Article.id)
                .where(StoryArticle.id.is_(None), Article.status != "failed")
                .order_by(Article.published_at.is_(None), Article.published_at, Article.id).limit(limit)).all()
            return [MemberRow(0, a.id, a.title, a.text, name or "unknown", a.url, a.published_at, None, [])
                    for a, name in rows]

    def recent_members(self, since: datetime) -> list[MemberRow]:
        with self.session() as s:
            rows = s.execute(
                select(StoryArticle, Article).join(Article, Article.id == StoryArticle.article_id)
                .join(StoryRow, StoryRow.id == StoryArticle.story_id)
                .where((StoryRow.last_seen.is_(None)) | (StoryRow.last_seen >= since))
                .order_by(StoryArticle.id)).all()
            return [MemberRow(m.story_id, a.id, a.title, a.text, m.outlet or "unknown", a.url, a.published_at,
                              m.embedding, list(m.entities or [])) for m, a in rows]

    def members(self, story_id: int) -> list[MemberRow]:
        with self.session() as s:
            rows = s.execute(select(StoryArticle, Article).join(Article, Article.id == StoryArticle.article_id)
                             .where(StoryArticle.story_id == story_id).order_by(StoryArticle.id)).all()
            return [MemberRow(m.story_id, a.id, a.title, a.text, m.outlet or "unknown", a.url, a.published_at,
                              m.embedding, list(m.entities or [])) for m, a in rows]

    def new_story(self) -> int:
        with self.session() as s:
            row = StoryRow(headline="", version=0)
            s.add(row)
            s.flush()
            return row.id

    def add_member(self, story_id: int, article_id: int, outlet: str, score: float,
                   embedding: list[float] | None, entities: Sequence[str]) -> bool:
        try:
            with self.session() as s:
                s.add(StoryArticle(story_id=story_id, article_id=article_id, outlet=outlet, score=score,
                                   embedding=embedding, entities=list(entities)))
        except StoreConflict:
            return False  # already in a story (another process got there first)
        return True

    def save_story_brief(self, story_id: int, brief: StoryBrief) -> int:
        """Store the composed brief; returns the new version."""
        with self.session() as s:
            row = s.get(StoryRow, story_id)
            assert row is not None
            row.brief = brief.to_dict()
            row.headline = brief.headline
            row.first_seen, row.last_seen = brief.first_seen, brief.last_seen
            row.version += 1
            row.updated_at = utcnow()
            return row.version

    def get_story(self, story_id: int) -> StoredStory | None:
        with self.session() as s:
            row = s.get(StoryRow, story_id)
            return _stored(row) if row else None

    def recent_stories(self, limit: int = 20, min_outlets: int = 1) -> list[StoredStory]:
        with self.session() as s:
            rows = s.scalars(select(StoryRow).where(StoryRow.brief.is_not(None))
                             .order_by(StoryRow.last_seen.desc(), StoryRow.id.desc())).all()
            out = [st for st in (_stored(r) for r in rows) if st and len(st.brief.outlets) >= min_outlets]
            return out[:limit]

    def story_of_article(self, article_id: int) -> int | None:
        with self.session() as s:
            return s.scalar(select(StoryArticle.story_id).where(StoryArticle.article_id == article_id))

    # -- follows -----------------------------------------------------------

    def follow(self, subscriber_id: int, story_id: int) -> bool:
        """Follow a story; the follower is "told" its current brief. False if already following."""
        story = self.get_story(story_id)
        if story is None:
            raise KeyError(story_id)
        try:
            with self.session() as s:
                s.add(StoryFollow(subscriber_id=subscriber_id, story_id=story_id, told=story.brief.to_dict(),
                                  told_version=story.version))
        except StoreConflict:
            return False
        return True

    def unfollow(self, subscriber_id: int, story_id: int) -> bool:
        with self.session() as s:
            n = s.execute(delete(StoryFollow).where(StoryFollow.subscriber_id == subscriber_id,
                                                    StoryFollow.story_id == story_id)).rowcount
            return bool(n)

    def followed(self, subscriber_id: int) -> list[int]:
        with self.session() as s:
            return list(s.scalars(select(StoryFollow.story_id).where(StoryFollow.subscriber_id == subscriber_id)
                                  .order_by(StoryFollow.id)))

    def stale_follows(self) -> list[Follow]:
        """Follows of active subscribers whose story has a newer version than they were told."""
        with self.session() as s:
            rows = s.execute(
                select(StoryFollow, StoryRow.version, Subscriber.telegram_chat_id)
                .join(StoryRow, StoryRow.id == StoryFollow.story_id)
                .join(Subscriber, Subscriber.id == StoryFollow.subscriber_id)
                .where(StoryRow.version > StoryFollow.told_version, Subscriber.active.is_(True))
                .order_by(StoryFollow.id)).all()
            return [Follow(f.subscriber_id, chat, f.story_id, StoryBrief.from_dict(f.told) if f.told else None,
                           f.told_version) for f, _version, chat in rows]

    def mark_told(self, subscriber_id: int, story_id: int, brief: StoryBrief, version: int) -> bool:
        """Record what the follower now knows; False if another sender already did (no double send)."""
        with self.session() as s:
            n = s.execute(update(StoryFollow).where(
                StoryFollow.subscriber_id == subscriber_id, StoryFollow.story_id == story_id,
                StoryFollow.told_version < version).values(
                told=brief.to_dict(), told_version=version, updated_at=utcnow())).rowcount
            return bool(n)

    # -- problem reports ---------------------------------------------------

    def add_flag(self, story_id: int, subscriber_id: int | None, kind: str, detail: str = "") -> int:
        with self.session() as s:
            row = BriefFlag(story_id=story_id, subscriber_id=subscriber_id, kind=kind, detail=detail)
            s.add(row)
            s.flush()
            return row.id

    def flags(self, status: str | None = "open", limit: int = 50) -> list[Flag]:
        with self.session() as s:
            q = select(BriefFlag).order_by(BriefFlag.id.desc()).limit(limit)
            if status is not None:
                q = q.where(BriefFlag.status == status)
            return [Flag(f.id, f.story_id, f.subscriber_id, f.kind, f.detail, f.status, f.resolution,
                         f.created_at) for f in s.scalars(q)]

    def resolve_flag(self, flag_id: int, status: str, resolution: str) -> None:
        with self.session() as s:
            s.execute(update(BriefFlag).where(BriefFlag.id == flag_id).values(
                status=status, resolution=resolution, resolved_at=utcnow()))

    # -- digests -----------------------------------------------------------

    def story_groups(self, article_ids: Sequence[int], since: datetime | None = None) -> StoryGroups:
        """The story of each of these articles, each such story's number of outlets, and which of
        those stories already existed before ``since``."""
        with self.session() as s:
            story_of = dict(s.execute(select(StoryArticle.article_id, StoryArticle.story_id)
                                      .where(StoryArticle.article_id.in_(list(article_ids)))).all())
            stories = set(story_of.values())
            outlets = dict(s.execute(select(StoryArticle.story_id, func.count(func.distinct(StoryArticle.outlet)))
                                     .where(StoryArticle.story_id.in_(stories))
                                     .group_by(StoryArticle.story_id)).all()) if stories else {}
            older = set(s.scalars(select(StoryRow.id).where(StoryRow.id.in_(stories), StoryRow.created_at < since))
                        ) if stories and since is not None else set()
        return StoryGroups(story_of, outlets, frozenset(older))
