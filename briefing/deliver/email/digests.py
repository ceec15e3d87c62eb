"""Recording and sending daily digests: the job ``briefing run`` schedules.

Each run of :func:`send_due_digests` does two things:

1. **Record.** For every active subscriber whose local digest time has come, one ``digests``
   row per channel (email, Telegram) is written *before anything is sent*: local date, the
   period covered, the brief ids, and the Message-ID. The unique (subscriber, local date,
   channel) constraint means a restart, a second run or a second instance never records a day
   twice. A day with no matching stories is recorded as ``empty`` and sends nothing (unless
   ``email.send_empty_digest``).
2. **Send.** Due ``pending`` rows are claimed (``sending``), rendered from exactly the recorded
   brief ids, and sent; the outcome is stored on the row: ``sent``; back to ``pending`` with
   ``next_attempt_at`` after a 4xx or a connection failure (exponential back-off, for as long as
   the digest is younger than ``email.retry_max_age_hours``: an outage of hours loses nothing);
   ``failed`` at once on a 5xx, which also stops email to that address.

A process that dies between claiming and recording the result leaves the row ``sending``;
after ``email.sending_stale_seconds`` it is claimed again and sent with the *same*
Message-ID, so the only possible duplicate (the server accepted the message just before the
crash) is one that mail systems recognise as the same message. Nothing is ever dropped.

Timing (see :func:`briefing.service.digest.latest_slot`): a digest is due at the subscriber's
``digest_time`` in their ``timezone``, DST-correct. After downtime, a digest whose time passed
less than ``email.catch_up_hours`` ago is sent late; an older one is skipped for that day, and
its stories go into the next digest (periods are contiguous), so nothing is lost.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Protocol

from telegram.error import TelegramError

from briefing.config import Config
from briefing.deliver.email.render import (
    RenderedDigest,
    Unsubscribe,
    build_message,
    msgid_domain,
    render_digest,
    telegram_digest,
    unsubscribe_mailto,
)
from briefing.deliver.email.smtp import SmtpSender
from briefing.deliver.email.unsubscribe import UnsubscribeSigner, unsubscribe_email
from briefing.deliver.telegram.flood import delivery_error
from briefing.errors import Action, BriefingError, RateLimited, classify
from briefing.service.digest import (
    FIRST_DIGEST_HOURS,
    CandidatePool,
    DigestContent,
    compose,
    latest_slot,
    zone,
)
from briefing.models import Digest, Subscriber
from briefing.store import Store

log = logging.getLogger(__name__)

CHANNELS = ("email", "telegram")
SendHtml = Callable[[int, str], Awaitable[object]]


class MessageSender(Protocol):
    async def send(self, message: EmailMessage) -> None: ...


class HasStoreAndConfig(Protocol):
    """What the job needs from the service's :class:`briefing.service.App`."""

    config: Config
    store: Store


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


def _channels_for(sub: Subscriber, config: Config, telegram_on: bool) -> list[str]:
    out = []
    if config.email.enabled and sub.email and sub.email_verified:
        out.append("email")
    if telegram_on and sub.digest_telegram and sub.telegram_chat_id is not None:
        out.append("telegram")
    return out


def _recorded(store: Store, now: datetime) -> set[tuple[int, str, str]]:
    """(subscriber, local date, channel) of every digest recorded for the local dates around ``now``.

    One query per run instead of one per subscriber; local dates are within a day of UTC's.
    """
    today = now.date()
    return store.recorded_digests([(today + timedelta(days=d)).isoformat() for d in (-2, -1, 0, 1)])


