"""The bot's own commands: one small handler each (parse, call the library, reply), the
subscription buttons, and :func:`core_commands`, the list that drives the handlers, ``/help``
and the menu."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions
from telegram.constants import ChatAction, ParseMode
from telegram.error import TelegramError

from briefing.deliver.telegram import commands as cmd
from briefing.deliver.telegram import ondemand
from briefing.deliver.telegram.format import briefs_html, esc, split_html
from briefing.deliver.telegram.request import Command, CommandRequest
from briefing.ingest.discover import feed_location
from briefing.models import Subscriber
from briefing.store import SUBSCRIPTION_KINDS

log = logging.getLogger(__name__)


_BUTTON_PREFIX = {"+": "subscribe", "-": "unsubscribe"}


async def subscription_button(req: CommandRequest) -> None:
    """Inline buttons carry ``+kind:value`` (follow) or ``-kind:value`` (stop following)."""
    query = req.update.callback_query
    if query is None or not query.data or query.data[:1] not in _BUTTON_PREFIX:
        if query is not None:
            await query.answer()
        return
    kind, _, value = query.data[1:].partition(":")
    if kind not in SUBSCRIPTION_KINDS or not value:
        await query.answer("That button is out of date.")
        return
    sub = await req.subscriber(reactivate=query.data[0] == "+")
    if query.data[0] == "+":
        await req.run(req.app.follow, sub.id, kind, value)
        note = f"Following {kind} {value}"
    else:
        await req.run(req.app.unfollow, sub.id, kind, value)
        note = f"No longer following {kind} {value}"
    await query.answer(note)
    text, keyboard = await subscriptions_view(req, sub)
    if query.message is not None:
        await query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=keyboard)


# -- views ---------------------------------------------------------------------

async def subscriptions_view(req: CommandRequest, sub: Subscriber) -> tuple[str, InlineKeyboardMarkup | None]:
    """The user's subscriptions with a button per configured topic and source (and followed keyword) to toggle."""
    subs = await req.run(req.app.subscriptions, sub.id)
    topics, sources = await req.run(req.app.followable)
    followed = {(s.kind, s.value) for s in subs}
    buttons = []
    keywords = [s.value for s in subs if s.kind == "keyword"]  # followed ones, so they can be dropped
    for kind, values in (("topic", topics), ("source", [s.casefold() for s in sources]), ("keyword", keywords)):
        for value in values:
            on = (kind, value) in followed
            data = f"{'-' if on else '+'}{kind}:{value}"
            if len(data.encode()) <= 64:  # Telegram's callback_data limit
                buttons.append(InlineKeyboardButton(f"{'✓' if on else '+'} {value}", callback_data=data))
    rows = [buttons[i:i + 2] for i in range(0, len(buttons), 2)]
    return cmd.subscriptions_text(subs), InlineKeyboardMarkup(rows) if rows else None


# -- command handlers: parse, call the library, format -------------------------

async def start_command(req: CommandRequest) -> None:
    await req.subscriber(reactivate=True)
    await req.reply(
        "<b>Hello!</b> I send you short, faithful briefs of the news you follow: a headline, "
        "two or three sentences and who said what.\n\n"
        "• /subscribe a topic, source or keyword — matching briefs arrive as they are written\n"
        "• /summary — today's top briefs, or send /summary with a link to have it read now\n"
        "• /digest 07:30 Europe/Berlin — one daily digest instead\n\n/help lists everything.")


async def stop_command(req: CommandRequest) -> None:
    sub = await req.run(req.app.chat_subscriber, req.chat_id)
    if req.text.casefold() == "delete":
        if sub is not None:
            await req.run(req.app.forget_subscriber, sub.id)
        await req.reply("Done: everything I stored about this chat is deleted. /start begins again.")
        return
    if sub is not None:
        await req.run(req.app.stop_subscriber, sub.id, "stopped by the user (/stop)")
    await req.reply("Stopped: I will send nothing more. /start resumes; /stop delete also erases your data.")


async def subscribe_command(req: CommandRequest) -> None:
    sub = await req.subscriber(reactivate=True)
    if not req.args:
        text, keyboard = await subscriptions_view(req, sub)
        await req.reply(text + "\n\nFollow a topic or source with a button, or /subscribe &lt;keyword&gt;.", keyboard)
        return
    try:
        target = cmd.resolve_target(req.text, *await req.run(req.app.followable))
    except cmd.UsageError as exc:
        await req.reply(str(exc))
        return
    added = await req.run(req.app.follow, sub.id, target.kind, target.value)
    await req.reply(f"Following {target.label()}." if added else f"You already follow {target.label()}.")


