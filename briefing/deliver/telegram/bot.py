"""The Telegram bot: commands, inline buttons, pushed briefs and on-demand summaries.

Built on python-telegram-bot 22 (asyncio). :class:`TelegramBot` is what ``briefing run`` holds;
see its docstring for the contract. Commands are :class:`Command` entries — name, menu
description, handler — assembled into one list that drives the handlers, ``/help`` and the
``setMyCommands`` menu, so the three can never disagree. The service adds the other commands by
passing ``extra_commands`` (one list, :func:`briefing.service.bot_commands.bot_commands`).
"""

from __future__ import annotations

import asyncio
import hmac
import html
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from telegram import (
    BotCommand,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    Update,
)
from telegram.constants import ChatAction, ParseMode
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from briefing.blocking import blocking
from briefing.config import TelegramConfig, secret
from briefing.deliver.telegram import commands as cmd
from briefing.deliver.telegram import ondemand
from briefing.deliver.telegram.flood import FloodLimiter
from briefing.ingest.discover import feed_location
from briefing.deliver.telegram.format import briefs_html, esc, split_html
from briefing.deliver.telegram.queries import bot_stats
from briefing.deliver.telegram.sender import CHANNEL, DeliverySender, DrainReport
from briefing.errors import ConfigError
from briefing.matching import known_sources, known_topics
from briefing.app import App
from briefing.models import Subscriber
from briefing.store import SUBSCRIPTION_KINDS

log = logging.getLogger(__name__)

Handler = Callable[["CommandRequest"], Awaitable[None]]
_BUTTON_PREFIX = {"+": "subscribe", "-": "unsubscribe"}


@dataclass(frozen=True)
class Command:
    """One bot command: it gets a handler, a line in ``/help`` and an entry in the menu.

    ``usage`` is shown in ``/help`` (e.g. ``/digest HH:MM [timezone]``); ``admin`` commands
    answer only Telegram user ids in ``telegram.admins`` (everyone else gets a polite refusal)
    and appear in the menu of admins' private chats only.
    """

    name: str
    description: str
    handler: Handler
    usage: str = ""
    admin: bool = False


