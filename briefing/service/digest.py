"""What goes into a subscriber's daily digest, in which order, and when it is due.

Pure functions over the store: nothing here sends anything. ``briefing.deliver.email.digests``
records and sends digests built from these pieces; ``briefing digest preview`` renders them.

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
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from briefing.errors import ConfigError
from briefing.models import Brief, Candidate, Subscription
from briefing.service.matching import matches
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
            pool: CandidatePool | None = None) -> DigestContent:
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
    return DigestContent(digest_date, period_start, period_end, tuple(sections), omitted, subscriber_name)


# -- when a digest is due ------------------------------------------------------


def parse_digest_time(value: str) -> time:
    """``HH:MM`` (24-hour) -> time; a clear error otherwise."""
    try:
        hours, minutes = value.strip().split(":")
        parsed = time(int(hours), int(minutes))
    except ValueError:
        raise ConfigError(f"digest time must be HH:MM on a 24-hour clock, e.g. 07:30; got {value!r}") from None
    return parsed


def zone(name: str) -> ZoneInfo:
    """An IANA time zone, e.g. ``Europe/Berlin``; a clear error otherwise."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"unknown time zone {name!r}: use an IANA name such as Europe/Berlin or UTC") from None


def scheduled_at(local_date: date, digest_time: time, tz: ZoneInfo) -> datetime:
    """The UTC instant of ``digest_time`` on ``local_date`` in ``tz``.

    Wall-clock based, so 08:00 stays 08:00 local across a DST change. A time that does not
    exist (skipped by a spring-forward) resolves with the pre-transition offset, i.e. it fires
    at the same elapsed moment the clock jumps over (02:30 -> 03:30); an ambiguous time
    (repeated by a fall-back) fires at its first occurrence (PEP 495, ``fold=0``).
    """
    return datetime.combine(local_date, digest_time, tzinfo=tz).astimezone(timezone.utc)


@dataclass(frozen=True)
class DueCheck:
    """The digest a subscriber's clock points at now: its local date, time, and lateness."""

    digest_date: date
    scheduled: datetime
    late: timedelta

    def missed(self, catch_up: timedelta) -> bool:
        return self.late > catch_up


def latest_slot(now: datetime, digest_time: str, tz_name: str) -> DueCheck:
    """The most recent scheduled digest at or before ``now`` (today's, or else yesterday's).

    Only this one slot is ever considered: after days of downtime the subscriber gets one
    digest (covering everything since the last one), never a backlog of stale ones.
    """
    tz, at = zone(tz_name), parse_digest_time(digest_time)
    today = now.astimezone(tz).date()
    slot = scheduled_at(today, at, tz)
    if slot > now:
        today -= timedelta(days=1)
        slot = scheduled_at(today, at, tz)
    return DueCheck(today, slot, now - slot)