async def unsubscribe_command(req: CommandRequest) -> None:
    sub = await req.subscriber()
    if not req.args:
        text, keyboard = await subscriptions_view(req, sub)
        await req.reply(text + "\n\nTap ✓ to stop following, or /unsubscribe &lt;name&gt;.", keyboard)
        return
    kind, sep, value = req.text.partition(":")
    explicit = sep and kind.casefold() in ("topic", "source", "keyword")
    removed = await req.run(req.app.unfollow, sub.id, kind.casefold() if explicit else None,
                            value if explicit else req.text)
    what = esc(" ".join((value if explicit else req.text).split()).casefold())
    await req.reply(f"No longer following <b>{what}</b>." if removed else
                    f"You don't follow <b>{what}</b>. /subscriptions shows what you do.")


async def subscriptions_command(req: CommandRequest) -> None:
    sub = await req.subscriber()
    text, keyboard = await subscriptions_view(req, sub)
    await req.reply(text, keyboard)


async def summary_command(req: CommandRequest) -> None:
    tg = req.bot.config
    replied = req.message.reply_to_message
    quoted = (replied.text or replied.caption) if replied is not None else None
    if quoted and not req.args:
        await summarise_now(req, None, ondemand.text_document(quoted))
    elif req.args and ondemand.looks_like_url(req.text):
        await summarise_now(req, req.text.strip(), None)
    elif req.args:
        briefs = await req.run(req.app.latest_briefs_matching, req.text, tg.summary_top_n)
        await req.reply(briefs_html(briefs, f"Latest on {req.text}") if briefs else
                        f"No briefs about <b>{esc(req.text)}</b> yet.")
    else:
        sub = await req.subscriber()
        subs = await req.run(req.app.subscriptions, sub.id)
        briefs = await req.run(req.app.top_briefs, subs, tg.summary_top_n)
        await req.reply(briefs_html(briefs, "Top briefs of the last 24 hours") if briefs else
                        "No briefs in the last 24 hours" + (" for what you follow." if subs else "."))


async def summarise_now(req: CommandRequest, url: str | None, doc: Any) -> None:
    """Answer at once, show "typing" while fetching and summarising, then edit in the brief."""
    if url is not None:
        try:  # a 100,000-character "URL" is neither fetched nor echoed back in 25 messages
            cmd.check_url_length(url)
        except cmd.UsageError as exc:
            await req.reply(str(exc))
            return
    if req.bot.config.summary_rate_per_hour == 0:
        await req.reply("Summaries of links and texts are turned off on this bot; /summary alone lists the "
                        "latest briefs.")
        return
    wait = req.bot.summary_limit.allow(req.user_id or req.chat_id)
    if wait is not None:
        await req.reply(f"You have asked for {req.bot.config.summary_rate_per_hour} summaries this hour, "
                        f"the most I allow. Try again in {max(1, round(wait / 60))} minute(s).")
        return
    placeholder = (await req.reply(f"Reading {esc(url)} …" if url else "Reading your text …"))[0]
    typing = asyncio.create_task(_keep_typing(req))
    brief = None
    try:
        if url is not None:
            doc, final_url = await req.run(ondemand.read_url, req.app.fetcher, url,
                                           req.app.config.ingest.min_article_chars)
        brief = await req.bot.summarise(doc)
        brief.url = final_url if url is not None else None
        text = briefs_html([brief])
    except Exception as exc:  # noqa: BLE001 - every failure gets a plain-words answer
        log.info("summary of %s failed: %s", url or "text", exc)
        text = ondemand.explain(exc, req.app.config)
    finally:
        typing.cancel()
    chunks = split_html(text)
    await placeholder.edit_text(chunks[0], parse_mode=ParseMode.HTML,
                                link_preview_options=LinkPreviewOptions(is_disabled=True))
    for chunk in chunks[1:]:
        await req.reply(chunk)
    if brief is not None and len(chunks) == 1:
        await _edit_in_gist(req, placeholder, brief, doc)


async def _edit_in_gist(req: CommandRequest, message: Any, brief: Any, doc: Any) -> None:
    """Edit the answer in place once the model's gist arrives; on timeout it stays as it is (logged)."""
    try:
        better = await asyncio.wait_for(req.bot.improve(brief, doc), req.bot.gist_timeout)
    except TimeoutError:
        log.info("/summary: no gist within %gs; the answer stays extractive", req.bot.gist_timeout)
        return
    except Exception as exc:  # noqa: BLE001 - the extractive answer already stands
        log.info("/summary: no gist (%s); the answer stays extractive", exc)
        return
    better.url = brief.url
    text = briefs_html([better])
    if text == briefs_html([brief]) or len(split_html(text)) > 1:
        return  # nothing new (no gist kept), or too long for one message
    try:
        await message.edit_text(text, parse_mode=ParseMode.HTML,
                                link_preview_options=LinkPreviewOptions(is_disabled=True))
    except TelegramError as exc:
        log.info("/summary: could not edit in the gist: %s", exc)


