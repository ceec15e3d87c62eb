"""Pushed briefs: sent once, within Telegram's limits, each outcome stored on the delivery."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from briefing.deliver.telegram import DrainReport, TelegramBot
from briefing.models import Actor
from briefing.app import App
from briefing.store.schema import Delivery, utcnow
from tests.support.botapi import TOKEN, BotAPIServer, ask, parse_html
from tests.support.briefs import add_brief
from tests.telegram.conftest import running

HARBOUR, BERG, POLITICS = 201, 202, 203


def deliveries(app: App) -> list[Delivery]:
    with app.store.session() as s:
        return list(s.scalars(select(Delivery).order_by(Delivery.id)))


async def follow(botapi: BotAPIServer, chat: int, what: str) -> None:
    assert "ollow" in await ask(botapi, chat, f"/subscribe {what}")


async def test_a_new_brief_goes_once_to_each_matching_subscriber(bot: TelegramBot, botapi: BotAPIServer,
                                                                 app: App) -> None:
    await follow(botapi, HARBOUR, "harbour")
    await follow(botapi, BERG, "berg")
    await follow(botapi, POLITICS, "politics")
    add_brief(app, "Harbour plan approved")
    report = await bot.drain_deliveries()
    assert (report.claimed, report.sent, report.failed) == (2, 2, 0)
    for chat in (HARBOUR, BERG):
        text = botapi.texts(chat)[-1]
        assert text.startswith("Harbour plan approved") and "Anna Berg — backs the plan" in text
    assert all("Harbour" not in t for t in botapi.texts(POLITICS))
    again = await bot.drain_deliveries()
    assert again.claimed == 0 and len(botapi.sent(HARBOUR)) == 2  # the /subscribe answer and one brief
    # The message id Telegram gave each brief is stored on its delivery.
    last_ids = [str(max(m for c, m in botapi.messages if c == chat)) for chat in (HARBOUR, BERG)]
    assert [(d.status, d.external_id) for d in deliveries(app)] == [("sent", i) for i in last_ids]


async def test_hostile_headline_is_escaped_and_cannot_inject_links(bot: TelegramBot, botapi: BotAPIServer,
                                                                   app: App) -> None:
    await follow(botapi, HARBOUR, "harbour")
    hostile = '<b>Free</b> <a href="https://evil.example">money</a> & <script>x</script> &nbsp; </i>'
    add_brief(app, hostile, url="javascript:alert(1)",
              actors=[Actor('<a href="tg://user?id=1">Mallory</a>', "", "says <i>hi", "quote")])
    report = await bot.drain_deliveries()
    assert report.sent == 1, report.errors
    raw = botapi.sent(HARBOUR)[-1].params["text"]
    assert "evil.example" not in raw.replace("&quot;https://evil.example&quot;", "")
    assert "<a " not in raw  # no link at all: the stored URL is not http(s)
    text = parse_html(raw)  # the fake server accepted it, so Telegram would
    assert text.startswith(hostile)
    assert '<a href="tg://user?id=1">Mallory</a> — says <i>hi' in text


async def test_a_link_to_the_article_is_only_ours(bot: TelegramBot, botapi: BotAPIServer, app: App) -> None:
    await follow(botapi, HARBOUR, "harbour")
    add_brief(app, "Harbour plan", url='https://news.example/a?b=1&c="2"')
    await bot.drain_deliveries()
    raw = botapi.sent(HARBOUR)[-1].params["text"]
    assert '<a href="https://news.example/a?b=1&amp;c=&quot;2&quot;">Read the article</a>' in raw


async def test_a_long_brief_is_split_at_paragraphs_into_valid_messages(bot: TelegramBot, botapi: BotAPIServer,
                                                                      app: App) -> None:
    await follow(botapi, HARBOUR, "harbour")
    summary = [f"Sentence {i} says <something> & more about the harbour works." for i in range(120)]
    actors = [Actor(f"Person {i}", "", f"position {i} on the <harbour>", "e") for i in range(60)]
    add_brief(app, "A very long brief", summary=summary, actors=actors)
    report = await bot.drain_deliveries()
    assert report.sent == 1, report.errors
    calls = botapi.sent(HARBOUR)[1:]
    assert len(calls) >= 3
    texts = [parse_html(c.params["text"]) for c in calls]
    assert all(len(t) <= 4096 for t in texts)
    joined = " ".join(" ".join(texts).split())  # a cut falls between words, never inside one
    assert all(f"Sentence {i} says <something>" in joined for i in range(120))
    assert all(f"Person {i} — position {i} on the <harbour>" in joined for i in range(60))
    assert texts[-1].endswith("Read the article")
    stored = deliveries(app)[0]
    ids = sorted(m for c, m in botapi.messages if c == HARBOUR)[-len(calls):]
    assert stored.status == "sent" and stored.external_id == ",".join(map(str, ids))


async def test_429_waits_retry_after_then_sends_once(make_app: Callable[..., App], botapi: BotAPIServer) -> None:
    app = make_app(messages_per_second=20)
    bot = TelegramBot(app, app.config.telegram, token=TOKEN, extra_commands=[])
    await bot.start()
    await follow(botapi, HARBOUR, "harbour")
    await follow(botapi, BERG, "harbour")
    botapi.fail("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    add_brief(app)
    try:
        report = await bot.drain_deliveries()
    finally:
        await bot.stop()
    assert report.sent == 2 and report.failed == 0
    attempts = [c for c in botapi.calls if c.method == "sendMessage"][2:]
    assert [c.status for c in attempts] == [429, 200, 200]
    # Nothing at all was sent during the pause Telegram asked for.
    assert min(c.at for c in attempts[1:]) - attempts[0].at >= 0.95
    assert [len(botapi.sent(chat)) for chat in (HARBOUR, BERG)] == [2, 2]


async def test_blocked_user_and_vanished_chat_are_deactivated(bot: TelegramBot, botapi: BotAPIServer,
                                                              app: App) -> None:
    for chat in (HARBOUR, BERG, POLITICS):
        await follow(botapi, chat, "harbour")
    botapi.blocked.add(HARBOUR)
    botapi.missing.add(BERG)
    add_brief(app)
    report = await bot.drain_deliveries()
    assert (report.sent, report.deactivated) == (1, 2)
    blocked, missing = app.store.subscriber_by_chat(HARBOUR), app.store.subscriber_by_chat(BERG)
    assert blocked is not None and not blocked.active and "blocked" in (blocked.deactivated_reason or "")
    assert missing is not None and not missing.active and "chat not found" in (missing.deactivated_reason or "").lower()
    assert sorted(d.status for d in deliveries(app)) == ["failed", "failed", "sent"]
    add_brief(app, "Second harbour story")
    assert len(deliveries(app)) == 4  # only the active subscriber gets the next brief


async def test_an_outage_longer_than_the_retry_count_loses_nothing(bot: TelegramBot, botapi: BotAPIServer,
                                                                   app: App) -> None:
    """Issue 8 row 3: every call 5xx for longer than ``max_retries`` attempts; all sent after recovery."""
    await follow(botapi, HARBOUR, "harbour")
    botapi.fail("sendMessage", 502, "Bad Gateway", times=12)  # telegram.max_retries is 3 here
    add_brief(app)
    for _ in range(13):
        await bot.drain_deliveries()
    (d,) = deliveries(app)
    assert (d.status, d.attempts) == ("sent", 13)
    assert len(botapi.sent(HARBOUR)) == 2  # the /subscribe answer and the brief, once


async def test_transient_errors_give_up_once_the_brief_is_no_longer_news(make_app: Callable[..., App],
                                                                          botapi: BotAPIServer) -> None:
    app = make_app(retry_base_seconds=30)
    async with running(app) as bot:
        await follow(botapi, HARBOUR, "harbour")
        botapi.fail("sendMessage", 500, "Internal Server Error", times=10)
        add_brief(app, "Another harbour story")
        report = await bot.drain_deliveries()
        assert report.retry_later == 1 and deliveries(app)[-1].status == "pending"
        # A day later (telegram.retry_max_age_hours), still failing: given up.
        bot.sender.clock = lambda: utcnow() + timedelta(hours=25)
        report = await bot.drain_deliveries()
        last = deliveries(app)[-1]
        assert report.failed == 1 and last.status == "failed"
        assert "retry_max_age_hours" in (last.last_error or "")


async def test_permanent_errors_stop_at_once(bot: TelegramBot, botapi: BotAPIServer, app: App) -> None:
    await follow(botapi, HARBOUR, "harbour")
    botapi.fail("sendMessage", 400, "Bad Request: message is too long")
    add_brief(app)
    report = await bot.drain_deliveries()
    (d,) = deliveries(app)
    assert report.failed == 1 and (d.status, d.attempts) == ("failed", 1)


async def test_a_split_brief_is_never_sent_twice_in_part(bot: TelegramBot, botapi: BotAPIServer, app: App) -> None:
    """Issue 8 row 4: 5xx after part 1 of a long brief; the retry sends only the missing parts."""
    await follow(botapi, HARBOUR, "harbour")
    before = len(botapi.sent(HARBOUR))
    long_summary = [f"Paragraph {i}: " + "the harbour board met again and discussed the plan. " * 12
                    for i in range(12)]
    botapi.fail("sendMessage", 502, "Bad Gateway", chat_id=HARBOUR, after=1, times=1)
    add_brief(app, summary=long_summary)
    first = await bot.drain_deliveries()  # no back-off here: the retry comes in the same drain
    assert first.retry_later == 1 and first.sent == 1
    texts = botapi.texts(HARBOUR)[before:]
    (d,) = deliveries(app)
    assert d.status == "sent" and len(texts) >= 2
    assert len(texts) == len(set(texts)) == len(d.external_id.split(","))  # each part exactly once
    assert texts[0].startswith("Harbour plan approved") and "Paragraph 11" in texts[-1]


async def test_backoff_schedules_the_retry_later(make_app: Callable[..., App], botapi: BotAPIServer) -> None:
    app = make_app(retry_base_seconds=30)
    bot = TelegramBot(app, app.config.telegram, token=TOKEN, extra_commands=[])
    await bot.start()
    try:
        await follow(botapi, HARBOUR, "harbour")
        botapi.fail("sendMessage", 503, "Service Unavailable")
        add_brief(app)
        report = await bot.drain_deliveries()
        (d,) = deliveries(app)
        assert report.retry_later == 1 and d.status == "pending" and "Service Unavailable" in (d.last_error or "")
        assert d.next_attempt_at is not None and d.next_attempt_at - utcnow() > timedelta(seconds=25)
    finally:
        await bot.stop()


async def test_rejected_markup_is_resent_as_plain_text(bot: TelegramBot, botapi: BotAPIServer, app: App) -> None:
    await follow(botapi, HARBOUR, "harbour")
    botapi.fail("sendMessage", 400, "Bad Request: can't parse entities: Unsupported start tag \"x\" at byte offset 0")
    add_brief(app, "Harbour <plan>")
    report = await bot.drain_deliveries()
    assert report.sent == 1
    last = botapi.sent(HARBOUR)[-1]
    assert "parse_mode" not in last.params and last.params["text"].startswith("Harbour <plan>")


async def test_flood_limits_space_messages_overall_and_per_chat(make_app: Callable[..., App],
                                                                botapi: BotAPIServer) -> None:
    app = make_app(messages_per_second=20, per_chat_interval_seconds=0.3)
    bot = TelegramBot(app, app.config.telegram, token=TOKEN, extra_commands=[])
    await bot.start()
    try:
        chats = list(range(300, 310))
        for chat in chats:
            await follow(botapi, chat, "harbour")
        start = len(botapi.sent())
        add_brief(app, "One")
        add_brief(app, "Two")
        report = await bot.drain_deliveries()
        assert report.sent == 20
        times = sorted(c.at for c in botapi.sent()[start:])
        assert times[-1] - times[0] >= 19 / 20 * 0.9  # 20 messages at 20/s overall
        for chat in chats:
            one, two = [c.at for c in botapi.sent(chat)][-2:]
            assert two - one >= 0.3 * 0.9
    finally:
        await bot.stop()


async def _mid_run(app: App, botapi: BotAPIServer, chats: list[int],
                   after: int) -> tuple[TelegramBot, asyncio.Task[DrainReport]]:
    """A bot draining one brief to ``chats`` slowly (10/s, two at a time), ``after`` sends in."""
    bot = TelegramBot(app, app.config.telegram, token=TOKEN, extra_commands=[])
    await bot.start()
    for chat in chats:
        await follow(botapi, chat, "harbour")
    start = len(botapi.sent())
    add_brief(app)
    bot.sender.concurrency = 2
    drain = asyncio.create_task(bot.drain_deliveries())
    await botapi.wait_for("sendMessage", start + after)
    return bot, drain


async def _restart(app: App, clock: Callable[[], datetime] = utcnow) -> DrainReport:
    bot = TelegramBot(app, app.config.telegram, token=TOKEN, extra_commands=[])
    bot.sender.clock = clock
    await bot.start()
    try:
        return await bot.drain_deliveries()
    finally:
        await bot.stop()


async def test_stop_in_the_middle_then_restart_sends_everything_once(make_app: Callable[..., App],
                                                                    botapi: BotAPIServer) -> None:
    app = make_app(messages_per_second=10)
    chats = list(range(400, 410))
    first, drain = await _mid_run(app, botapi, chats, after=3)
    await first.stop()  # a restart: sends in flight finish, the rest go back to pending
    report = await drain
    assert 3 <= report.sent < 10 and report.released == 10 - report.sent
    assert app.store.delivery_counts() == {"sent": report.sent, "pending": 10 - report.sent}
    again = await _restart(app)
    assert again.sent == 10 - report.sent
    assert [len(botapi.sent(chat)) for chat in chats] == [2] * 10  # the /subscribe answer and one brief
    assert app.store.delivery_counts() == {"sent": 10}


async def test_crash_in_the_middle_loses_nothing_and_sends_nothing_twice(make_app: Callable[..., App],
                                                                        botapi: BotAPIServer) -> None:
    app = make_app(messages_per_second=10)
    chats = list(range(500, 508))
    first, drain = await _mid_run(app, botapi, chats, after=2)
    drain.cancel()  # the process dies mid-run: claimed rows stay 'sending'
    await asyncio.sleep(0.5)  # sends already on the wire complete and are recorded (shielded)
    await first.stop()
    counts = app.store.delivery_counts()
    assert counts.get("sending", 0) > 0 and counts["sent"] == sum(len(botapi.sent(c)) - 1 for c in chats)
    await _restart(app, clock=lambda: utcnow() + timedelta(minutes=11))  # past the stale-claim window
    assert [len(botapi.sent(chat)) for chat in chats] == [2] * 8
    assert app.store.delivery_counts() == {"sent": 8}


async def test_dry_run_sends_nothing_and_leaves_deliveries_pending(app: App, botapi: BotAPIServer,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    sub = app.store.telegram_subscriber(600)
    app.store.subscribe(sub.id, "topic", "harbour")
    add_brief(app, "Dry harbour story")
    bot = TelegramBot(app, app.config.telegram, token=None, dry_run=True)
    caplog.set_level("INFO")
    await bot.start()
    report = await bot.drain_deliveries()
    assert report.would_send == 1 and report.sent == 0
    assert await bot.send_html(600, "<b>digest</b>") == []
    await bot.stop()
    assert botapi.calls == []
    assert app.store.delivery_counts() == {"pending": 1}
    assert "would send brief" in caplog.text and "Dry harbour story" in caplog.text


async def test_a_stalled_event_loop_does_not_release_a_burst(make_app: Callable[..., App],
                                                             botapi: BotAPIServer) -> None:
    app = make_app(messages_per_second=20)
    for chat in range(800, 830):  # subscribers straight in the store: faster than 30 /subscribe round trips
        app.store.subscribe(app.store.telegram_subscriber(chat).id, "topic", "harbour")
    add_brief(app)
    async with running(app) as bot:
        asyncio.get_running_loop().call_later(0.3, time.sleep, 0.5)  # e.g. a slow synchronous call
        report = await bot.drain_deliveries()
    assert report.sent == 30
    times = sorted(c.at for c in botapi.sent())
    most = max(sum(1 for u in times if t - 1 < u <= t) for t in times)
    # One over for arrival jitter at the server; a burst after the stall would be ~10 over.
    assert most <= 21, f"{most} messages within one second at a limit of 20/s"


async def test_a_group_that_became_a_supergroup_is_followed(bot: TelegramBot, botapi: BotAPIServer,
                                                            app: App) -> None:
    group, supergroup = -1001, -100200300
    await follow(botapi, group, "harbour")
    botapi.fail("sendMessage", 400, "Bad Request: group chat was upgraded to a supergroup chat",
                parameters={"migrate_to_chat_id": supergroup}, chat_id=group)
    add_brief(app)
    report = await bot.drain_deliveries()
    assert report.sent == 1 and report.retry_later == 1
    assert botapi.texts(supergroup)[0].startswith("Harbour plan approved")
    sub = app.store.subscriber_by_chat(supergroup)
    assert sub is not None and sub.active and app.store.subscriber_by_chat(group) is None


async def test_a_stopped_bot_started_again_delivers(app: App, botapi: BotAPIServer) -> None:
    """The service stops the bot when it loses its lease and starts the same bot on takeover."""
    sub = app.store.telegram_subscriber(700)
    app.store.subscribe(sub.id, "topic", "harbour")
    bot = TelegramBot(app, app.config.telegram, token=TOKEN, extra_commands=[])
    await bot.start()
    await bot.stop()
    add_brief(app, "Harbour story after takeover")
    await bot.start()
    try:
        report = await bot.drain_deliveries()
    finally:
        await bot.stop()
    assert report.sent == 1 and "Harbour story after takeover" in botapi.texts(700)[-1]


async def test_a_group_gets_at_most_its_messages_per_minute(make_app: Callable[..., App],
                                                             botapi: BotAPIServer) -> None:
    # 120 a minute keeps the test short; Telegram's own limit (the default) is 20.
    app = make_app(group_messages_per_minute=120, per_chat_interval_seconds=0)
    group, private = -100500, 500
    async with running(app) as bot:
        for chat in (group, private):
            await follow(botapi, chat, "harbour")
        start = len(botapi.sent())
        for n in range(3):
            add_brief(app, f"Harbour story {n}")
        report = await bot.drain_deliveries()
    assert report.sent == 6
    to_group = [c.at for c in botapi.sent(group)[-3:]]
    to_private = [c.at for c in botapi.sent(private)[-3:]]
    assert len(botapi.sent()) - start == 6
    assert all(b - a >= 0.5 * 0.9 for a, b in zip(to_group, to_group[1:]))  # 60 s / 120
    assert to_private[-1] - to_private[0] < 0.5  # a private chat is not held to the group limit


async def test_one_brief_to_many_chats_is_read_and_rendered_once_per_run(app: App, botapi: BotAPIServer) -> None:
    """Issue 13: 70 chats (three claimed batches) get the same message; the brief is read once,
    and each message costs one database transaction (its outcome), not one per lookup."""
    from sqlalchemy import event

    chats = list(range(900, 970))
    for chat in chats:
        app.store.subscribe(app.store.telegram_subscriber(chat).id, "topic", "harbour")
    add_brief(app, "Harbour plan approved")
    brief_reads, commits = [], []
    engine = app.store.engine

    def on_execute(conn, cursor, statement, *args):  # noqa: ANN001, ANN202
        if "FROM briefs" in statement:
            brief_reads.append(statement)

    event.listen(engine, "before_cursor_execute", on_execute)
    event.listen(engine, "commit", lambda conn: commits.append(1))
    try:
        async with running(app) as bot:
            report = await bot.drain_deliveries()
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
    assert report.sent == 70, report.errors
    texts = {botapi.texts(chat)[-1] for chat in chats}
    assert len(texts) == 1 and next(iter(texts)).startswith("Harbour plan approved")
    assert len(brief_reads) == 1
    batches = 3 + 1  # three claims with work, one that finds nothing
    assert len(commits) <= 70 + 2 * batches, len(commits)  # one per message, two per batch (claim, reads)
    assert app.store.delivery_counts() == {"sent": 70}


async def test_a_chat_that_blocks_the_bot_gets_nothing_more_from_the_same_batch(
        bot: TelegramBot, botapi: BotAPIServer, app: App) -> None:
    """Its chat is read once per batch; a 403 on its first brief stops its other briefs at once."""
    await follow(botapi, HARBOUR, "harbour")
    await follow(botapi, BERG, "harbour")
    for n in range(3):
        add_brief(app, f"Harbour story {n}")
    botapi.blocked.add(HARBOUR)
    report = await bot.drain_deliveries()
    tries = [c for c in botapi.calls if c.method == "sendMessage" and c.params.get("chat_id") in (HARBOUR, str(HARBOUR))]
    assert len(tries) == 2  # the /subscribe answer, then the first brief refused with 403
    assert (report.sent, report.deactivated, report.failed) == (3, 1, 2)
    assert len(botapi.sent(BERG)) == 4
    assert sorted(d.status for d in deliveries(app)) == ["failed"] * 3 + ["sent"] * 3