@dataclass
class CommandRequest:
    """What a handler gets: the parsed command, who sent it, and ways to answer."""

    bot: "TelegramBot"
    update: Update
    args: list[str]

    @property
    def app(self) -> App:
        return self.bot.app

    @property
    def chat_id(self) -> int:
        assert self.update.effective_chat is not None
        return self.update.effective_chat.id

    @property
    def user_id(self) -> int | None:
        return self.update.effective_user.id if self.update.effective_user else None

    @property
    def text(self) -> str:
        return " ".join(self.args)

    @property
    def message(self) -> Message:
        assert self.update.effective_message is not None
        return self.update.effective_message

    async def run(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run a blocking library call (database, fetch) off the event loop."""
        return await blocking(func, *args, **kwargs)

    async def subscriber(self, reactivate: bool = False) -> Subscriber:
        """This chat's subscriber, created on first contact; ``reactivate`` undoes a /stop."""
        store = self.app.store
        existing = None if reactivate else await self.run(store.subscriber_by_chat, self.chat_id)
        if existing is not None:
            return existing
        user = self.update.effective_user
        name = user.full_name if user else None
        return await self.run(store.telegram_subscriber, self.chat_id, user_id=self.user_id, display_name=name)

    async def reply(self, html_text: str, keyboard: InlineKeyboardMarkup | None = None) -> list[Message]:
        """Answer in this chat (HTML, split if long; the keyboard goes on the last part)."""
        return await self.bot.send(self.chat_id, html_text, keyboard=keyboard)


class TelegramBot:
    """The bot inside ``briefing run``.

    ``TelegramBot(app, config, token=..., dry_run=False, summarise=None, extra_commands=None)``

    - ``await start()`` initialises python-telegram-bot against ``config.base_url``, sets the
      command menu (``setMyCommands``) and starts long polling, or in ``webhook`` mode registers
      ``config.webhook_url`` with the secret token and listens on ``webhook_listen:webhook_port``.
    - ``await stop()`` stops taking updates, lets sends in flight finish and be recorded, puts
      claimed-but-unsent deliveries back to pending, and shuts python-telegram-bot down.
    - ``await drain_deliveries(limit=1000) -> DrainReport`` sends due pending deliveries within
      Telegram's flood limits; each outcome (sent, retry later, failed, subscriber deactivated)
      is stored on the delivery.
    - ``await send_html(chat_id, html) -> list[int]`` sends HTML (split over 4,096 characters)
      and returns the message ids; used for the daily digest.

    ``dry_run=True`` never contacts Telegram, with or without a token: ``start`` only logs,
    ``send_html`` logs the text and returns ``[]``, and ``drain_deliveries`` logs each pending
    delivery once and leaves it pending (nothing is marked sent, so a real run sends it later).
    Without ``dry_run`` a token is required.

    ``summarise`` runs one on-demand summary (``Document -> Brief``); the service passes its
    worker queue with interactive priority. By default the engine runs in a thread.
    ``extra_commands`` adds :class:`Command` entries (to the handlers, ``/help`` and the menu).
    """

    def __init__(self, app: App, config: TelegramConfig, *, token: str | None, dry_run: bool = False,
                 summarise: ondemand.Summarise | None = None,
                 improve: ondemand.Improve | None = None,
                 extra_commands: Sequence[Command] = ()) -> None:
        if token is None and not dry_run:
            raise ConfigError(f"telegram: no bot token (set ${config.token_env}, or use --dry-run)")
        self.app, self.config = app, config
        self.token, self.dry_run = token, dry_run
        self.summarise = summarise or ondemand.engine_summariser(lambda: app.engine)
        self.improve = improve or ondemand.engine_improver(lambda: app.engine)
        self.gist_timeout = app.config.summariser.gist_timeout_seconds
        self.summary_limit = ondemand.SummaryRateLimit(config.summary_rate_per_hour)
        self.limiter = FloodLimiter(config.messages_per_second, config.per_chat_interval_seconds,
                                    config.max_retries,
                                    group_messages_per_minute=config.group_messages_per_minute)
        self.commands: list[Command] = [*core_commands(), *extra_commands]
        self.sender = DeliverySender(app.store, config, self.send_html, self.send_plain,
                                     keyboard_for=self._brief_keyboard)
        self.application: Application[Any, Any, Any, Any, Any, Any] | None = None
        self._webhook: Any = None  # aiohttp AppRunner in webhook mode
        self._dry_logged: set[int] = set()
        self._drains = 0
        self._drained = asyncio.Event()

    # -- life cycle ----------------------------------------------------------

    def build_application(self) -> Application[Any, Any, Any, Any, Any, Any]:
        """The python-telegram-bot Application with every handler and the error handler."""
        assert self.token is not None
        application = (ApplicationBuilder().token(self.token).base_url(self.config.base_url)
                       .rate_limiter(self.limiter).concurrent_updates(True).build())
        for command in self.commands:
            application.add_handler(CommandHandler(command.name, self._dispatch(command)))
        application.add_handler(CallbackQueryHandler(self._on_button))
        # Only in private chats: in a group, /x@another_bot is not ours to answer.
        application.add_handler(MessageHandler(filters.COMMAND & filters.ChatType.PRIVATE, self._on_unknown))
        application.add_error_handler(self._on_error)
        return application

    async def start(self) -> None:
        if self.dry_run:
            log.info("Telegram dry run: nothing is sent; pending deliveries are logged and stay pending")
            return
        webhook_secret = self._webhook_secret() if self.config.mode == "webhook" else None
        self.sender.stopping = False  # a bot stopped (or whose start failed) can be started again
        self.application = self.build_application()
        try:
            await self.application.initialize()
            await self.set_menu()
            await self.application.start()
            if webhook_secret is not None:
                await self._start_webhook(webhook_secret)
            else:
                assert self.application.updater is not None
                await self.application.updater.start_polling(
                    allowed_updates=["message", "callback_query"], error_callback=self._on_polling_error)
        except BaseException:
            await self.stop()  # a half-started bot must not keep connections or a port open
            raise
        log.info("Telegram bot @%s is running (%s)", self.application.bot.username, self.config.mode)

    async def stop(self) -> None:
        self.sender.stopping = True
        if self._drains:
            await self._drained.wait()
        if self.application is None:
            return
        application, self.application = self.application, None
        if application.updater is not None and application.updater.running:
            await application.updater.stop()
        if self._webhook is not None:
            await self._webhook.cleanup()
            self._webhook = None
        if application.running:
            await application.stop()
        await application.shutdown()

    async def set_menu(self) -> None:
        """The command menu: public commands for everyone, all commands in admins' chats."""
        assert self.application is not None
        bot = self.application.bot
        public = [BotCommand(c.name, c.description) for c in self.commands if not c.admin]
        await bot.set_my_commands(public, scope=BotCommandScopeDefault())
        everything = [BotCommand(c.name, c.description) for c in self.commands]
        for admin in self.config.admins:
            try:  # an admin who never opened a chat with the bot has no chat to scope to
                await bot.set_my_commands(everything, scope=BotCommandScopeChat(admin))
            except TelegramError as exc:
                log.warning("could not set the admin command menu for %s: %s", admin, exc)

    def _webhook_secret(self) -> str:
        secret_token = secret(self.config.webhook_secret_env)
        if not self.config.webhook_url or not secret_token:
            raise ConfigError("telegram.mode is webhook: set telegram.webhook_url and "
                              f"${self.config.webhook_secret_env} (the secret token)")
        return secret_token

    async def _start_webhook(self, secret_token: str) -> None:
        """Receive updates on our own aiohttp listener (https://core.telegram.org/bots/api#setwebhook)."""
        from aiohttp import web

        assert self.application is not None and self.config.webhook_url
        application = self.application

        async def receive(request: web.Request) -> web.Response:
            # Telegram sends the secret in this header; anything else is not Telegram.
            given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
            if not hmac.compare_digest(given.encode(), secret_token.encode()):
                return web.Response(status=403)
            try:
                update = Update.de_json(await request.json(), application.bot)
            except ValueError:
                return web.Response(status=400)
            await application.update_queue.put(update)
            return web.Response()

        web_app = web.Application()
        web_app.router.add_post(urlsplit(self.config.webhook_url).path or "/", receive)
        runner = web.AppRunner(web_app)
        await runner.setup()
        await web.TCPSite(runner, self.config.webhook_listen, self.config.webhook_port).start()
        self._webhook = runner
        await application.bot.set_webhook(self.config.webhook_url, secret_token=secret_token,
                                          allowed_updates=["message", "callback_query"])

    # -- sending -------------------------------------------------------------

    async def send(self, chat_id: int, html_text: str, keyboard: InlineKeyboardMarkup | None = None) -> list[Message]:
        """Send HTML to a chat, split at paragraph boundaries; the keyboard rides on the last part."""
        if self.dry_run or self.application is None:
            log.info("dry run: would send to chat %s: %s", chat_id, html_text[:200].replace("\n", " "))
            return []
        chunks = split_html(html_text)
        sent = []
        for i, chunk in enumerate(chunks):
            sent.append(await self.application.bot.send_message(
                chat_id, chunk, parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
                reply_markup=keyboard if i == len(chunks) - 1 else None))
        return sent

    async def send_html(self, chat_id: int, html_text: str,
                        keyboard: InlineKeyboardMarkup | None = None) -> list[int]:
        """Send HTML (split if long) and return the message ids; ``[]`` in a dry run."""
        return [m.message_id for m in await self.send(chat_id, html_text, keyboard)]

    def _brief_keyboard(self, brief_id: int) -> InlineKeyboardMarkup | None:
        """Buttons under a pushed brief (issue 12: follow its story, report a problem)."""
        if not any(c.name == "follow" for c in self.commands):
            return None
        from briefing.deliver.telegram.story_commands import keyboard_for_brief

        return keyboard_for_brief(self.app, brief_id)

    async def send_plain(self, chat_id: int, text: str) -> list[int]:
        """Send text without markup (the fallback when Telegram rejects our HTML)."""
        if self.dry_run or self.application is None:
            return []
        ids = []
        for chunk in split_html(esc(text)):  # escaped so the splitter sees no tags; unescaped to send
            message = await self.application.bot.send_message(chat_id, html.unescape(chunk))
            ids.append(message.message_id)
        return ids

    async def drain_deliveries(self, limit: int = 1000) -> DrainReport:
        """Send up to ``limit`` due pending deliveries; see the class docstring."""
        if self.dry_run:
            return await self._dry_drain(limit)
        self._drains += 1
        self._drained.clear()
        try:
            return await self.sender.drain(limit)
        finally:
            self._drains -= 1
            if not self._drains:
                self._drained.set()

    async def _dry_drain(self, limit: int) -> DrainReport:
        report = DrainReport()
        pending = await blocking(self.app.store.pending_deliveries, CHANNEL, limit)
        unlogged = [d for d in pending if d.id not in self._dry_logged]
        briefs = await blocking(self.app.store.get_briefs, [d.brief_id for d in unlogged])
        report.would_send = len(pending)
        for d in unlogged:
            self._dry_logged.add(d.id)
            brief = briefs.get(d.brief_id)
            log.info("dry run: would send brief %s (%s) to chat %s", d.brief_id,
                     brief.headline if brief else "?", d.chat_id)
        return report

    # -- dispatch ------------------------------------------------------------

    def _dispatch(self, command: Command) -> Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[None]]:
        async def handle(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            req = CommandRequest(self, update, list(context.args or []))
            if command.admin and req.user_id not in self.config.admins:
                await req.reply("Sorry, that command is only for the bot's administrators.")
                return
            await command.handler(req)
        return handle

    def is_admin(self, user_id: int | None) -> bool:
        return user_id is not None and user_id in self.config.admins

    async def _on_unknown(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.effective_chat is not None:
            await self.send(update.effective_chat.id, "I don't know that command. /help lists what I can do.")

    async def _on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Inline buttons carry ``+kind:value`` (follow) or ``-kind:value`` (stop following)."""
        query = update.callback_query
        if query is not None and query.data and query.data.startswith("story:"):  # issue 12
            from briefing.deliver.telegram import story_commands

            await story_commands.on_button(self, update)
            return
        if query is None or not query.data or query.data[:1] not in _BUTTON_PREFIX:
            if query is not None:
                await query.answer()
            return
        req = CommandRequest(self, update, [])
        kind, _, value = query.data[1:].partition(":")
        if kind not in SUBSCRIPTION_KINDS or not value:
            await query.answer("That button is out of date.")
            return
        sub = await req.subscriber(reactivate=query.data[0] == "+")
        store = self.app.store
        if query.data[0] == "+":
            await req.run(store.subscribe, sub.id, kind, value)
            note = f"Following {kind} {value}"
        else:
            await req.run(store.unsubscribe, sub.id, kind, value)
            note = f"No longer following {kind} {value}"
        await query.answer(note)
        text, keyboard = await subscriptions_view(req, sub)
        if query.message is not None:
            await query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=keyboard)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log any handler error with its update, apologise to the user, keep the bot running."""
        log.error("error while handling update %s", getattr(update, "update_id", "?"), exc_info=context.error)
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            return
        try:
            await self.send(chat.id, "Sorry, something went wrong on my side. Please try again later.")
        except TelegramError:
            pass

    def _on_polling_error(self, exc: TelegramError) -> None:
        log.warning("Telegram polling error (retrying): %s", exc)

    def help_text(self, user_id: int | None) -> str:
        lines = ["<b>What I can do</b>"]
        for c in self.commands:
            if c.admin and not self.is_admin(user_id):
                continue
            usage = c.usage or f"/{c.name}"
            lines.append(f"{esc(usage)} — {esc(c.description)}" + (" (admin)" if c.admin else ""))
        return "\n".join(lines)


# -- views ---------------------------------------------------------------------

async def subscriptions_view(req: CommandRequest, sub: Subscriber) -> tuple[str, InlineKeyboardMarkup | None]:
    """The user's subscriptions with a button per configured topic and source (and followed keyword) to toggle."""
    store, config = req.app.store, req.app.config
    subs = await req.run(store.subscriptions, sub.id)
    topics = await req.run(known_topics, config, store)
    sources = await req.run(known_sources, store)
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
    sub = await req.run(req.app.store.subscriber_by_chat, req.chat_id)
    if req.text.casefold() == "delete":
        if sub is not None:
            await req.run(req.app.store.delete_subscriber, sub.id)
        await req.reply("Done: everything I stored about this chat is deleted. /start begins again.")
        return
    if sub is not None:
        await req.run(req.app.store.deactivate_subscriber, sub.id, "stopped by the user (/stop)")
    await req.reply("Stopped: I will send nothing more. /start resumes; /stop delete also erases your data.")


async def subscribe_command(req: CommandRequest) -> None:
    sub = await req.subscriber(reactivate=True)
    if not req.args:
        text, keyboard = await subscriptions_view(req, sub)
        await req.reply(text + "\n\nFollow a topic or source with a button, or /subscribe &lt;keyword&gt;.", keyboard)
        return
    store, config = req.app.store, req.app.config
    try:
        target = cmd.resolve_target(req.text, await req.run(known_topics, config, store),
                                    await req.run(known_sources, store))
    except cmd.UsageError as exc:
        await req.reply(str(exc))
        return
    added = await req.run(store.subscribe, sub.id, target.kind, target.value)
    await req.reply(f"Following {target.label()}." if added else f"You already follow {target.label()}.")


async def unsubscribe_command(req: CommandRequest) -> None:
    sub = await req.subscriber()
    if not req.args:
        text, keyboard = await subscriptions_view(req, sub)
        await req.reply(text + "\n\nTap ✓ to stop following, or /unsubscribe &lt;name&gt;.", keyboard)
        return
    kind, sep, value = req.text.partition(":")
    explicit = sep and kind.casefold() in ("topic", "source", "keyword")
    removed = await req.run(req.app.store.unsubscribe, sub.id, kind.casefold() if explicit else None,
                            value if explicit else req.text)
    what = esc(" ".join((value if explicit else req.text).split()).casefold())
    await req.reply(f"No longer following <b>{what}</b>." if removed else
                    f"You don't follow <b>{what}</b>. /subscriptions shows what you do.")


async def subscriptions_command(req: CommandRequest) -> None:
    sub = await req.subscriber()
    text, keyboard = await subscriptions_view(req, sub)
    await req.reply(text, keyboard)


async def summary_command(req: CommandRequest) -> None:
    store, tg = req.app.store, req.bot.config
    replied = req.message.reply_to_message
    quoted = (replied.text or replied.caption) if replied is not None else None
    if quoted and not req.args:
        await summarise_now(req, None, ondemand.text_document(quoted))
    elif req.args and ondemand.looks_like_url(req.text):
        await summarise_now(req, req.text.strip(), None)
    elif req.args:
        briefs = await req.run(ondemand.latest_matching, store, req.text, tg.summary_top_n)
        await req.reply(briefs_html(briefs, f"Latest on {req.text}") if briefs else
                        f"No briefs about <b>{esc(req.text)}</b> yet.")
    else:
        sub = await req.subscriber()
        subs = await req.run(store.subscriptions, sub.id)
        briefs = await req.run(ondemand.top_briefs, store, subs, tg.summary_top_n)
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
        await req.run(req.app.store.update_subscriber, sub.id, digest_telegram=False)
        await req.reply("Daily digest here: off.")
        return
    fields: dict[str, object] = {"digest_time": time_, "digest_telegram": True}
    if tz:
        fields["timezone"] = tz
    sub = await req.run(req.app.store.update_subscriber, sub.id, **fields)
    await req.reply(f"Daily digest here at {time_} ({esc(sub.timezone)}). /digest off stops it.")


async def settings_command(req: CommandRequest) -> None:
    sub = await req.subscriber()
    subs = await req.run(req.app.store.subscriptions, sub.id)
    await req.reply(cmd.settings_text(sub, subs))


async def help_command(req: CommandRequest) -> None:
    await req.reply(req.bot.help_text(req.user_id))


async def sources_command(req: CommandRequest) -> None:
    await req.reply(cmd.sources_text(await req.run(req.app.store.list_sources)))


async def addsource_command(req: CommandRequest) -> None:
    store = req.app.store
    try:
        if len(req.args) != 1:
            raise cmd.UsageError("Use /addsource &lt;url&gt; with the http(s) URL of a feed or page.")
        taken = {s.name for s in await req.run(store.list_sources)}
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
    await req.run(store.add_source, name, "adhoc", location)
    found = " (the feed that page links to)" if discovered else ""
    await req.reply(f"Added source <b>{esc(name)}</b>: <code>{esc(location)}</code>{found}")


async def removesource_command(req: CommandRequest) -> None:
    if not req.args:
        await req.reply("Use /removesource &lt;name&gt;; /sources lists the names.")
        return
    name = req.text
    if await req.run(req.app.store.set_source_active, name, False):
        configured = req.app.config.source(name) is not None
        await req.reply(f"Removed source <b>{esc(name)}</b>: it is no longer polled." +
                        (" It is in config.yaml, so it returns on restart unless removed there." if configured else ""))
    else:
        await req.reply(f"There is no source called <b>{esc(name)}</b>. /sources lists them.")


async def stats_command(req: CommandRequest) -> None:
    await req.reply(cmd.stats_text(await req.run(bot_stats, req.app.store)))


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
