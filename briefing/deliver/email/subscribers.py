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

from briefing.config import Config
from briefing.deliver.email.digests import MessageSender
from briefing.deliver.email.render import build_message, msgid_domain, render_code
from briefing.matching import known_sources, known_topics
from briefing.errors import BriefingError, DeliveryError, StoreConflict
from briefing.models import Subscriber
from briefing.digest import digest_time_text, zone
from briefing.store import Store

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
    owner = store.subscriber_by_email(email)
    if owner is not None and owner.id != subscriber_id and owner.email_verified:
        raise EmailRequestError("that address is already used by another subscriber")
    code = f"{secrets.randbelow(10**6):06d}"
    expires = now + timedelta(minutes=cfg.code_ttl_minutes)
    wait = store.new_email_code(subscriber_id, email, _hash(code), now=now, expires_at=expires,
                                resend_after=timedelta(seconds=cfg.code_resend_seconds))
    if wait > 0:
        raise EmailRequestError(f"a code was sent moments ago; you can ask for a new one in {wait:.0f} s")
    message = build_message(subject=f"Your briefing code: {code}", text=render_code(code, cfg.code_ttl_minutes),
                            html=None, sender=cfg.from_address, to=email,
                            message_id=make_msgid(domain=msgid_domain(cfg.from_address)),
                            date=now)
    try:
        await smtp.send(message)
    except DeliveryError as exc:
        store.drop_email_code(subscriber_id)  # nothing reached them: let them ask again at once
        raise EmailRequestError(f"could not send the code to {email}: {exc}") from exc
    return CodeSent(email, expires)


def verify_email(store: Store, config: Config, subscriber_id: int, code: str, *,
                 now: datetime | None = None) -> Subscriber:
    """Check a code; on success the address becomes the subscriber's verified email.

    Returns the updated subscriber. A subscriber without a digest time gets
    :data:`DEFAULT_DIGEST_TIME` (in their time zone) so the digest actually starts.
    """
    now = now or datetime.now(timezone.utc)
    code = code.strip()
    # The store decides in one transaction and commits a wrong try before this raises.
    check = store.check_email_code(subscriber_id, lambda stored: _matches(code, stored), now=now,
                                   max_attempts=config.email.code_max_attempts)
    if check.outcome == "none":
        raise EmailRequestError("no code is waiting: send /email you@example.com first")
    if check.outcome == "expired":
        raise EmailRequestError("that code has expired: send /email again for a new one")
    if check.outcome == "wrong" and check.left <= 0:
        raise EmailRequestError("wrong code, and no tries left: send /email again for a new one")
    if check.outcome == "wrong":
        raise EmailRequestError(f"wrong code; {check.left} {'try' if check.left == 1 else 'tries'} left")
    assert check.email is not None
    try:
        # The code proved the address is theirs: an unverified claim elsewhere gives way.
        sub = store.verify_email_address(subscriber_id, check.email, DEFAULT_DIGEST_TIME)
    except StoreConflict:
        raise EmailRequestError("that address is already used by another subscriber") from None
    if sub is None:
        raise EmailRequestError("this chat is not registered: send /start first")
    return sub


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
        digest_time = digest_time_text(digest_time)  # checked, and stored as HH:MM
    if timezone_name is not None:
        zone(timezone_name)
    _check_known("topic", topics, set(known_topics(config, store)))
    configured = {s.name for s in config.sources}
    _check_known("source", sources, {n.casefold() for n in {*known_sources(store), *configured}})
    if any(not k.strip() for k in keywords):
        raise EmailRequestError("a keyword cannot be empty")
    subscriber_id, created = store.save_email_subscriber(email, timezone_name=timezone_name, digest_time=digest_time,
                                                         default_digest_time=DEFAULT_DIGEST_TIME)
    added = sum(store.subscribe(subscriber_id, kind, value)
                for kind, values in (("topic", topics), ("keyword", keywords), ("source", sources))
                for value in values)
    sub = store.get_subscriber(subscriber_id)
    assert sub is not None
    return AddedSubscriber(sub, created, added)
