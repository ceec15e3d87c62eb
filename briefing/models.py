"""Plain data shared by the stages: what ingest hands to the store, and a brief."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any


@dataclass(frozen=True)
class ArticleDraft:
    """An article as ingest found it, before it is stored."""

    url: str  # canonical URL (or file:// URL for local files)
    title: str
    text: str  # cleaned text, paragraphs separated by blank lines
    published: datetime | None = None
    source_name: str | None = None

    @property
    def content_hash(self) -> str:
        return content_hash(self.text)


def content_hash(text: str) -> str:
    """SHA-256 of whitespace- and case-normalised text: the exact-duplicate key."""
    norm = " ".join(text.lower().split())
    return hashlib.sha256(norm.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class DeliveryMatch:
    """Whom a brief goes to: subscribers following one of its topics, its source or a keyword it
    mentions (all casefolded), through subscriptions made by ``subscribed_before`` when given."""

    topics: tuple[str, ...] = ()
    source: str | None = None
    keywords: tuple[str, ...] = ()
    subscribed_before: datetime | None = None
    channel: str = "telegram"


@dataclass(frozen=True)
class Actor:
    name: str
    description: str  # who they are, e.g. "Russian President"
    position: str  # their stance on the story, in one line
    evidence: str  # the article sentence that supports the position


# How every face marks the gist: a model wrote it (issue 10), unlike the key facts under it.
GIST_LABEL = "In short (machine-written)"
KEY_FACTS_LABEL = "Key facts"


@dataclass
class Brief:
    headline: str
    summary: list[str]  # two or three sentences
    actors: list[Actor]
    engine: str
    model: str | None = None
    topics: list[str] = field(default_factory=list)
    url: str | None = None
    published: datetime | None = None
    source: str | None = None  # name of the source the article came from
    grounding_score: float | None = None
    flags: list[str] = field(default_factory=list)  # what the guard or fallbacks changed, and why
    gist: str = ""  # one model-written sentence, checked by the claim guard (issue 10); "" when none

    @property
    def summary_text(self) -> str:
        return " ".join(self.summary)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["published"] = self.published.isoformat() if self.published else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Brief":
        data = dict(data)
        data["actors"] = [Actor(**a) for a in data.get("actors", [])]
        pub = data.get("published")
        data["published"] = datetime.fromisoformat(pub) if isinstance(pub, str) else pub
        return cls(**data)


def utcnow() -> datetime:
    """Now, as an aware UTC datetime: the one clock every stored time is written with."""
    return datetime.now(timezone.utc)


# -- what the store returns (issue 11): plain frozen records, never ORM rows ----------------


@dataclass(frozen=True)
class SourceSpec:
    """A configured source as the store needs it to sync the ``sources`` table (plain values,
    so the store does not know the configuration's types)."""

    name: str
    kind: str
    location: str
    topics: tuple[str, ...] = ()
    enabled: bool = True


@dataclass(frozen=True)
class Source:
    id: int
    name: str
    kind: str
    location: str
    topics: list[str]
    active: bool
    etag: str | None = None
    last_modified: str | None = None
    last_polled_at: datetime | None = None
    last_success_at: datetime | None = None
    next_poll_at: datetime | None = None
    last_error: str | None = None
    failure_count: int = 0
    consecutive_failures: int = 0
    created_at: datetime | None = None


@dataclass(frozen=True)
class Article:
    id: int
    source_id: int | None
    url: str
    title: str
    text: str
    published_at: datetime | None
    fetched_at: datetime
    content_hash: str
    fingerprint: list[int]
    status: str
    duplicate_of: int | None = None
    error: str | None = None
    attempts: int = 0


@dataclass(frozen=True)
class Subscriber:
    id: int
    telegram_chat_id: int | None = None
    telegram_user_id: int | None = None
    display_name: str | None = None
    email: str | None = None
    email_verified: bool = False
    active: bool = True
    deactivated_reason: str | None = None
    timezone: str = "UTC"
    digest_time: str | None = None  # "HH:MM", local
    digest_telegram: bool = False
    last_digest_at: datetime | None = None
    created_at: datetime | None = None


@dataclass(frozen=True)
class Subscription:
    """What a subscriber follows: a topic, a source or a keyword (casefolded)."""

    kind: str  # topic | source | keyword
    value: str
    id: int = 0
    subscriber_id: int = 0
    created_at: datetime | None = None


@dataclass(frozen=True)
class Delivery:
    """One brief to one subscriber on one channel, recorded before it is sent."""

    id: int
    subscriber_id: int
    brief_id: int
    channel: str
    status: str
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_error: str | None = None
    external_id: str | None = None  # message ids of the parts sent so far
    created_at: datetime | None = None
    sent_at: datetime | None = None


@dataclass(frozen=True)
class PendingDelivery:
    id: int
    subscriber_id: int
    brief_id: int
    chat_id: int | None


@dataclass(frozen=True)
class Digest:
    """One daily digest of one subscriber on one channel, recorded before it is sent."""

    id: int
    subscriber_id: int
    digest_date: str  # the subscriber's local date, YYYY-MM-DD
    channel: str
    status: str
    brief_ids: list[int]
    period_start: datetime | None = None
    period_end: datetime | None = None
    message_id: str | None = None
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_error: str | None = None
    created_at: datetime | None = None
    sent_at: datetime | None = None


@dataclass(frozen=True)
class EmailCode:
    """A pending email verification (the code is stored hashed)."""

    subscriber_id: int
    email: str
    code_hash: str
    expires_at: datetime
    attempts: int
    created_at: datetime


@dataclass(frozen=True)
class LeaseInfo:
    name: str
    holder: str
    expires_at: datetime


@dataclass(frozen=True)
class JobRecord:
    name: str
    last_run_at: datetime | None
    next_run_at: datetime | None
    last_error: str | None


@dataclass(frozen=True)
class Candidate:
    """A stored brief with what digest ranking needs that :class:`Brief` does not carry."""

    brief_id: int
    article_id: int
    created_at: datetime
    brief: Brief


@dataclass(frozen=True)
class StoryGroups:
    """Which story each article belongs to, each story's outlet count, and the stories older than
    a given moment: what grouping a digest by story reads from the store (issue 12)."""

    story_of: dict[int, int]
    outlets: dict[int, int]
    older: frozenset[int]


@dataclass(frozen=True)
class CodeCheck:
    """What trying an email verification code found: ``none`` waiting, ``expired``, ``wrong``
    (``left`` tries remain) or ``ok``; ``email`` is the address the code was for."""

    outcome: str
    email: str | None = None
    left: int = 0


# -- stories (issue 12): one brief per story, as stored and as the faces show it -----------------


@dataclass
class Fact:
    text: str  # as the first outlet (the lead, when it has it) wrote it
    outlets: list[str]
    variants: dict[str, str] = field(default_factory=dict)  # outlet -> its sentence, when numbers differ


@dataclass
class Position:
    text: str
    outlets: list[str]
    evidence: str


@dataclass
class StoryActor:
    name: str
    description: str
    positions: list[Position]

    @property
    def conflicting(self) -> bool:
        return len(self.positions) > 1 and len({tuple(p.outlets) for p in self.positions}) > 1


@dataclass
class StoryBrief:
    headline: str
    summary: list[str]
    outlets: list[tuple[str, str | None]]  # (name, link) in order of first report
    actors: list[StoryActor]
    facts: list[Fact]  # every fact, with its outlets; the diff between versions uses these
    conflicts: list[Fact]  # facts whose numbers differ between outlets
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    articles: int = 0
    removed: list[str] = field(default_factory=list)  # what a re-check after a reader's report dropped

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["first_seen"] = self.first_seen.isoformat() if self.first_seen else None
        d["last_seen"] = self.last_seen.isoformat() if self.last_seen else None
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "StoryBrief":
        return cls(
            headline=d["headline"], summary=list(d["summary"]),
            outlets=[(o[0], o[1]) for o in d["outlets"]],
            actors=[StoryActor(a["name"], a["description"], [Position(**p) for p in a["positions"]])
                    for a in d["actors"]],
            facts=[Fact(**f) for f in d["facts"]], conflicts=[Fact(**f) for f in d["conflicts"]],
            first_seen=datetime.fromisoformat(d["first_seen"]) if d.get("first_seen") else None,
            last_seen=datetime.fromisoformat(d["last_seen"]) if d.get("last_seen") else None,
            articles=d.get("articles", 0), removed=list(d.get("removed", [])))


@dataclass(frozen=True)
class StoredStory:
    id: int
    brief: StoryBrief
    version: int
    first_seen: datetime | None
    last_seen: datetime | None


@dataclass(frozen=True)
class MemberRow:
    story_id: int
    article_id: int
    title: str
    text: str
    outlet: str
    url: str | None
    published: datetime | None
    embedding: list[float] | None
    entities: list[str]


@dataclass(frozen=True)
class Follow:
    subscriber_id: int
    chat_id: int | None
    story_id: int
    told: StoryBrief | None
    told_version: int


@dataclass(frozen=True)
class Flag:
    id: int
    story_id: int
    subscriber_id: int | None
    kind: str
    detail: str
    status: str
    resolution: str | None
    created_at: datetime