def record_due(store: Store, config: Config, now: datetime, *, telegram_on: bool,
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
    due: list[tuple[Subscriber, str, date]] = []
    for sub in store.active_subscribers():
        if not sub.digest_time:
            continue
        channels = _channels_for(sub, config, telegram_on)
        if not channels:
            continue
        try:
            slot = latest_slot(now, sub.digest_time, sub.timezone)
        except BriefingError as exc:  # a bad stored time or zone must not stop everyone else's digest
            report.errors.append(f"subscriber {sub.id}: {exc}")
            continue
        for channel in channels:
            if (sub.id, slot.digest_date.isoformat(), channel) in recorded:
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
        start = ends.get((sub.id, channel)) or now - timedelta(hours=FIRST_DIGEST_HOURS)
        content = compose(store, digest_date=day, period_start=start, period_end=now,
                          subs=subscriptions.get(sub.id, []), now=now, max_items=config.email.max_briefs,
                          subscriber_name=sub.display_name, pool=pool)
        digest_id = _record_one(store, config, sub, channel, content, now, report)
        if digest_id is not None and composed is not None:
            composed[digest_id] = content


def _record_one(store: Store, config: Config, sub: Subscriber, channel: str, content: DigestContent,
                now: datetime, report: DigestReport) -> int | None:
    empty = content.is_empty and not config.email.send_empty_digest
    msgid = make_msgid(idstring=f"d{sub.id}", domain=msgid_domain(config.email.from_address))
    digest_id = store.record_digest(
        subscriber_id=sub.id, digest_date=content.digest_date.isoformat(), channel=channel,
        status="empty" if empty else "pending", brief_ids=content.brief_ids,
        period_start=content.period_start, period_end=now, message_id=msgid if channel == "email" else None)
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


def _on_error(store: Store, config: Config, row: Digest, exc: Exception, now: datetime,
              report: DigestReport) -> None:
    """Store what happened on the row, and act on it the way :func:`classify` says."""
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
    if action is Action.DEACTIVATE_RECIPIENT:
        if row.channel == "email":  # e.g. 550 no such mailbox: never mail that address again
            unsubscribe_email(store, row.subscriber_id, f"address refused: {exc}")
        else:
            store.deactivate_subscriber(row.subscriber_id, f"telegram: {exc}")


# -- sending -------------------------------------------------------------------


@dataclass
class DigestJob:
    """The collaborators of one run: the store, the config, and the two ways to send."""

    store: Store
    config: Config
    smtp: MessageSender | None = None
    signer: UnsubscribeSigner | None = None
    send_html: SendHtml | None = None
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
                       subscriber_name=sub.display_name, pool=self.pool)

    async def send(self, row: Digest, now: datetime, sub: Subscriber | None = None) -> None:
        sub = sub if sub is not None else self.store.get_subscriber(row.subscriber_id)
        if sub is None or not sub.active:
            raise NotSubscribed("subscriber is gone or inactive")
        if row.channel == "email":
            await self._send_email(row, sub, now)
        else:
            await self._send_telegram(row, sub, now)

    async def _send_email(self, row: Digest, sub: Subscriber, now: datetime) -> None:
        if not (sub.email and sub.email_verified) or self.smtp is None or self.signer is None:
            raise NotSubscribed("no verified email address any more")
        message = digest_message(self.config, self.signer, sub, self.content_of(row, sub, now),
                                 message_id=row.message_id or make_msgid(domain=msgid_domain(self.config.email.from_address)),
                                 now=now)
        await self.smtp.send(message)

    async def _send_telegram(self, row: Digest, sub: Subscriber, now: datetime) -> None:
        if self.send_html is None or sub.telegram_chat_id is None or not sub.digest_telegram:
            raise NotSubscribed("no Telegram digest any more")
        parts = telegram_digest(self.content_of(row, sub, now), zone(sub.timezone))
        # message_id counts the parts already delivered, so a retry never repeats a part.
        done = int(row.message_id or 0)
        for i in range(done, len(parts)):
            try:
                await self.send_html(sub.telegram_chat_id, parts[i])
            except TelegramError as exc:  # 403 blocked, 429 flood, ...: as the bot's own sender reads them
                raise delivery_error(exc) from exc
            self.store.update_digest(row.id, message_id=str(i + 1))


class NotSubscribed(BriefingError, LookupError):
    """The recipient is unknown, or stopped wanting this digest after it was recorded."""


def digest_message(config: Config, signer: UnsubscribeSigner, sub: Subscriber, content: DigestContent,
                   *, message_id: str, now: datetime) -> EmailMessage:
    """The complete email of one digest for one subscriber."""
    assert sub.email is not None
    rendered = render_for(config, signer, sub, content)
    mailto = unsubscribe_mailto(config.email.unsubscribe_mailto or config.email.from_address,
                                sub.id, signer.token(sub.id, sub.email))
    return build_message(subject=rendered.subject, text=rendered.text, html=rendered.html,
                         sender=config.email.from_address, to=sub.email, message_id=message_id, date=now,
                         unsubscribe=Unsubscribe(url=signer.url(sub.id, sub.email), mailto=mailto))


