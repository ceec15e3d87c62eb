"""Briefs: what the summariser wrote for each article, and the candidates of a digest."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, exists, func, select

from briefing.models import Actor, Brief, Candidate, DeliveryMatch
from briefing.store.base import StoreBase
from briefing.store.outbox import queue_matching
from briefing.store.schema import Article, BriefRow, Delivery, Source


class Briefs(StoreBase):
    def save_brief(self, article_id: int, brief: Brief, cache_key: str,
                   deliver_to: DeliveryMatch | None = None) -> int:
        """Store (or replace) the brief of an article, mark the article summarised, and queue its
        deliveries to the subscribers ``deliver_to`` matches: all in ONE transaction.

        The invariant of issue 8: an article is either not summarised, or summarised with all its
        deliveries queued, whatever moment the process dies at or whatever the database says.
        """
        with self.session() as s:
            row = s.scalar(select(BriefRow).where(BriefRow.article_id == article_id))
            values = dict(
                headline=brief.headline, summary=list(brief.summary),
                actors=[a.__dict__ for a in brief.actors], topics=list(brief.topics),
                engine=brief.engine, model=brief.model, grounding_score=brief.grounding_score,
                flags=list(brief.flags), gist=brief.gist or None, cache_key=cache_key)
            if row is None:
                row = BriefRow(article_id=article_id, **values)
                s.add(row)
            else:
                for k, v in values.items():
                    setattr(row, k, v)
            article = s.get(Article, article_id)
            if article is not None:
                article.status, article.error = "summarised", None
            s.flush()
            if deliver_to is not None:
                queue_matching(s, self._insert(Delivery), row.id, deliver_to)
            return row.id

    def brief_created_at(self, brief_id: int) -> datetime | None:
        with self.session() as s:
            return s.scalar(select(BriefRow.created_at).where(BriefRow.id == brief_id))

    def briefs_without_deliveries(self, since: datetime) -> list[int]:
        """Briefs written since ``since`` that have no delivery row at all (oldest first).

        Before issue 8 a brief and its deliveries were two transactions; a crash between them left
        such briefs. The service re-matches them at start-up (``App.heal_deliveries``).
        """
        with self.session() as s:
            q = (select(BriefRow.id).where(BriefRow.created_at >= since,
                                           ~select(Delivery.id).where(Delivery.brief_id == BriefRow.id).exists())
                 .order_by(BriefRow.id))
            return list(s.scalars(q))

    def brief_by_cache_key(self, cache_key: str) -> Brief | None:
        with self.session() as s:
            row = s.scalar(select(BriefRow).where(BriefRow.cache_key == cache_key).limit(1))
            return None if row is None else _brief(row, s.get(Article, row.article_id))

    def get_brief(self, brief_id: int) -> Brief | None:
        with self.session() as s:
            q = (select(BriefRow, Article, Source.name).join(Article, Article.id == BriefRow.article_id)
                 .outerjoin(Source, Source.id == Article.source_id).where(BriefRow.id == brief_id))
            found = s.execute(q).first()
            return None if found is None else _brief(*found)

    def get_briefs(self, brief_ids: Sequence[int]) -> dict[int, Brief]:
        """The briefs with these ids that exist, by id, in ONE query (no per-brief round trip)."""
        if not brief_ids:
            return {}
        with self.session() as s:
            q = (select(BriefRow, Article, Source.name).join(Article, Article.id == BriefRow.article_id)
                 .outerjoin(Source, Source.id == Article.source_id).where(BriefRow.id.in_(sorted(set(brief_ids)))))
            return {row.id: _brief(row, art, src) for row, art, src in s.execute(q)}

    def list_briefs(self, *, since: datetime | None = None, topic: str | None = None,
                    limit: int | None = None, newest_first: bool = True) -> list[tuple[int, Brief]]:
        """(brief id, brief) pairs, optionally since a time and for one topic (case-insensitive).

        Filtering, ordering and the limit happen in SQL, so ``--limit 5`` reads five rows
        whatever the size of the table.
        """
        with self.session() as s:
            q = (select(BriefRow, Article, Source.name).join(Article, Article.id == BriefRow.article_id)
                 .outerjoin(Source, Source.id == Article.source_id))
            if since is not None:
                q = q.where(BriefRow.created_at >= since)
            if topic:
                q = q.where(self._has_topic(topic))
            q = q.order_by(BriefRow.id.desc() if newest_first else BriefRow.id)
            if limit:
                q = q.limit(limit)
            return [(row.id, _brief(row, art, src)) for row, art, src in s.execute(q)]

    def _has_topic(self, topic: str) -> ColumnElement[bool]:
        """``briefs.topics`` (a JSON list) holds ``topic``, compared case-insensitively, in SQL."""
        wanted = topic.casefold()
        if self.engine.dialect.name == "postgresql":
            elements = func.json_array_elements_text(BriefRow.topics).table_valued("value").alias("t")
        else:
            elements = func.json_each(BriefRow.topics).table_valued("value").alias("t")
        return exists(select(1).select_from(elements).where(func.lower(elements.c.value) == wanted))

    def count_briefs(self, since: datetime | None = None) -> int:
        with self.session() as s:
            q = select(func.count(BriefRow.id))
            if since is not None:
                q = q.where(BriefRow.created_at >= since)
            return s.scalar(q) or 0

    def brief_article_id(self, brief_id: int) -> int | None:
        """The article a brief was written from."""
        with self.session() as s:
            return s.scalar(select(BriefRow.article_id).where(BriefRow.id == brief_id))

    # -- digest candidates ---------------------------------------------------

    def candidates_between(self, start: datetime, end: datetime) -> list[Candidate]:
        """Briefs written in ``[start, end)``: consecutive digests neither repeat nor skip a brief."""
        with self.session() as s:
            rows = list(s.execute(select(BriefRow.id, BriefRow.article_id, BriefRow.created_at)
                                  .where(BriefRow.created_at >= start, BriefRow.created_at < end)
                                  .order_by(BriefRow.id)))
        return self._candidates(rows)

    def candidates_by_id(self, brief_ids: Sequence[int]) -> list[Candidate]:
        """The briefs of a recorded digest (a retry re-renders exactly what was recorded)."""
        if not brief_ids:
            return []
        with self.session() as s:
            rows = list(s.execute(select(BriefRow.id, BriefRow.article_id, BriefRow.created_at)
                                  .where(BriefRow.id.in_(list(brief_ids)))))
        return self._candidates(rows)

    def _candidates(self, rows: Sequence[Any]) -> list[Candidate]:
        briefs = self.get_briefs([brief_id for brief_id, _, _ in rows])  # one query, not one per brief
        return [Candidate(brief_id, article_id, created_at, briefs[brief_id])
                for brief_id, article_id, created_at in rows
                if brief_id in briefs]  # a brief deleted between the two reads is left out


def _brief(row: BriefRow, article: Article | None, source: str | None = None) -> Brief:
    return Brief(
        headline=row.headline, summary=list(row.summary),
        actors=[Actor(**a) for a in row.actors], engine=row.engine, model=row.model,
        topics=list(row.topics or []), url=article.url if article else None,
        published=(article.published_at or article.fetched_at) if article else None,
        source=source, grounding_score=row.grounding_score, flags=list(row.flags or []), gist=row.gist or "")
