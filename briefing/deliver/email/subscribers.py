"""Who may receive email: verified addresses only.

* :func:`request_email_verification` (Telegram ``/email you@example.com``) mails a six-digit
  code to the address; it is the only email ever sent to an unverified address.
* :func:`verify_email` (``/verify 123456``) checks it: codes are stored hashed, expire after
  ``email.code_ttl_minutes`` and allow ``email.code_max_attempts`` tries.
* :func:`add_email_subscriber` (``briefing subscriber add``) is the admin's way in: the admin
  vouches for the address, so it is verified at once.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import make_msgid

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from briefing.config import Config
from briefing.deliver.email.digests import MessageSender
from briefing.deliver.email.render import build_message, msgid_domain, render_code
from briefing.deliver.telegram.commands import known_sources, known_topics
from briefing.errors import BriefingError, DeliveryError
from briefing.service.digest import parse_digest_time, zone
from briefing.store import Store
from briefing.store.schema import EmailCode, Subscriber

# Digest time given to a subscriber who verifies an address without having chosen one.
DEFAULT_DIGEST_TIME = "07:00"
# Deliberately simple: one @, no spaces, a dot in the domain. The code round-trip is the real check.
_EMAIL = re.compile(r"^[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[^@\s<>\"',;.]+$")


class EmailRequestError(BriefingError, ValueError):
    """A request about an address cannot be done; the message is meant for the person asking."""


def normalise_email(address: str) -> str:
    """The address trimmed, with a lower-case domain; a clear error if it is not an address."""
    address = address.strip()
    if len(address) > 254 or not _EMAIL.match(address):
        raise EmailRequestError(f"{address[:80]!r} is not an email address (expected name@example.com)")
    local, _, domain = address.rpartition("@")
    return f"{local}@{domain.lower()}"


def _hash(code: str, salt: str | None = None) -> str:
    salt = salt or secrets.token_hex(8)
    return f"{salt}${hashlib.sha256(f'{salt}:{code}'.encode()).hexdigest()}"


def _matches(code: str, stored: str) -> bool:
    salt, _, _ = stored.partition("$")
    return hmac.compare_digest(_hash(code, salt), stored)


def _owner(store: Store, email: str) -> Subscriber | None:
    with store.session() as s:
        return s.scalar(select(Subscriber).where(func.lower(Subscriber.email) == email.lower()))


@dataclass(frozen=True)
class CodeSent:
    email: str
    expires_at: datetime


async def request_email_verification(store: Store, config: Config, subscriber_id: int, address: str, *,
                                     smtp: MessageSender, now: datetime | None = None) -> CodeSent:
    """Mail a fresh six-digit code to ``address`` for this subscriber (replacing any older code)."""
    now = now or datetime.now(timezone.utc)
    cfg = config.email
    if not cfg.enabled:
        raise EmailRequestError("email digests are not enabled on this server")
    email = normalise_email(address)
    owner = _owner(store, email)
    if owner is not None and owner.id != subscriber_id and owner.email_verified:
        raise EmailRequestError("that address is already used by another subscriber")
    with store.session() as s:
        pending = s.scalar(select(EmailCode).where(EmailCode.subscriber_id == subscriber_id))
        if pending is not None and now - pending.created_at < timedelta(seconds=cfg.code_resend_seconds):
            wait = cfg.code_resend_seconds - (now - pending.created_at).total_seconds()
            raise EmailRequestError(f"a code was sent moments ago; you can ask for a new one in {wait:.0f} s")
        if pending is not None:
            s.delete(pending)
            s.flush()
        code = f"{secrets.randbelow(10**6):06d}"
        expires = now + timedelta(minutes=cfg.code_ttl_minutes)
        s.add(EmailCode(subscriber_id=subscriber_id, email=email, code_hash=_hash(code),
                        expires_at=expires, attempts=0, created_at=now))
    message = build_message(subject=f"Your briefing code: {code}", text=render_code(code, cfg.code_ttl_minutes),
                            html=None, sender=cfg.from_address, to=email,
                            message_id=make_msgid(domain=msgid_domain(cfg.from_address)),
                            date=now)
    try:
        await smtp.send(message)
    except DeliveryError as exc:
        _drop_code(store, subscriber_id)  # nothing reached them: let them ask again at once
        raise EmailRequestError(f"could not send the code to {email}: {exc}") from exc
    return CodeSent(email, expires)


def _drop_code(store: Store, subscriber_id: int) -> None:
    with store.session() as s:
        s.execute(delete(EmailCode).where(EmailCode.subscriber_id == subscriber_id))


def verify_email(store: Store, config: Config, subscriber_id: int, code: str, *,
                 now: datetime | None = None) -> Subscriber:
    """Check a code; on success the address becomes the subscriber's verified email.

    Returns the updated subscriber. A subscriber without a digest time gets
    :data:`DEFAULT_DIGEST_TIME` (in their time zone) so the digest actually starts.
    """
    now = now or datetime.now(timezone.utc)
    code = code.strip()
    error: str | None = None
    # Decide inside the transaction, raise after it: a wrong try must be counted (committed).
    with store.session() as s:
        pending = s.scalar(select(EmailCode).where(EmailCode.subscriber_id == subscriber_id))
        if pending is None:
            raise EmailRequestError("no code is waiting: send /email you@example.com first")
        email = pending.email
        if now >= pending.expires_at:
            s.delete(pending)
            error = "that code has expired: send /email again for a new one"
        elif not _matches(code, pending.code_hash):
            pending.attempts += 1
            left = config.email.code_max_attempts - pending.attempts
            if left <= 0:
                s.delete(pending)
                error = "wrong code, and no tries left: send /email again for a new one"
            else:
                error = f"wrong code; {left} {'try' if left == 1 else 'tries'} left"
        else:
            s.delete(pending)
    if error is not None:
        raise EmailRequestError(error)
    return _set_verified(store, subscriber_id, email)


def _set_verified(store: Store, subscriber_id: int, email: str) -> Subscriber:
    try:
        with store.session() as s:
            row = s.get(Subscriber, subscriber_id)
            if row is None:
                raise EmailRequestError("this chat is not registered: send /start first")
            # The code proved the address is theirs: an unverified claim elsewhere (an old,
            # unsubscribed row) gives way; a verified one does not (IntegrityError below).
            for other in s.scalars(select(Subscriber).where(func.lower(Subscriber.email) == email.lower(),
                                                            Subscriber.id != subscriber_id)):
                if not other.email_verified:
                    other.email = None
            s.flush()
            row.email, row.email_verified = email, True
            row.digest_time = row.digest_time or DEFAULT_DIGEST_TIME
            s.flush()
            return row
    except IntegrityError:
        raise EmailRequestError("that address is already used by another subscriber") from None


# -- admin ---------------------------------------------------------------------


def _check_known(kind: str, values: Sequence[str], known: set[str]) -> None:
    unknown = [v for v in values if v.casefold() not in known]
    if unknown:
        choices = ", ".join(sorted(known)) or "none are configured"
        raise EmailRequestError(f"unknown {kind} {', '.join(map(repr, unknown))}; known {kind}s: {choices}")


@dataclass(frozen=True)
class AddedSubscriber:
    subscriber: Subscriber
    created: bool
    subscriptions_added: int


def add_email_subscriber(store: Store, config: Config, address: str, *, topics: Sequence[str] = (),
                         keywords: Sequence[str] = (), sources: Sequence[str] = (),
                         digest_time: str | None = None, timezone_name: str | None = None) -> AddedSubscriber:
    """Add (or update) a verified email subscriber with subscriptions. Validates everything first."""
    email = normalise_email(address)
    if digest_time is not None:
        parse_digest_time(digest_time)
    if timezone_name is not None:
        zone(timezone_name)
    _check_known("topic", topics, set(known_topics(config, store)))
    configured = {s.name for s in config.sources}
    _check_known("source", sources, {n.casefold() for n in {*known_sources(store), *configured}})
    if any(not k.strip() for k in keywords):
        raise EmailRequestError("a keyword cannot be empty")
    existing = _owner(store, email)
    with store.session() as s:
        row = s.get(Subscriber, existing.id) if existing else Subscriber(email=email)
        if existing is None:
            s.add(row)
        row.email_verified, row.active, row.deactivated_reason = True, True, None
        row.timezone = timezone_name or row.timezone or "UTC"
        row.digest_time = digest_time or row.digest_time or DEFAULT_DIGEST_TIME
        s.flush()
        subscriber_id = row.id
    added = sum(store.subscribe(subscriber_id, kind, value)
                for kind, values in (("topic", topics), ("keyword", keywords), ("source", sources))
                for value in values)
    sub = store.get_subscriber(subscriber_id)
    assert sub is not None
    return AddedSubscriber(sub, existing is None, added)
