"""Articles: what ingest found, its duplicates, and its way to a brief."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select

from briefing import models
from briefing.errors import StoreConflict
from briefing.models import ArticleDraft
from briefing.store.base import StoreBase, record
from briefing.store.schema import Article, Source


class Articles(StoreBase):
    def seen_url(self, url: str) -> bool:
        with self.session() as s:
            return s.scalar(select(Article.id).where(Article.url == url)) is not None

    def seen_hash(self, content_hash: str) -> bool:
        with self.session() as s:
            return s.scalar(select(Article.id).where(Article.content_hash == content_hash)) is not None

    def recent_fingerprints(self, since: datetime) -> list[tuple[int, list[int]]]:
        """(id, fingerprint) of original articles fetched since ``since``, for near-duplicate checks."""
        with self.session() as s:
            q = select(Article.id, Article.fingerprint).where(
                Article.fetched_at >= since, Article.duplicate_of.is_(None))
            return [(i, fp) for i, fp in s.execute(q)]

    def fingerprints_after(self, after_id: int, since: datetime) -> list[tuple[int, list[int], datetime]]:
        """(id, fingerprint, fetched_at) of original articles with id > ``after_id`` fetched since
        ``since``: what a near-duplicate index has not seen yet (a primary-key range)."""
        with self.session() as s:
            q = (select(Article.id, Article.fingerprint, Article.fetched_at)
                 .where(Article.id > after_id, Article.fetched_at >= since, Article.duplicate_of.is_(None))
                 .order_by(Article.id))
            return [(i, fp or [], t) for i, fp, t in s.execute(q)]

    def add_article(self, draft: ArticleDraft, *, source_name: str | None, fingerprint: list[int],
                    duplicate_of: int | None = None, status: str | None = None) -> models.Article | None:
        """Insert an article; returns None when its URL or text is already stored (a race lost).

        ``status`` defaults to ``new`` (``duplicate`` with ``duplicate_of``); ``filtered`` keeps
        an article a source's filters left out, so it is neither fetched again nor summarised.
        """
        try:
            with self.session() as s:
                source_id = None
                if source_name:
                    source_id = s.scalar(select(Source.id).where(Source.name == source_name))
                row = Article(
                    source_id=source_id, url=draft.url, title=draft.title, text=draft.text,
                    published_at=draft.published, content_hash=draft.content_hash,
                    fingerprint=fingerprint,
                    status=status or ("duplicate" if duplicate_of else "new"), duplicate_of=duplicate_of)
                s.add(row)
                s.flush()
                return record(models.Article, row)
        except StoreConflict:
            return None

    def get_article(self, article_id: int) -> models.Article | None:
        with self.session() as s:
            row = s.get(Article, article_id)
            return None if row is None else record(models.Article, row)

    def pending_articles(self, limit: int = 100) -> list[models.Article]:
        """Articles waiting for a brief, taken round-robin over sources (oldest first within each),
        so one flooded source cannot delay every other source's briefs (issue 8)."""
        with self.session() as s:
            turn = (func.row_number().over(partition_by=Article.source_id, order_by=Article.id)
                    .label("turn"))
            ranked = select(Article.id, turn).where(Article.status == "new").subquery()
            q = (select(Article).join(ranked, ranked.c.id == Article.id)
                 .order_by(ranked.c.turn, Article.id).limit(limit))
            return [record(models.Article, row) for row in s.scalars(q)]

    def mark_article_failed(self, article_id: int, error: str) -> None:
        with self.session() as s:
            row = s.get(Article, article_id)
            if row is not None:
                row.status, row.error = "failed", error[:2000]
                row.attempts += 1

    def count_articles(self, status: str | None = None) -> int:
        with self.session() as s:
            q = select(func.count(Article.id))
            if status:
                q = q.where(Article.status == status)
            return s.scalar(q) or 0

    def article_counts(self) -> dict[str, int]:
        """Number of articles by status."""
        with self.session() as s:
            return dict(s.execute(select(Article.status, func.count(Article.id)).group_by(Article.status)).all())

    def duplicate_counts(self, article_ids: Sequence[int]) -> dict[int, int]:
        """How many near-duplicates (other sources) each article has."""
        if not article_ids:
            return {}
        with self.session() as s:
            q = (select(Article.duplicate_of, func.count(Article.id))
                 .where(Article.duplicate_of.in_(list(article_ids))).group_by(Article.duplicate_of))
            return {k: v for k, v in s.execute(q)}
