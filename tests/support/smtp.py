"""The SMTP server for tests: aiosmtpd on 127.0.0.1 with a ``Mailbox`` that records what it accepts."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.support.http import free_port


@dataclass
class Mailbox:
    """An aiosmtpd handler: records every accepted message; ``script`` scripts RCPT replies.

    ``script["a@x.org"] = ["451 4.3.0 try later"]`` answers the next RCPT for that address with
    451, then accepts as usual. With ``login`` set, the server requires that (user, password).
    """

    messages: list[EmailMessage] = field(default_factory=list)
    raw: list[bytes] = field(default_factory=list)  # the bytes as received, headers unparsed
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    script: dict[str, list[str]] = field(default_factory=dict)
    data_replies: list[str] = field(default_factory=list)  # answers to the next DATA commands
    rcpt_calls: int = 0
    login: tuple[bytes, bytes] | None = None
    logins: int = 0  # AUTH attempts

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802, ANN001
        self.rcpt_calls += 1
        queued = self.script.get(address)
        if queued:
            return queued.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802, ANN001
        if self.data_replies:
            return self.data_replies.pop(0)
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.raw.append(envelope.content)
        self.messages.append(msg)  # type: ignore[arg-type]
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"

    def authenticate(self, server, session, envelope, mechanism, auth_data):  # noqa: ANN001, ANN201
        self.logins += 1
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == self.login
        return AuthResult(success=ok)

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


@dataclass
class SmtpServer:
    port: int
    mailbox: Mailbox


@contextmanager
def serve_smtp(mailbox: Mailbox, **options: Any) -> Iterator[SmtpServer]:
    """A real SMTP server on 127.0.0.1 handing what it gets to ``mailbox``, stopped afterwards;
    ``options`` go to aiosmtpd's ``Controller``. A mailbox with a ``login`` requires it (over plain
    SMTP: for tests only)."""
    if mailbox.login is not None:
        options = {"authenticator": mailbox.authenticate, "auth_required": True, "auth_require_tls": False,
                   **options}
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield SmtpServer(port, mailbox)
    finally:
        controller.stop()
