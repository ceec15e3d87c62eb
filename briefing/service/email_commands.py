"""Telegram commands for the email digest: ``/email you@example.com`` and ``/verify 123456``.

They join the two channels (a Telegram command that sends email), so they live in the service,
the one place that wires channels together; registered with the bot in
:func:`briefing.service.bot_commands.bot_commands`. The handlers only parse and answer; the work is
in :mod:`briefing.deliver.email.subscribers`.
"""

from __future__ import annotations

from briefing.deliver.email.smtp import SmtpSender
from briefing.deliver.email.subscribers import EmailRequestError, request_email_verification, verify_email
from briefing.deliver.email.unsubscribe import unsubscribe_email
from briefing.deliver.telegram import Command, CommandRequest
from briefing.deliver.telegram.format import esc

USAGE_EMAIL = "/email you@example.com"
USAGE_VERIFY = "/verify 123456"


async def email_command(req: CommandRequest) -> None:
    sub = await req.subscriber()
    if not req.args:
        current = (f"Your digest goes to <b>{esc(sub.email)}</b>." if sub.email and sub.email_verified
                   else "No email address is set.")
        await req.reply(f"{current}\nSet one with <code>{USAGE_EMAIL}</code>; stop email with "
                        f"<code>/email off</code>.")
        return
    if req.text.strip().casefold() == "off":
        await req.run(unsubscribe_email, req.app.store, sub.id, "/email off")
        await req.reply("Done: no more digest emails. Telegram messages carry on.")
        return
    config = req.app.config
    try:
        sent = await request_email_verification(req.app.store, config, sub.id, req.text,
                                                smtp=SmtpSender(config.email))
    except EmailRequestError as exc:
        await req.reply(esc(exc))
        return
    await req.reply(f"I sent a six-digit code to <b>{esc(sent.email)}</b>. Send it back as "
                    f"<code>{USAGE_VERIFY}</code> within {config.email.code_ttl_minutes:g} minutes.")


async def verify_command(req: CommandRequest) -> None:
    if len(req.args) != 1:
        await req.reply(f"Send the code from the email: <code>{USAGE_VERIFY}</code>")
        return
    sub = await req.subscriber()
    try:
        updated = await req.run(verify_email, req.app.store, req.app.config, sub.id, req.args[0])
    except EmailRequestError as exc:
        await req.reply(esc(exc))
        return
    await req.reply(f"Verified: your daily digest goes to <b>{esc(updated.email)}</b> at "
                    f"{esc(updated.digest_time)} ({esc(updated.timezone)}). Change the time with "
                    f"<code>/digest HH:MM [timezone]</code>.")


COMMANDS = [
    Command("email", "get the daily digest by email", email_command, usage=f"{USAGE_EMAIL} | /email off"),
    Command("verify", "confirm your email address with the code", verify_command, usage=USAGE_VERIFY),
]
