"""Which subscribers a brief goes to: the one place subscriptions are matched."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from briefing.models import Brief
from briefing.store.schema import Subscription


def _has_keyword(brief: Brief, keyword: str) -> bool:
    """Whole-word, case-insensitive match in headline, summary and actor names."""
    haystack = " ".join([brief.headline, brief.summary_text, *(a.name for a in brief.actors)])
    return re.search(rf"(?<!\w){re.escape(keyword)}(?!\w)", haystack, re.IGNORECASE) is not None


def matches(brief: Brief, subscription: Subscription) -> bool:
    value = subscription.value.casefold()
    if subscription.kind == "topic":
        return value in (t.casefold() for t in brief.topics)
    if subscription.kind == "source":
        return (brief.source or "").casefold() == value
    return _has_keyword(brief, subscription.value)


def matching_subscribers(brief: Brief, subscriptions: dict[int, list[Subscription]]) -> list[int]:
    """Ids of subscribers with at least one subscription that matches the brief."""
    return [sid for sid, subs in subscriptions.items() if any(matches(brief, sub) for sub in subs)]


def filter_briefs(briefs: Iterable[tuple[int, Brief]], subs: Sequence[Subscription]) -> list[tuple[int, Brief]]:
    """The briefs matching any of one subscriber's subscriptions."""
    return [(i, b) for i, b in briefs if any(matches(b, s) for s in subs)]