def render_for(config: Config, signer: UnsubscribeSigner, sub: Subscriber, content: DigestContent) -> RenderedDigest:
    url = signer.url(sub.id, sub.email) if sub.email else None
    return render_digest(content, recipient=sub.email or f"subscriber {sub.id}", unsubscribe_url=url,
                         tz=zone(sub.timezone))


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
        _on_error(job.store, job.config, row, exc, now, report)
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


async def run_digests(job: DigestJob, now: datetime | None = None) -> DigestReport:
    """Record what is due, then send what is claimable. Safe to call as often as you like."""
    now = now or datetime.now(timezone.utc)
    report = DigestReport()
    job.pool = job.pool or CandidatePool(job.store)
    # Composing every due digest is database and CPU work: off the event loop the bot shares.
    await asyncio.to_thread(record_due, job.store, job.config, now, telegram_on=job.send_html is not None,
                            report=report, composed=job.composed, pool=job.pool)
    channels = tuple(c for c, on in (("email", job.smtp is not None), ("telegram", job.send_html is not None)) if on)
    if channels:
        stale = timedelta(seconds=job.config.email.sending_stale_seconds)
        for claimed in _claims(job, channels, now, stale):
            await _send_claimed(job, *claimed, now, report)
    job.composed.clear()
    if report.recorded or report.sent or report.failed or report.retrying:
        log.info("digests: %s recorded (%s empty), %s sent, %s retrying, %s failed, %s missed",
                 report.recorded, report.empty, report.sent, report.retrying, report.failed, report.missed)
    return report


async def send_due_digests(app: HasStoreAndConfig, now: datetime | None = None, *,
                           send_html: SendHtml | None = None, smtp: MessageSender | None = None,
                           signer: UnsubscribeSigner | None = None) -> DigestReport:
    """The scheduled job: record and send every digest that is due at ``now`` (default: now).

    Email is sent when ``email.enabled`` (raises :class:`ConfigError` if the unsubscribe secret
    is unset); Telegram digests when ``send_html(chat_id, html)`` is given (the bot's
    ``TelegramBot.send_html``).
    """
    cfg = app.config.email
    async with AsyncExitStack() as stack:
        if cfg.enabled:
            # One SMTP connection (TLS and login once) for the whole run (issue 13).
            smtp = smtp or await stack.enter_async_context(SmtpSender(cfg))
            signer = signer or UnsubscribeSigner.from_config(cfg)
        else:
            smtp = signer = None
        job = DigestJob(app.store, app.config, smtp=smtp, signer=signer, send_html=send_html)
        return await run_digests(job, now)


# -- preview -----------------------------------------------------------------------


@dataclass(frozen=True)
class DigestPreview:
    """What a digest would contain and look like right now; nothing is recorded or sent."""

    content: DigestContent
    rendered: RenderedDigest
    subscriber: Subscriber | None
    telegram: list[str]


def find_subscriber(store: Store, ref: str) -> Subscriber:
    """A subscriber by id or email address; a clear error otherwise."""
    sub = store.get_subscriber(int(ref)) if ref.strip().isdigit() else store.subscriber_by_email(ref.strip())
    if sub is None:
        raise NotSubscribed(f"no subscriber with id or email {ref!r}")
    return sub


def preview_digest(store: Store, config: Config, subscriber_ref: str | None = None,
                   now: datetime | None = None) -> DigestPreview:
    """The digest a subscriber would get now (since their last email digest, or the last 24 hours).

    Without a subscriber: every brief of the last 24 hours, as if subscribed to everything.
    Unsubscribe links are signed with the real key when it is set, else a throwaway one.
    """
    now = now or datetime.now(timezone.utc)
    sub = find_subscriber(store, subscriber_ref) if subscriber_ref else None
    first = now - timedelta(hours=FIRST_DIGEST_HOURS)
    start = (store.previous_period_end(sub.id, "email") or first) if sub else first
    tz_name = sub.timezone if sub else "UTC"
    content = compose(store, digest_date=now.astimezone(zone(tz_name)).date(), period_start=start, period_end=now,
                      subs=store.subscriptions(sub.id) if sub else None, now=now,
                      max_items=config.email.max_briefs, subscriber_name=sub.display_name if sub else None)
    signer = UnsubscribeSigner.from_config(config.email, ephemeral_ok=True)
    if sub is not None:
        rendered = render_for(config, signer, sub, content)
    else:
        rendered = render_digest(content, recipient="you", unsubscribe_url=None, tz=zone(tz_name))
    return DigestPreview(content, rendered, sub, telegram_digest(content, zone(tz_name)))
