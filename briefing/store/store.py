"""The library's storage API. Every stage talks to the database through :class:`Store`.

One façade composed of one class per domain (as lemon24/reader splits its storage): each holds
that domain's SQL and returns the plain frozen records of :mod:`briefing.models`.
"""

from __future__ import annotations

from briefing.store.articles import Articles
from briefing.store.briefs import Briefs
from briefing.store.outbox import Outbox
from briefing.store.runtime import Runtime
from briefing.store.sources import Sources
from briefing.store.stories import Stories
from briefing.store.subscribers import SUBSCRIPTION_KINDS, Subscribers

__all__ = ["SUBSCRIPTION_KINDS", "Store"]


class Store(Sources, Articles, Briefs, Subscribers, Outbox, Runtime, Stories):
    """A database opened at the newest schema (:meth:`open`), and every query the library makes."""
