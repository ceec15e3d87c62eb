"""What can be followed, and which subscribers a brief goes to: the one place subscriptions are matched."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime

from briefing.config import Config
from briefing.models import Brief, DeliveryMatch, Subscription
from briefing.store import Store


def known_topics(config: Config, store: Store) -> list[str]:
    """Topics of the configured (and stored) sources, sorted, without repeats."""
    topics = {t.casefold() for s in config.sources for t in s.topics}
    topics |= {t.casefold() for s in store.list_sources(active_only=True) for t in (s.topics or [])}
    return sorted(topics)


def known_sources(store: Store) -> list[str]:
    return [s.name for s in store.list_sources(active_only=True)]


def _has_keyword(brief: Brief, keyword: str) -> bool:
    """Whole-word, case-insensitive match in headline, summary and actor names."""
    haystack = " ".join([brief.headline, brief.summary_text, *(a.name for a in brief.actors)])
    return re.search(rf"(?<!\w){re.escape(keyword)}(?!\w)", haystack, re.IGNORECASE) is not None


def keyword_hits(brief: Brief, keywords: Iterable[str]) -> list[str]:
    """The keywords (as followed) that the brief mentions."""
    return [k for k in keywords if _has_keyword(brief, k)]


def delivery_match(store: Store, brief: Brief, subscribed_before: datetime | None = None) -> DeliveryMatch:
    """Whom a brief goes to, for the store to match in SQL (the SQL form of :func:`matches`).

    Topics and sources are matched by the store in one statement; keywords need a whole-word
    search of the brief, done here once per distinct keyword followed (not once per subscriber).
    """
    return DeliveryMatch(topics=tuple(sorted({t.casefold() for t in brief.topics})),
                         source=(brief.source or "").casefold() or None,
                         keywords=tuple(keyword_hits(brief, store.subscription_values("keyword"))),
                         subscribed_before=subscribed_before)


def matches(brief: Brief, subscription: Subscription) -> bool:
    value = subscription.value.casefold()
    if subscription.kind == "topic":
        return value in (t.casefold() for t in brief.topics)
    if subscription.kind == "source":
        return (brief.source or "").casefold() == value
    return _has_keyword(brief, subscription.value)


def filter_briefs(briefs: Iterable[tuple[int, Brief]], subs: Sequence[Subscription]) -> list[tuple[int, Brief]]:
    """The briefs matching any of one subscriber's subscriptions."""
    return [(i, b) for i, b in briefs if any(matches(b, s) for s in subs)]
