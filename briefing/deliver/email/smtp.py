"""Sending one message over SMTP with aiosmtplib, and what its failures mean.

aiosmtplib's exceptions are translated at this boundary into our delivery errors, and
:func:`briefing.errors.classify` decides what happens next (RFC 5321 section 4.2.1 reply codes):

* 4xx, a dropped connection, a timeout, refused or missing credentials (535, 530), a refused
  sender address -> :class:`DeliveryError` (try again later, with back-off; an operator can fix
  the configuration meanwhile);
* 5xx for the recipient (``RCPT TO`` refused, e.g. 550 mailbox unknown) -> :class:`RecipientGone`
  (stop mailing that address);
* any other 5xx (the message itself refused, e.g. 554 on ``DATA``) -> :class:`PermanentDeliveryError`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from email.message import EmailMessage

import aiosmtplib

from briefing.config import EmailConfig, secret
from briefing.errors import DeliveryError, PermanentDeliveryError, RecipientGone

log = logging.getLogger(__name__)


def translate(exc: BaseException) -> DeliveryError:
    """Our delivery error for an aiosmtplib (or socket) failure."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused) and exc.recipients:
        exc = exc.recipients[0]
    if isinstance(exc, aiosmtplib.SMTPResponseException) and (
            isinstance(exc, aiosmtplib.SMTPAuthenticationError) or exc.code == 530):
        return DeliveryError(f"SMTP login refused or missing ({exc.code} {exc.message}); check "
                             f"the username and password environment variables")
    if isinstance(exc, aiosmtplib.SMTPSenderRefused):
        # Our From address was refused: a configuration problem to fix, not the reader's fault.
        return DeliveryError(f"SMTP refused the sender {exc.sender} ({exc.code} {exc.message}); "
                             f"check email.from_address")
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        text = f"SMTP {exc.code} {exc.message}".strip()
        if exc.code >= 500 and isinstance(exc, aiosmtplib.SMTPRecipientRefused):
            return RecipientGone(text)
        if exc.code >= 500:
            return PermanentDeliveryError(text)
        return DeliveryError(text)
    if isinstance(exc, (aiosmtplib.SMTPException, OSError, TimeoutError)):
        return DeliveryError(f"SMTP connection failed: {exc.__class__.__name__}: {exc}")
    raise TypeError(f"not an SMTP failure: {exc!r}") from exc


@dataclass
class SmtpSender:
    """Sends messages with the configured server, security and login (from the environment)."""

    config: EmailConfig

    async def send(self, message: EmailMessage) -> None:
        """Send one message; raises a :class:`DeliveryError` subclass on failure."""
        cfg = self.config
        try:
            await aiosmtplib.send(
                message, hostname=cfg.smtp_host, port=cfg.smtp_port,
                username=secret(cfg.username_env), password=secret(cfg.password_env),
                use_tls=cfg.security == "ssl",
                # 'none' must say False: aiosmtplib's default would upgrade opportunistically.
                start_tls=cfg.security == "starttls",
                timeout=cfg.timeout_seconds)
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise translate(exc) from exc
