"""Plain data shared by the stages: what ingest hands to the store, and a brief."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from datetime import datetime
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
