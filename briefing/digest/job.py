"""Recording, claiming and sending daily digests: the job ``briefing run`` schedules.

Each run of :func:`send_due_digests` does two things:

1. **Record.** For every active subscriber whose local digest time has come, one ``digests``
   row per channel (email, Telegram) is written *before anything is sent*: local date, the
   period covered, the brief ids, and the Message-ID. The unique (subscriber, local date,
   channel) constraint means a restart, a second run or a second instance never records a day
   twice. A day with no matching stories is recorded as ``empty`` and sends nothing (unless
   ``email.send_empty_digest``).
2. **Send.** Due ``pending`` rows are claimed (``sending``), composed from exactly the recorded
   brief ids, and handed to the channel's adapter (:class:`DigestChannel`: the email one in
   :mod:`briefing.deliver.email.digests`, the Telegram one in :mod:`briefing.deliver.telegram.digest`),
   which renders and sends them; the outcome is stored on the row: ``sent``; back to ``pending`` with
   ``next_attempt_at`` after a 4xx or a connection failure (exponential back-off, for as long as
   the digest is younger than ``email.retry_max_age_hours``: an outage of hours loses nothing);
   ``failed`` at once on a 5xx, which also stops email to that address.

A process that dies between claiming and recording the result leaves the row ``sending``;
after ``email.sending_stale_seconds`` it is claimed again and sent with the *same*
Message-ID, so the only possible duplicate (the server accepted the message just before the
crash) is one that mail systems recognise as the same message. Nothing is ever dropped.

Timing (see :func:`briefing.digest.schedule.latest_slot`): a digest is due at the subscriber's
``digest_time`` in their ``timezone``, DST-correct. After downtime, a digest whose time passed
less than ``email.catch_up_hours`` ago is sent late; an older one is skipped for that day, and
its stories go into the next digest (periods are contiguous), so nothing is lost.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, timezone
from typing import Protocol, TypeVar

from briefing.config import Config
from briefing.digest.compose import FIRST_DIGEST_HOURS, CandidatePool, DigestContent, compose
from briefing.digest.schedule import latest_slot, zone
from briefing.errors import Action, BriefingError, RateLimited, classify
from briefing.models import Digest, Subscriber
from briefing.store import Store

log = logging.getLogger(__name__)

T = TypeVar("T")
# Runs a blocking call off the event loop: the process's one executor (briefing.blocking).
Blocking = Callable[..., Awaitable[T]]


class DigestChannel(Protocol):
    """What a channel provides for digests: whom it reaches, and how it sends one.

    Each channel package has one (``briefing.deliver.email.digests.EmailDigests``,
    ``briefing.deliver.telegram.digest.TelegramDigests``); the service hands them to the job.
    """

    name: str  # the ``digests.channel`` value: "email" or "telegram"
    unwanted: str  # why a recorded digest is not sent when :meth:`wants` turns False

    def wants(self, sub: Subscriber) -> bool:
        """Whether this subscriber gets digests on this channel now."""
        ...

    def message_id(self, sub: Subscriber) -> str | None:
        """The id recorded with a new digest before it is sent (email: its Message-ID)."""
        ...

    async def send(self, digest: Digest, sub: Subscriber, content: DigestContent, now: datetime) -> None:
        """Render and send; raise :class:`briefing.errors.DeliveryError` subclasses on failure."""
        ...

    def recipient_gone(self, subscriber_id: int, error: Exception) -> None:
        """The channel said the recipient is gone for good (blocked, no such mailbox)."""
        ...


@dataclass
class DigestReport:
    """What one run did; counts are digests (one subscriber, one day, one channel)."""

    recorded: int = 0
    empty: int = 0
    missed: int = 0  # local time passed longer ago than email.catch_up_hours: skipped that day
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


# -- recording -----------------------------------------------------------------


def _recorded(store: Store, now: datetime) -> set[tuple[int, str, str]]:
    """(subscriber, local date, channel) of every digest recorded for the local dates around ``now``.

    One query per run instead of one per subscriber; local dates are within a day of UTC's.
    """
    today = now.date()
    return store.recorded_digests([(today + timedelta(days=d)).isoformat() for d in (-2, -1, 0, 1)])


def record_due(store: Store, config: Config, now: datetime, *, channels: Sequence[DigestChannel],
               report: DigestReport, composed: dict[int, DigestContent] | None = None,
               pool: CandidatePool | None = None) -> None:
    """Record every digest whose time has come and that is not recorded yet (step 1).

    The due digests' subscriptions and previous periods are read together (a few queries per
    run), and the briefs once per distinct period (``pool``), not once per subscriber (issue 13).
    What was composed for each recorded row goes into ``composed`` (by digest id), so sending it
    does not compose it again.
    """
    catch_up = timedelta(hours=config.email.catch_up_hours)
    recorded = _recorded(store, now)
    due: list[tuple[Subscriber, DigestChannel, date]] = []
    for sub in store.active_subscribers():
        if not sub.digest_time:
            continue
        wanted = [channel for channel in channels if channel.wants(sub)]
        if not wanted:
            continue
        try:
            slot = latest_slot(now, sub.digest_time, sub.timezone)
        except BriefingError as exc:  # a bad stored time or zone must not stop everyone else's digest
            report.errors.append(f"subscriber {sub.id}: {exc}")
            continue
        for channel in wanted:
            if (sub.id, slot.digest_date.isoformat(), channel.name) in recorded:
                continue
            if slot.missed(catch_up):
                report.missed += 1
                continue
            due.append((sub, channel, slot.digest_date))
    if not due:
        return
    ids = sorted({sub.id for sub, _, _ in due})
    subscriptions, ends = store.subscriptions_of(ids), store.digest_period_ends(ids)
    pool = pool or CandidatePool(store)
    for sub, channel, day in due:
        start = ends.get((sub.id, channel.name)) or now - timedelta(hours=FIRST_DIGEST_HOURS)
        content = compose(store, digest_date=day, period_start=start, period_end=now,
                          subs=subscriptions.get(sub.id, []), now=now, max_items=config.email.max_briefs,
                          subscriber_name=sub.display_name, pool=pool, timezone=sub.timezone)
        digest_id = _record_one(store, config, sub, channel, content, now, report)
        if digest_id is not None and composed is not None:
            composed[digest_id] = content


def _record_one(store: Store, config: Config, sub: Subscriber, channel: DigestChannel, content: DigestContent,
                now: datetime, report: DigestReport) -> int | None:
    empty = content.is_empty and not config.email.send_empty_digest
    digest_id = store.record_digest(
        subscriber_id=sub.id, digest_date=content.digest_date.isoformat(), channel=channel.name,
        status="empty" if empty else "pending", brief_ids=content.brief_ids,
        period_start=content.period_start, period_end=now, message_id=channel.message_id(sub))
    if digest_id is None:  # that subscriber x day x channel is already recorded
        return None
    report.recorded += 1
    report.empty += empty
    return digest_id


# -- claiming and recording outcomes --------------------------------------------


def claim_next(store: Store, channels: tuple[str, ...], now: datetime, stale_after: timedelta) -> Digest | None:
    """Take the oldest due ``pending`` digest (or a stale ``sending`` one) for sending.

    One at a time, so a crash strands at most the one digest in flight (until it goes stale).
    """
    claimed = claim_next_for(store, channels, now, stale_after)
    return None if claimed is None else claimed[0]


def claim_next_for(store: Store, channels: tuple[str, ...], now: datetime, stale_after: timedelta, *,
                   digest_id: int | None = None,
                   below: int | None = None) -> tuple[Digest, Subscriber | None] | None:
    """:func:`claim_next` and, in the same transaction, the digest's subscriber as they are now.

    ``digest_id`` claims that digest only if it is due (a primary-key lookup: the run claims what
    it just recorded without sorting every pending digest each time, issue 13); ``below`` only
    looks at digests recorded before that id.
    """
    return store.claim_digest(channels, now, stale_after, digest_id=digest_id, below=below)


def backoff(config: Config, attempts: int) -> timedelta:
    cfg = config.email
    return timedelta(seconds=min(cfg.retry_base_seconds * 2 ** max(attempts - 1, 0), cfg.retry_max_seconds))


def _on_error(job: DigestJob, row: Digest, exc: Exception, now: datetime, report: DigestReport) -> None:
    """Store what happened on the row, and act on it the way :func:`classify` says."""
    store, config = job.store, job.config
    action, error = classify(exc), f"{exc.__class__.__name__}: {exc}"[:2000]
    report.errors.append(f"digest {row.id} ({row.channel}, subscriber {row.subscriber_id}): {error}")
    # Age from when the digest was recorded (period_end is that moment, on the job's clock).
    still_news = now - (row.period_end or row.created_at) < timedelta(hours=config.email.retry_max_age_hours)
    if action is Action.RETRY_LATER and still_news:
        wait = (timedelta(seconds=exc.retry_after) if isinstance(exc, RateLimited)
                else backoff(config, row.attempts))
        store.update_digest(row.id, status="pending", next_attempt_at=now + wait, last_error=error)
        report.retrying += 1
        return
    if action is Action.RETRY_LATER:
        error = f"gave up: older than email.retry_max_age_hours ({config.email.retry_max_age_hours:g} h): {error}"
    store.update_digest(row.id, status="failed", last_error=error[:2000])
    report.failed += 1
    channel = job.channel(row.channel)
    if action is Action.DEACTIVATE_RECIPIENT and channel is not None:
        channel.recipient_gone(row.subscriber_id, exc)  # e.g. 550 no such mailbox, a blocked bot


# -- sending -------------------------------------------------------------------


@dataclass
class DigestJob:
    """The collaborators of one run: the store, the config, and the channels to send through."""

    store: Store
    config: Config
    channels: Sequence[DigestChannel] = ()
    # What this run composed when it recorded each digest (by digest id): sent without composing
    # it again. Digests recorded by an earlier run (retries) are composed from their brief ids.
    composed: dict[int, DigestContent] = field(default_factory=dict)
    pool: CandidatePool | None = None

    def content_of(self, row: Digest, sub: Subscriber, now: datetime) -> DigestContent:
        content = self.composed.pop(row.id, None)
        if content is not None and content.brief_ids == list(row.brief_ids or []):
            # As a retry composes it: from the recorded ids alone, which cannot know what was left
            # out beyond email.max_briefs, so every send of one digest reads the same.
            return replace(content, omitted=0, subscriber_name=sub.display_name)
        return compose(self.store, digest_date=date.fromisoformat(row.digest_date),
                       period_start=row.period_start or now, period_end=row.period_end or now,
                       subs=self.store.subscriptions(sub.id), now=row.period_end or now,
                       max_items=self.config.email.max_briefs, brief_ids=row.brief_ids,
                       subscriber_name=sub.display_name, pool=self.pool, timezone=sub.timezone)

    def channel(self, name: str) -> DigestChannel | None:
        return next((c for c in self.channels if c.name == name), None)

    async def send(self, row: Digest, now: datetime, sub: Subscriber | None = None) -> None:
        sub = sub if sub is not None else self.store.get_subscriber(row.subscriber_id)
        if sub is None or not sub.active:
            raise NotSubscribed("subscriber is gone or inactive")
        channel = self.channel(row.channel)
        if channel is None or not channel.wants(sub):
            raise NotSubscribed(channel.unwanted if channel is not None else f"no {row.channel} channel")
        await channel.send(row, sub, self.content_of(row, sub, now), now)


class NotSubscribed(BriefingError, LookupError):
    """The recipient is unknown, or stopped wanting this digest after it was recorded."""


async def _send_claimed(job: DigestJob, row: Digest, sub: Subscriber | None, now: datetime,
                        report: DigestReport) -> None:
    try:
        if sub is None or not sub.active:
            raise NotSubscribed("subscriber is gone or inactive")
        await job.send(row, now, sub)
    except NotSubscribed as exc:
        job.store.update_digest(row.id, status="failed", last_error=str(exc))
        report.failed += 1
        return
    except Exception as exc:  # noqa: BLE001 - classify() decides; one digest must not stop the rest
        if classify(exc) is Action.FAIL:
            log.exception("digest %s failed unexpectedly", row.id)
        _on_error(job, row, exc, now, report)
        return
    job.store.mark_digest_sent(row, now)
    report.sent += 1


def _claims(job: DigestJob, channels: tuple[str, ...], now: datetime,
            stale: timedelta) -> Iterator[tuple[Digest, Subscriber | None]]:
    """Oldest first: due digests of earlier runs, then the ones this run recorded, each claimed
    by its id, then whatever else became due (a retry due meanwhile, a stale claim)."""
    recorded = sorted(job.composed)
    first = recorded[0] if recorded else None
    while (claimed := claim_next_for(job.store, channels, now, stale, below=first)) is not None:
        yield claimed
    for digest_id in recorded:
        if (claimed := claim_next_for(job.store, channels, now, stale, digest_id=digest_id)) is not None:
            yield claimed
    while (claimed := claim_next_for(job.store, channels, now, stale)) is not None:
        yield claimed


async def run_digests(job: DigestJob, now: datetime | None = None, *, blocking: Blocking) -> DigestReport:
    """Record what is due, then send what is claimable. Safe to call as often as you like.

    ``blocking`` runs the recording (database and CPU work) off the event loop the bot shares.
    """
    now = now or datetime.now(timezone.utc)
    report = DigestReport()
    job.pool = job.pool or CandidatePool(job.store)
    await blocking(record_due, job.store, job.config, now, channels=job.channels,
                   report=report, composed=job.composed, pool=job.pool)
    channels = tuple(c.name for c in job.channels)
    if channels:
        stale = timedelta(seconds=job.config.email.sending_stale_seconds)
        for claimed in _claims(job, channels, now, stale):
            await _send_claimed(job, *claimed, now, report)
    job.composed.clear()
    if report.recorded or report.sent or report.failed or report.retrying:
        log.info("digests: %s recorded (%s empty), %s sent, %s retrying, %s failed, %s missed",
                 report.recorded, report.empty, report.sent, report.retrying, report.failed, report.missed)
    return report


# -- preview -----------------------------------------------------------------------


def find_subscriber(store: Store, ref: str) -> Subscriber:
    """A subscriber by id or email address; a clear error otherwise."""
    sub = store.get_subscriber(int(ref)) if ref.strip().isdigit() else store.subscriber_by_email(ref.strip())
    if sub is None:
        raise NotSubscribed(f"no subscriber with id or email {ref!r}")
    return sub


def preview_content(store: Store, config: Config, subscriber_ref: str | None = None,
                    now: datetime | None = None) -> tuple[DigestContent, Subscriber | None]:
    """What a subscriber's digest would hold now (since their last email digest, or the last 24
    hours), and the subscriber; nothing is recorded or sent.

    Without a subscriber: every brief of the last 24 hours, as if subscribed to everything.
    """
    now = now or datetime.now(timezone.utc)
    sub = find_subscriber(store, subscriber_ref) if subscriber_ref else None
    first = now - timedelta(hours=FIRST_DIGEST_HOURS)
    start = (store.previous_period_end(sub.id, "email") or first) if sub else first
    tz_name = sub.timezone if sub else "UTC"
    content = compose(store, digest_date=now.astimezone(zone(tz_name)).date(), period_start=start, period_end=now,
                      subs=store.subscriptions(sub.id) if sub else None, now=now,
                      max_items=config.email.max_briefs, subscriber_name=sub.display_name if sub else None,
                      timezone=tz_name)
    return content, sub
