"""What goes into a subscriber's daily digest, in which order, and when it is due.

Pure functions over the store: nothing here sends anything. :mod:`briefing.digest.job` records
and sends digests built from these pieces; ``briefing digest preview`` renders them.

Ranking (documented in the README, "Email digest"): every story gets

    score = sources + keyword_hits - age_hours / 24

where ``sources`` is 1 plus the number of near-duplicate copies of the story from other
sources (more outlets covering it = more important), ``keyword_hits`` is how many of the
subscriber's keywords it mentions, and a story loses one point per day of age. Ties go to the
newer story. Sections (one per topic) are ordered by their best story.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from briefing.matching import matches
from briefing.models import Brief, Candidate, Subscription
from briefing.store import Store
from briefing.stories.digest import group_by_story

# A subscriber's first digest covers this much history.
FIRST_DIGEST_HOURS = 24.0
OTHER_TOPIC = "other"


@dataclass(frozen=True)
class DigestItem:
    brief_id: int
    brief: Brief
    sources: int  # outlets covering the story: 1 + near-duplicates
    keyword_hits: tuple[str, ...]
    age_hours: float
    score: float


@dataclass(frozen=True)
class DigestSection:
    topic: str
    items: tuple[DigestItem, ...]


@dataclass(frozen=True)
class DigestContent:
    """One day's digest for one subscriber, ranked and grouped, ready to render."""

    digest_date: date
    period_start: datetime
    period_end: datetime
    sections: tuple[DigestSection, ...] = ()
    omitted: int = 0  # matching stories left out beyond ``email.max_briefs``
    subscriber_name: str | None = None
    timezone: str = "UTC"  # the subscriber's IANA zone: every channel shows local times in it

    @property
    def items(self) -> list[DigestItem]:
        return [item for section in self.sections for item in section.items]

    @property
    def brief_ids(self) -> list[int]:
        return [item.brief_id for item in self.items]

    @property
    def is_empty(self) -> bool:
        return not self.sections


# -- ranking ---------------------------------------------------------------


def score(sources: int, keyword_hits: int, age_hours: float) -> float:
    """The documented ranking score (module docstring)."""
    return sources + keyword_hits - max(age_hours, 0.0) / 24.0


def _keyword_hits(brief: Brief, subs: Sequence[Subscription]) -> tuple[str, ...]:
    return tuple(s.value for s in subs if s.kind == "keyword" and matches(brief, s))


def _section_topic(brief: Brief, subs: Sequence[Subscription]) -> str:
    """The topic a story is filed under: one the subscriber follows first, else its first topic."""
    followed = {s.value.casefold() for s in subs if s.kind == "topic"}
    for topic in brief.topics:
        if topic.casefold() in followed:
            return topic.casefold()
    return brief.topics[0].casefold() if brief.topics else OTHER_TOPIC


def rank(candidates: Sequence[Candidate], subs: Sequence[Subscription] | None,
         duplicates: dict[int, int], now: datetime, max_items: int) -> tuple[list[DigestSection], int]:
    """Filter (``subs=None`` keeps everything), score, keep the best ``max_items``, group by topic.

    Returns the sections, best first, and how many matching stories were left out.
    """
    subs_list = list(subs) if subs is not None else []
    items: list[tuple[str, DigestItem]] = []
    for c in candidates:
        if subs is not None and not any(matches(c.brief, s) for s in subs_list):
            continue
        when = c.brief.published or c.created_at
        age = max((now - when).total_seconds() / 3600.0, 0.0)
        sources = 1 + duplicates.get(c.article_id, 0)
        hits = _keyword_hits(c.brief, subs_list)
        item = DigestItem(c.brief_id, c.brief, sources, hits, age, score(sources, len(hits), age))
        items.append((_section_topic(c.brief, subs_list), item))
    items.sort(key=lambda ti: (-ti[1].score, ti[1].age_hours, -ti[1].brief_id))
    kept, omitted = items[:max_items], max(len(items) - max_items, 0)
    groups: dict[str, list[DigestItem]] = {}
    for topic, item in kept:  # insertion order = order of each topic's best story
        groups.setdefault(topic, []).append(item)
    return [DigestSection(t, tuple(group)) for t, group in groups.items()], omitted


# -- reading briefs ----------------------------------------------------------


class CandidatePool:
    """Briefs (and their near-duplicate counts) read once per digest run and shared by every
    subscriber's digest, instead of once per subscriber (issue 13). Candidates are immutable, so
    sharing them is safe; a pool lives for one run only, so nothing goes stale."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._between: dict[tuple[datetime, datetime], list[Candidate]] = {}
        self._by_id: dict[int, Candidate | None] = {}
        self._dups: dict[int, int] = {}
        self._dups_known: set[int] = set()

    def between(self, start: datetime, end: datetime) -> list[Candidate]:
        key = (start, end)
        if key not in self._between:
            found = self.store.candidates_between(start, end)
            self._between[key] = found
            self._by_id.update((c.brief_id, c) for c in found)
        return self._between[key]

    def by_id(self, brief_ids: Sequence[int]) -> list[Candidate]:
        missing = [i for i in brief_ids if i not in self._by_id]
        if missing:
            found = {c.brief_id: c for c in self.store.candidates_by_id(missing)}
            self._by_id.update((i, found.get(i)) for i in missing)
        return [c for i in brief_ids if (c := self._by_id[i]) is not None]

    def duplicate_counts(self, article_ids: Sequence[int]) -> dict[int, int]:
        missing = [i for i in article_ids if i not in self._dups_known]
        if missing:
            self._dups.update(self.store.duplicate_counts(missing))
            self._dups_known.update(missing)
        return {i: self._dups[i] for i in article_ids if i in self._dups}


def compose(store: Store, *, digest_date: date, period_start: datetime, period_end: datetime,
            subs: Sequence[Subscription] | None, now: datetime, max_items: int = 40,
            subscriber_name: str | None = None, brief_ids: Sequence[int] | None = None,
            pool: CandidatePool | None = None, timezone: str = "UTC") -> DigestContent:
    """Build a digest: the period's briefs (or exactly ``brief_ids``) that match ``subs``.

    ``subs=None`` means "everything" (an admin preview with no subscriber). ``pool`` shares the
    briefs read among the digests of one run.
    """
    pool = pool or CandidatePool(store)
    found = pool.by_id(brief_ids) if brief_ids is not None else pool.between(period_start, period_end)
    dups = pool.duplicate_counts([c.article_id for c in found])
    found, story_outlets = group_by_story(store, found, period_start)  # issue 12: one entry per story
    dups = {**dups, **story_outlets}
    sections, omitted = rank(found, subs, dups, now, max_items)
    return DigestContent(digest_date, period_start, period_end, tuple(sections), omitted, subscriber_name, timezone)
