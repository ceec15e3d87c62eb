"""/email and /verify through the real bot (fake Bot API server) with the code mailed via real SMTP;
and the Telegram digest delivered through ``TelegramBot.send_html``."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from briefing.service.digests import send_due_digests
from briefing.deliver.email.smtp import SmtpSender
from briefing.deliver.email.subscribers import EmailRequestError, request_email_verification, verify_email
from briefing.deliver.email.unsubscribe import unsubscribe_email
from briefing.deliver.telegram import TelegramBot
from briefing.service.email_commands import COMMANDS
from briefing.models import Actor
from briefing.app import App
from briefing.store.schema import EmailCode
from tests.email.conftest import HOUR, add_subscriber, utc
from tests.support.botapi import TOKEN, BotAPIServer, ask
from tests.support.briefs import add_brief
from tests.support.config import make_config
from tests.support.smtp import SmtpServer

CHAT = 555


@pytest.fixture
def app(tmp_path: Path, botapi: BotAPIServer, smtp_server: SmtpServer) -> AsyncIterator[App]:
    config = make_config(
        tmp_path, sources=[{"name": "Harbour Times", "kind": "folder", "path": "x", "topics": ["economy"]}],
        telegram={"enabled": True, "base_url": botapi.base_url, "per_chat_interval_seconds": 0,
                  "messages_per_second": 1000},
        email={"enabled": True, "smtp_host": "127.0.0.1", "smtp_port": smtp_server.port, "security": "none",
               "from_address": "briefing@news.example", "code_max_attempts": 3, "code_resend_seconds": 60})
    application = App(config)
    yield application  # type: ignore[misc]
    application.close()


@pytest.fixture
async def bot(app: App) -> AsyncIterator[TelegramBot]:
    b = TelegramBot(app, app.config.telegram, token=TOKEN, extra_commands=COMMANDS)
    await b.start()
    yield b
    await b.stop()


def _code(smtp: SmtpServer) -> str:
    body = smtp.mailbox.messages[-1].get_body(preferencelist=("plain",)).get_content()
    match = re.search(r"\b(\d{6})\b", body)
    assert match, body
    return match.group(1)


async def test_email_then_verify_in_telegram(bot: TelegramBot, botapi: BotAPIServer, app: App,
                                             smtp_server: SmtpServer) -> None:
    answer = await ask(botapi, CHAT, "/email Reader@Example.ORG")
    assert "six-digit code" in answer and "Reader@example.org" in answer
    [msg] = smtp_server.mailbox.messages
    assert msg["To"] == "Reader@example.org" and msg.get_content_type() == "text/plain"
    code = _code(smtp_server)
    with app.store.session() as s:  # stored hashed, never in clear
        assert code not in s.query(EmailCode).one().code_hash
    sub = app.store.subscriber_by_chat(CHAT)
    assert sub is not None and sub.email is None  # nothing set until verified

    wrong = "000000" if code != "000000" else "111111"
    assert "2 tries left" in await ask(botapi, CHAT, f"/verify {wrong}")
    answer = await ask(botapi, CHAT, f"/verify {code}")
    assert "Verified" in answer and "07:00" in answer
    sub = app.store.subscriber_by_chat(CHAT)
    assert sub is not None and sub.email == "Reader@example.org" and sub.email_verified
    assert {"email", "verify"} <= {c["command"] for c in botapi.commands['{"type": "default"}']}  # in the menu

    assert "no more digest emails" in await ask(botapi, CHAT, "/email off")
    assert app.store.subscriber_by_chat(CHAT).email_verified is False  # type: ignore[union-attr]


async def test_bad_address_is_refused_and_nothing_is_sent(bot: TelegramBot, botapi: BotAPIServer,
                                                          smtp_server: SmtpServer) -> None:
    assert "not an email address" in await ask(botapi, CHAT, "/email not-an-address")
    assert "no code is waiting" in await ask(botapi, CHAT, "/verify 123456")
    assert smtp_server.mailbox.messages == []


async def test_codes_expire_limit_attempts_and_cannot_flood(app: App, smtp_server: SmtpServer) -> None:
    sid = app.store.telegram_subscriber(CHAT).id
    smtp, now = SmtpSender(app.config.email), datetime(2026, 11, 27, 9, tzinfo=timezone.utc)
    store, config = app.store, app.config

    await request_email_verification(store, config, sid, "a@example.org", smtp=smtp, now=now)
    with pytest.raises(EmailRequestError, match="moments ago"):  # one code a minute per subscriber
        await request_email_verification(store, config, sid, "a@example.org", smtp=smtp, now=now + timedelta(seconds=5))
    assert len(smtp_server.mailbox.messages) == 1
    with pytest.raises(EmailRequestError, match="expired"):
        verify_email(store, config, sid, _code(smtp_server), now=now + timedelta(minutes=31))

    await request_email_verification(store, config, sid, "a@example.org", smtp=smtp, now=now + timedelta(minutes=32))
    code = _code(smtp_server)
    wrong = "000000" if code != "000000" else "111111"
    for left in ("2 tries left", "1 try left", "no tries left"):
        with pytest.raises(EmailRequestError, match=left):
            verify_email(store, config, sid, wrong, now=now + timedelta(minutes=33))
    with pytest.raises(EmailRequestError, match="no code is waiting"):  # the right code is now too late
        verify_email(store, config, sid, code, now=now + timedelta(minutes=33))
    assert store.get_subscriber(sid).email_verified is False  # type: ignore[union-attr]


async def test_telegram_digest_is_one_escaped_message(bot: TelegramBot, botapi: BotAPIServer, app: App,
                                                      smtp_server: SmtpServer) -> None:
    now = utc(2026, 11, 27, 8)
    add_subscriber(app.store, None, chat_id=CHAT, digest_telegram=True, at="08:00")
    add_brief(app.store, 'Harbour <b>deal</b> & "tolls"', topics=["economy"], created_at=now - HOUR,
              actors=[Actor("Anna <i>Berg</i>", "Mayor", "backs the deal", ".")])
    add_brief(app.store, "Bakery prices rise", topics=["economy"], created_at=now - 2 * HOUR)

    report = await send_due_digests(app, now, send_html=bot.send_html)

    assert report.sent == 1 and smtp_server.mailbox.messages == []  # no email address: Telegram only
    [text] = botapi.texts(CHAT)
    assert 'Harbour <b>deal</b> & "tolls"' in text and "Anna <i>Berg</i> — backs the deal" in text
    assert text.index("Harbour") < text.index("Bakery")
    again = await send_due_digests(app, now + HOUR, send_html=bot.send_html)
    assert again.sent == 0 and len(botapi.texts(CHAT)) == 1


async def test_long_telegram_digest_is_split(bot: TelegramBot, botapi: BotAPIServer, app: App) -> None:
    now = utc(2026, 11, 27, 8)
    add_subscriber(app.store, None, chat_id=CHAT, digest_telegram=True, at="08:00")
    for i in range(30):
        add_brief(app.store, f"Story {i:02d}", topics=["economy"], created_at=now - HOUR,
                  summary=[f"Sentence {i} " + "with many words " * 20])

    await send_due_digests(app, now, send_html=bot.send_html)

    texts = botapi.texts(CHAT)
    assert len(texts) > 1 and all(len(t) <= 4096 for t in texts)
    joined = "\n".join(texts)
    assert all(joined.count(f"Story {i:02d}") == 1 for i in range(30))


async def test_blocked_bot_deactivates_only_that_subscriber(bot: TelegramBot, botapi: BotAPIServer,
                                                            app: App) -> None:
    """A 403 ends that chat's digests; others still get theirs (429s are the bot's own limiter's job)."""
    now = utc(2026, 11, 27, 8)
    blocked = add_subscriber(app.store, None, chat_id=CHAT, digest_telegram=True, at="08:00")
    fine = add_subscriber(app.store, None, chat_id=CHAT + 1, digest_telegram=True, at="08:00")
    add_brief(app.store, "Bakery prices rise", topics=["economy"], created_at=now - HOUR)
    botapi.fail("sendMessage", 403, "Forbidden: bot was blocked by the user", chat_id=CHAT)

    report = await send_due_digests(app, now, send_html=bot.send_html)

    assert (report.failed, report.sent) == (1, 1)
    assert app.store.get_subscriber(blocked).active is False  # type: ignore[union-attr]
    assert app.store.get_subscriber(fine).active is True  # type: ignore[union-attr]
    assert botapi.texts(CHAT) == [] and len(botapi.texts(CHAT + 1)) == 1


async def test_an_address_can_be_reclaimed_but_not_taken(app: App, smtp_server: SmtpServer) -> None:
    """A verified address stays with its owner; an unsubscribed (unverified) one goes to whoever proves it."""
    store, config, smtp = app.store, app.config, SmtpSender(app.config.email)
    owner = add_subscriber(store, "shared@example.org")
    me = store.telegram_subscriber(CHAT).id
    with pytest.raises(EmailRequestError, match="already used"):
        await request_email_verification(store, config, me, "shared@example.org", smtp=smtp)

    unsubscribe_email(store, owner, "unsubscribed")
    await request_email_verification(store, config, me, "shared@example.org", smtp=smtp)
    verify_email(store, config, me, _code(smtp_server))
    assert store.get_subscriber(me).email == "shared@example.org"  # type: ignore[union-attr]
    assert store.get_subscriber(owner).email is None  # type: ignore[union-attr]