async def _keep_typing(req: CommandRequest) -> None:
    # The typing status lasts 5 s or until a message arrives (https://core.telegram.org/bots/api#sendchataction).
    assert req.bot.application is not None
    while True:
        try:
            await req.bot.application.bot.send_chat_action(req.chat_id, ChatAction.TYPING)
        except TelegramError:
            pass
        await asyncio.sleep(4.5)


async def digest_command(req: CommandRequest) -> None:
    try:
        time_, tz = cmd.parse_digest(req.args)
    except cmd.UsageError as exc:
        await req.reply(str(exc))
        return
    sub = await req.subscriber()
    if time_ is None:
        await req.run(req.app.set_telegram_digest, sub.id, None)
        await req.reply("Daily digest here: off.")
        return
    sub = await req.run(req.app.set_telegram_digest, sub.id, time_, tz)
    await req.reply(f"Daily digest here at {time_} ({esc(sub.timezone)}). /digest off stops it.")


async def settings_command(req: CommandRequest) -> None:
    sub = await req.subscriber()
    subs = await req.run(req.app.subscriptions, sub.id)
    await req.reply(cmd.settings_text(sub, subs))


async def help_command(req: CommandRequest) -> None:
    await req.reply(req.bot.help_text(req.user_id))


async def sources_command(req: CommandRequest) -> None:
    await req.reply(cmd.sources_text(await req.run(req.app.sources)))


async def addsource_command(req: CommandRequest) -> None:
    try:
        if len(req.args) != 1:
            raise cmd.UsageError("Use /addsource &lt;url&gt; with the http(s) URL of a feed or page.")
        taken = {s.name for s in await req.run(req.app.sources)}
        name = cmd.source_name_for(req.args[0], taken)
    except cmd.UsageError as exc:
        await req.reply(str(exc))
        return
    try:  # the same SSRF policy as a user's link: an admin command must not reach internal hosts
        # A home page that names its feed (<link rel="alternate">) is replaced by that feed.
        location, discovered = await req.run(feed_location, req.app.fetcher, req.args[0])
    except Exception as exc:  # noqa: BLE001 - explained to the admin
        await req.reply(f"Not added: {esc(ondemand.explain(exc, req.app.config))}")
        return
    await req.run(req.app.add_source, name, location)
    found = " (the feed that page links to)" if discovered else ""
    await req.reply(f"Added source <b>{esc(name)}</b>: <code>{esc(location)}</code>{found}")


async def removesource_command(req: CommandRequest) -> None:
    if not req.args:
        await req.reply("Use /removesource &lt;name&gt;; /sources lists the names.")
        return
    name = req.text
    if await req.run(req.app.stop_polling, name):
        configured = req.app.config.source(name) is not None
        await req.reply(f"Removed source <b>{esc(name)}</b>: it is no longer polled." +
                        (" It is in config.yaml, so it returns on restart unless removed there." if configured else ""))
    else:
        await req.reply(f"There is no source called <b>{esc(name)}</b>. /sources lists them.")


async def stats_command(req: CommandRequest) -> None:
    await req.reply(cmd.stats_text(await req.run(req.app.stats)))


def core_commands() -> list[Command]:
    """The bot's own commands, in the order of ``/help`` and the menu."""
    return [
        Command("start", "register this chat and see what I do", start_command),
        Command("stop", "stop all messages (/stop delete erases your data)", stop_command, "/stop [delete]"),
        Command("subscribe", "follow a topic, source or keyword", subscribe_command,
                "/subscribe <topic | source | keyword>"),
        Command("unsubscribe", "stop following something", unsubscribe_command, "/unsubscribe <name>"),
        Command("subscriptions", "what you follow, with buttons", subscriptions_command),
        Command("summary", "top briefs, or summarise a link, topic or replied-to text", summary_command,
                "/summary [url | topic | keyword]"),
        Command("digest", "daily digest time here, or off", digest_command, "/digest <HH:MM> [timezone] | off"),
        Command("settings", "everything stored about you", settings_command),
        Command("help", "this list", help_command),
        Command("sources", "list the sources", sources_command, admin=True),
        Command("addsource", "add a feed or page", addsource_command, "/addsource <url>", admin=True),
        Command("removesource", "stop polling a source", removesource_command, "/removesource <name>", admin=True),
        Command("stats", "subscribers, briefs and deliveries", stats_command, admin=True),
    ]
