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
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

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


class _Client(aiosmtplib.SMTP):
    """aiosmtplib's client, noting whether the message itself (``DATA``) went out on the wire."""

    data_started = False

    async def data(self, message: str | bytes, /, **kwargs: Any) -> aiosmtplib.SMTPResponse:
        self.data_started = True
        return await super().data(message, **kwargs)


def _closing(exc: BaseException) -> bool:
    """The server dropped the connection, or said it is closing it: 421 (RFC 5321 section 3.8),
    e.g. an idle timeout or a messages-per-connection limit, read as the reply to the next command."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused) and exc.recipients:
        exc = exc.recipients[0]
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return exc.code == 421
    return isinstance(exc, (aiosmtplib.SMTPServerDisconnected, ConnectionError))


@dataclass
class SmtpSender:
    """Sends messages with the configured server, security and login (from the environment).

    Outside ``async with`` each :meth:`send` opens and closes its own connection. Inside
    ``async with sender:`` (one digest run) the connection, its TLS handshake and its login are
    made once and reused for every message (issue 13); the block closes it with ``QUIT``.

    A reused connection the server has dropped (an idle timeout, a restart) is noticed when the
    next message starts; if that happens before ``DATA`` the server has not got the message, so
    it is sent again at once on a new connection: nothing lost, nothing twice. A drop during or
    after ``DATA`` may have delivered it, so that message is reported as a transient failure
    (sent again later with the same Message-ID, as before) and the next message reconnects.
    A reply that refuses one message (4xx, 5xx) resets the transaction (``RSET``) and keeps the
    connection for the next one. When connecting or logging in fails, the rest of the block
    fails fast with the same error instead of waiting out a timeout per message.
    """

    config: EmailConfig
    connections: int = field(default=0, init=False)  # connections opened (each: TLS, login)
    _client: _Client | None = field(default=None, init=False, repr=False)
    _reuse: bool = field(default=False, init=False, repr=False)
    _down: str | None = field(default=None, init=False, repr=False)

    async def __aenter__(self) -> "SmtpSender":
        self._reuse, self._down = True, None
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._reuse, self._down = False, None
        await self.close()

    async def send(self, message: EmailMessage) -> None:
        """Send one message; raises a :class:`DeliveryError` subclass on failure."""
        try:
            for _ in range(2):  # a second time only after a drop before DATA on a reused connection
                client, reused = await self._connection()
                client.data_started = False
                try:
                    await client.send_message(message)
                    return
                except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
                    closing = _closing(exc)
                    replied = isinstance(exc, (aiosmtplib.SMTPResponseException, aiosmtplib.SMTPRecipientsRefused))
                    if closing or not replied or not client.is_connected:
                        # A plain refusal keeps the connection (aiosmtplib sent RSET); a drop, a
                        # timeout or a closing server leaves nothing to reuse.
                        self._forget()
                    if closing and reused and not client.data_started:
                        log.info("SMTP server closed the connection (%s); reconnecting", exc)
                        continue
                    raise translate(exc) from exc
        finally:
            if not self._reuse:
                await self.close()

    async def _connection(self) -> tuple[_Client, bool]:
        """The open connection (reused: True), or a new one: connected, TLS, logged in."""
        if self._client is not None and self._client.is_connected:
            return self._client, True
        if self._down is not None:
            raise DeliveryError(f"{self._down} (not tried again in this run)")
        cfg = self.config
        client = _Client(hostname=cfg.smtp_host, port=cfg.smtp_port,
                         username=secret(cfg.username_env), password=secret(cfg.password_env),
                         use_tls=cfg.security == "ssl",
                         # 'none' must say False: aiosmtplib's default would upgrade opportunistically.
                         start_tls=cfg.security == "starttls",
                         timeout=cfg.timeout_seconds)
        try:
            await client.connect()
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            client.close()
            error = translate(exc)
            if self._reuse:
                self._down = str(error)
            raise error from exc
        self.connections += 1
        self._client = client
        return client, False

    def _forget(self) -> None:
        if self._client is not None:
            self._client.close()
        self._client = None

    async def close(self) -> None:
        """Say QUIT and close the connection, if one is open."""
        client, self._client = self._client, None
        if client is None:
            return
        try:
            if client.is_connected:
                await client.quit()
        except (aiosmtplib.SMTPException, OSError, TimeoutError):
            pass
        finally:
            client.close()
