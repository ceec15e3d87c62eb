"""The scheduled digest job, wired: the channels that are on, over the one executor."""

from __future__ import annotations

from contextlib import AsyncExitStack
from datetime import datetime
from typing import Protocol

from briefing.blocking import blocking as run_blocking
from briefing.config import Config
from briefing.deliver.email import SmtpSender, UnsubscribeSigner
from briefing.deliver.email.digests import EmailDigests, MessageSender
from briefing.deliver.telegram.digest import SendHtml, TelegramDigests
from briefing.digest import DigestChannel, DigestJob, DigestReport, run_digests
from briefing.store import Store


class HasStoreAndConfig(Protocol):
    """What the job needs from the :class:`briefing.app.App`."""

    config: Config
    store: Store


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
        channels: list[DigestChannel] = []
        if cfg.enabled:
            # One SMTP connection (TLS and login once) for the whole run (issue 13).
            smtp = smtp or await stack.enter_async_context(SmtpSender(cfg))
            signer = signer or UnsubscribeSigner.from_config(cfg)
            channels.append(EmailDigests(app.store, app.config, smtp, signer))
        if send_html is not None:
            channels.append(TelegramDigests(app.store, send_html))
        return await run_digests(DigestJob(app.store, app.config, channels), now, blocking=run_blocking)
