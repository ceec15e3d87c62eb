"""The daily digest by email: the complete message for one subscriber, and the channel adapter
the digest job sends through (:class:`briefing.digest.job.DigestChannel`)."""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Protocol

from briefing.config import Config
from briefing.deliver.email.render import (
    RenderedDigest,
    Unsubscribe,
    build_message,
    msgid_domain,
    render_digest,
    unsubscribe_mailto,
)
from briefing.deliver.email.unsubscribe import UnsubscribeSigner, unsubscribe_email
from briefing.digest import DigestContent
from briefing.models import Digest, Subscriber
from briefing.store import Store


class MessageSender(Protocol):
    async def send(self, message: EmailMessage) -> None: ...


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
    return render_digest(content, recipient=sub.email or f"subscriber {sub.id}", unsubscribe_url=url)


class EmailDigests:
    """Sends digests as email over one SMTP connection (``smtp``), signed for one-click unsubscribe."""

    name = "email"
    unwanted = "no verified email address any more"

    def __init__(self, store: Store, config: Config, smtp: MessageSender, signer: UnsubscribeSigner) -> None:
        self.store, self.config, self.smtp, self.signer = store, config, smtp, signer

    def wants(self, sub: Subscriber) -> bool:
        return bool(sub.email and sub.email_verified)

    def message_id(self, sub: Subscriber) -> str | None:
        # Recorded before sending: a resend after a crash carries the same Message-ID.
        return make_msgid(idstring=f"d{sub.id}", domain=msgid_domain(self.config.email.from_address))

    async def send(self, digest: Digest, sub: Subscriber, content: DigestContent, now: datetime) -> None:
        message_id = digest.message_id or make_msgid(domain=msgid_domain(self.config.email.from_address))
        await self.smtp.send(digest_message(self.config, self.signer, sub, content, message_id=message_id, now=now))

    def recipient_gone(self, subscriber_id: int, error: Exception) -> None:
        # e.g. 550 no such mailbox: never mail that address again
        unsubscribe_email(self.store, subscriber_id, f"address refused: {error}")
