"""The Telegram bot: commands, inline buttons, pushed briefs and on-demand summaries.

Built on python-telegram-bot 22 (asyncio). :class:`TelegramBot` is what ``briefing run`` holds;
see its docstring for the contract. Commands are :class:`Command` entries — name, menu
description, handler — assembled into one list that drives the handlers, ``/help`` and the
``setMyCommands`` menu, so the three can never disagree. The service adds the other commands by
passing ``extra_commands`` (one list, :func:`briefing.service.bot_commands.bot_commands`).
"""

from __future__ import annotations

import asyncio
import html
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from telegram import (
    BotCommand,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    Update,
)
from telegram.constants import ParseMode
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

from briefing.app import App
from briefing.blocking import blocking
from briefing.config import TelegramConfig
from briefing.deliver.telegram import ondemand
from briefing.deliver.telegram import story_commands
from briefing.deliver.telegram.flood import FloodLimiter
from briefing.deliver.telegram.format import esc, split_html
from briefing.deliver.telegram.handlers import core_commands, subscription_button
from briefing.deliver.telegram.request import Command, CommandRequest
from briefing.deliver.telegram.sender import CHANNEL, DeliverySender, DrainReport
from briefing.deliver.telegram.webhook import start_webhook, webhook_secret
from briefing.errors import ConfigError

log = logging.getLogger(__name__)


class TelegramBot:
    """The bot inside ``briefing run``.

    ``TelegramBot(app, config, token=..., dry_run=False, summarise=None, extra_commands=())``

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
        secret_token = webhook_secret(self.config) if self.config.mode == "webhook" else None
        self.sender.stopping = False  # a bot stopped (or whose start failed) can be started again
        self.application = self.build_application()
        try:
            await self.application.initialize()
            await self.set_menu()
            await self.application.start()
            if secret_token is not None:
                self._webhook = await start_webhook(self.application, self.config, secret_token)
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
        return story_commands.keyboard_for_brief(self.app, brief_id)

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
        pending = await blocking(self.app.pending_deliveries, CHANNEL, limit)
        unlogged = [d for d in pending if d.id not in self._dry_logged]
        briefs = await blocking(self.app.briefs_by_id, [d.brief_id for d in unlogged])
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
        if query is not None and query.data and query.data.startswith(story_commands.PREFIX):  # issue 12
            await story_commands.on_button(self, update)
            return
        req = CommandRequest(self, update, [])
        await subscription_button(req)

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
