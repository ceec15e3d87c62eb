"""A small Telegram Bot API server on 127.0.0.1, for tests and the delivery benchmark.

It speaks the real HTTP protocol (https://core.telegram.org/bots/api#making-requests):
``POST /bot<token>/<method>`` with JSON, form or multipart parameters, answering
``{"ok": true, "result": ...}`` or ``{"ok": false, "error_code": ..., "description": ...,
"parameters": {...}}``. It validates like Telegram does where our bot could get it wrong —
HTML parse mode (only Telegram's tags and entities; an unescaped ``<`` is an error), the
4,096-character limit, callback data of at most 64 bytes, command names — and can be told
to fail: 429 with ``retry_after``, 403 for a blocked chat, 400 "chat not found", or 5xx.
Every call is recorded. Tests push user updates (messages, button presses) that the bot
receives through ``getUpdates`` long polling with offsets.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from dataclasses import dataclass
from typing import Any

from aiohttp import web

TOKEN = "123456:TEST-token"
BOT_USER = {"id": 123456, "is_bot": True, "first_name": "Briefing", "username": "briefing_test_bot",
            "can_join_groups": True, "can_read_all_group_messages": False, "supports_inline_queries": False}
# https://core.telegram.org/bots/api#html-style
ALLOWED_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre",
                "tg-spoiler", "span", "blockquote", "tg-emoji"}
_ENTITY = re.compile(r"&(#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+);")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_COMMAND_NAME = re.compile(r"^[a-z0-9_]{1,32}$")


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float
    status: int = 200


@dataclass
class Failure:
    status: int
    description: str
    parameters: dict[str, Any] | None = None  # ResponseParameters: retry_after, migrate_to_chat_id
    chat_id: int | None = None  # None: any chat
    times: int = 1
    after: int = 0  # let this many matching calls succeed first


@dataclass
class _Update:
    update_id: int
    payload: dict[str, Any]


class APIError(Exception):
    def __init__(self, status: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.status, self.description, self.parameters = status, description, parameters


def parse_html(text: str) -> str:
    """The plain text of Telegram HTML, or APIError 400 as Telegram words it."""
    out: list[str] = []
    stack: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "<":
            end = text.find(">", i)
            if end < 0:
                raise _entities_error(f"Unclosed start tag at byte offset {_offset(text, i)}")
            tag = text[i + 1:end]
            if tag.startswith("/"):
                name = tag[1:].strip().lower()
                if not stack or stack[-1] != name:
                    expected = stack[-1] if stack else ""
                    raise _entities_error(f'Unmatched end tag at byte offset {_offset(text, i)}, '
                                          f'expected "</{expected}>", found "</{name}>"')
                stack.pop()
            else:
                name = (tag.split(None, 1) or [""])[0].lower()
                if name not in ALLOWED_TAGS:
                    raise _entities_error(f'Unsupported start tag "{name}" at byte offset {_offset(text, i)}')
                if name == "a" and not re.search(r'href\s*=\s*"[^"]*"', tag):
                    raise _entities_error(f"Can't parse a tag without href at byte offset {_offset(text, i)}")
                stack.append(name)
            i = end + 1
        elif ch == "&":
            m = _ENTITY.match(text, i)
            if m is None:
                out.append("&")  # a bare ampersand is taken literally
                i += 1
                continue
            body = m.group(1)
            if body.startswith("#x"):
                out.append(chr(int(body[2:], 16)))
            elif body.startswith("#"):
                out.append(chr(int(body[1:])))
            elif body in _NAMED:
                out.append(_NAMED[body])
            else:
                raise _entities_error(f'Unsupported HTML entity "&{body};" at byte offset {_offset(text, i)}')
            i = m.end()
        else:
            out.append(ch)
            i += 1
    if stack:
        raise _entities_error(f'Can\'t find end tag corresponding to start tag "{stack[-1]}"')
    return "".join(out)


def _offset(text: str, i: int) -> int:
    return len(text[:i].encode("utf-8"))


def _entities_error(reason: str) -> APIError:
    return APIError(400, f"Bad Request: can't parse entities: {reason}")


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class BotAPIServer:
    """``await server.start()`` -> ``server.base_url`` for python-telegram-bot's ``base_url``."""

    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.calls: list[Call] = []
        self.failures: dict[str, list[Failure]] = {}
        self.blocked: set[int] = set()  # 403 bot was blocked by the user
        self.missing: set[int] = set()  # 400 chat not found
        self.delays: dict[str, float] = {}  # seconds before answering a method
        self.commands: dict[str, list[dict[str, Any]]] = {}  # scope (JSON) -> commands
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}
        self.webhook: str | None = None
        self._updates: list[_Update] = []
        self._next_update = 1
        self._next_message: dict[int, int] = {}
        self._callbacks: set[str] = set()
        self._changed: asyncio.Condition | None = None
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- life cycle ----------------------------------------------------------

    async def start(self) -> "BotAPIServer":
        self._changed = asyncio.Condition()
        app = web.Application(client_max_size=10 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/_calls", self._calls)  # not Telegram: lets another process read the record
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]  # noqa: SLF001
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        """The ``base_url`` to give python-telegram-bot (the token is appended to it)."""
        return f"http://127.0.0.1:{self.port}/bot"

    # -- what tests do -------------------------------------------------------

    def push_message(self, chat_id: int, text: str, *, user_id: int | None = None,
                     reply_to: dict[str, Any] | None = None, first_name: str = "Ada") -> int:
        """A user sends ``text`` in a private chat; returns the update id."""
        user = {"id": user_id if user_id is not None else chat_id, "is_bot": False, "first_name": first_name}
        message: dict[str, Any] = {
            "message_id": self._new_message_id(chat_id), "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": first_name}, "from": user, "text": text}
        command = re.match(r"/\w+(@\w+)?", text)
        if command:
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": command.end()}]
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        return self._push({"message": message})

    def push_button(self, chat_id: int, data: str, message: dict[str, Any], *, user_id: int | None = None) -> str:
        """A user presses an inline button with ``data`` under ``message``; returns the query id."""
        query_id = f"cq{self._next_update}"
        self._callbacks.add(query_id)
        user = {"id": user_id if user_id is not None else chat_id, "is_bot": False, "first_name": "Ada"}
        self._push({"callback_query": {"id": query_id, "from": user, "chat_instance": str(chat_id),
                                       "data": data, "message": message}})
        return query_id

    def fail(self, method: str, status: int, description: str, *, retry_after: int | None = None,
             parameters: dict[str, Any] | None = None, chat_id: int | None = None, times: int = 1,
             after: int = 0) -> None:
        """Answer the next ``times`` calls of ``method`` (to ``chat_id``, if given) with an error,
        after letting ``after`` of them succeed."""
        if retry_after is not None:
            parameters = {**(parameters or {}), "retry_after": retry_after}
        self.failures.setdefault(method, []).append(Failure(status, description, parameters, chat_id, times, after))

    def sent(self, chat_id: int | None = None, method: str = "sendMessage") -> list[Call]:
        """Successful calls of ``method`` (to ``chat_id``)."""
        return [c for c in self.calls if c.method == method and c.status == 200
                and (chat_id is None or int(c.params.get("chat_id", 0)) == chat_id)]

    def texts(self, chat_id: int | None = None) -> list[str]:
        """The plain text of every message sent (to ``chat_id``), as a user sees it."""
        out = []
        for c in self.sent(chat_id):
            text = c.params["text"]
            out.append(parse_html(text) if c.params.get("parse_mode") == "HTML" else text)
        return out

    async def wait_for(self, method: str, count: int = 1, *, chat_id: int | None = None,
                       timeout: float = 10.0) -> list[Call]:
        """Wait until ``count`` successful calls of ``method`` (to ``chat_id``) were made."""
        assert self._changed is not None
        async with asyncio.timeout(timeout):
            async with self._changed:
                await self._changed.wait_for(lambda: len(self.sent(chat_id, method)) >= count)
        return self.sent(chat_id, method)

    async def _calls(self, request: web.Request) -> web.Response:
        since = int(request.query.get("since", 0))
        with_text = request.query.get("text") == "1"
        return _json({"calls": [{"method": c.method, "at": c.at, "status": c.status,
                                 "chat_id": c.params.get("chat_id"),
                                 **({"text": c.params.get("text")} if with_text else {})}
                                for c in self.calls[since:]]})

    # -- protocol ------------------------------------------------------------

    def _push(self, payload: dict[str, Any]) -> int:
        update_id = self._next_update
        self._next_update += 1
        self._updates.append(_Update(update_id, payload))
        self._notify()
        return update_id

    def _notify(self) -> None:
        async def notify() -> None:
            assert self._changed is not None
            async with self._changed:
                self._changed.notify_all()
        asyncio.get_running_loop().create_task(notify())

    def _new_message_id(self, chat_id: int) -> int:
        self._next_message[chat_id] = self._next_message.get(chat_id, 0) + 1
        return self._next_message[chat_id]

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            return _json({"ok": False, "error_code": 401, "description": "Unauthorized"}, 401)
        params = await _params(request)
        call = Call(method, params, time.monotonic())
        self.calls.append(call)
        try:
            if method in self.delays:
                await asyncio.sleep(self.delays[method])
            self._injected_failure(method, params)
            handler = getattr(self, f"_m_{method}", None)
            if handler is None:
                raise APIError(404, "Not Found")
            result = await handler(params)
        except APIError as exc:
            call.status = exc.status
            body: dict[str, Any] = {"ok": False, "error_code": exc.status, "description": exc.description}
            if exc.parameters:
                body["parameters"] = exc.parameters
            return _json(body, exc.status)
        self._notify()
        return _json({"ok": True, "result": result})

    def _injected_failure(self, method: str, params: dict[str, Any]) -> None:
        chat = _int(params.get("chat_id"))
        if method in ("sendMessage", "editMessageText", "sendChatAction"):
            if chat in self.blocked:
                raise APIError(403, "Forbidden: bot was blocked by the user")
            if chat in self.missing:
                raise APIError(400, "Bad Request: chat not found")
        for failure in self.failures.get(method, []):
            if failure.times > 0 and (failure.chat_id is None or failure.chat_id == chat):
                if failure.after > 0:
                    failure.after -= 1
                    continue
                failure.times -= 1
                raise APIError(failure.status, failure.description, failure.parameters)

    async def _m_getMe(self, params: dict[str, Any]) -> Any:  # noqa: N802 - Bot API method names
        return BOT_USER

    async def _m_getUpdates(self, params: dict[str, Any]) -> Any:  # noqa: N802
        offset = _int(params.get("offset")) or 0
        limit = _int(params.get("limit")) or 100
        timeout = float(params.get("timeout") or 0)
        # Calling with an offset confirms every update below it: Telegram forgets them.
        self._updates = [u for u in self._updates if u.update_id >= offset]
        if not self._updates and timeout > 0:
            assert self._changed is not None
            try:
                async with asyncio.timeout(timeout):
                    async with self._changed:
                        await self._changed.wait_for(lambda: bool(self._updates))
            except TimeoutError:
                pass
        return [{"update_id": u.update_id, **u.payload} for u in self._updates[:limit]]

    async def _m_sendMessage(self, params: dict[str, Any]) -> Any:  # noqa: N802
        chat_id = _require_chat(params)
        text = self._checked_text(params)
        message = {"message_id": self._new_message_id(chat_id), "date": int(time.time()),
                   "chat": {"id": chat_id, "type": "private"}, "from": BOT_USER, "text": text}
        if "reply_markup" in params:
            _check_markup(params["reply_markup"])
            message["reply_markup"] = params["reply_markup"]
        self.messages[(chat_id, message["message_id"])] = message
        return message

    async def _m_editMessageText(self, params: dict[str, Any]) -> Any:  # noqa: N802
        chat_id = _require_chat(params)
        key = (chat_id, _int(params.get("message_id")) or 0)
        if key not in self.messages:
            raise APIError(400, "Bad Request: message to edit not found")
        text = self._checked_text(params)
        message = self.messages[key]
        if message["text"] == text and "reply_markup" not in params:
            raise APIError(400, "Bad Request: message is not modified: specified new message content and reply "
                                "markup are exactly the same as a current content and reply markup of the message")
        if "reply_markup" in params:
            _check_markup(params["reply_markup"])
            message["reply_markup"] = params["reply_markup"]
        message["text"] = text
        return message

    def _checked_text(self, params: dict[str, Any]) -> str:
        text = str(params.get("text", ""))
        plain = parse_html(text) if params.get("parse_mode") == "HTML" else text
        if not plain.strip():
            raise APIError(400, "Bad Request: message text is empty")
        if _utf16(plain) > 4096:
            raise APIError(400, "Bad Request: message is too long")
        return text

    async def _m_sendChatAction(self, params: dict[str, Any]) -> Any:  # noqa: N802
        _require_chat(params)
        if params.get("action") not in ("typing", "upload_photo", "record_video", "upload_video",
                                        "record_voice", "upload_voice", "upload_document", "choose_sticker",
                                        "find_location", "record_video_note", "upload_video_note"):
            raise APIError(400, "Bad Request: wrong parameter action in request")
        return True

    async def _m_setMyCommands(self, params: dict[str, Any]) -> Any:  # noqa: N802
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise APIError(400, "Bad Request: commands must be an array of at most 100 BotCommand")
        for c in commands:
            if not _COMMAND_NAME.match(str(c.get("command", ""))):
                raise APIError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(str(c.get("description", ""))) <= 256:
                raise APIError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        self.commands[json.dumps(params.get("scope") or {"type": "default"}, sort_keys=True)] = commands
        return True

    async def _m_getMyCommands(self, params: dict[str, Any]) -> Any:  # noqa: N802
        return self.commands.get(json.dumps(params.get("scope") or {"type": "default"}, sort_keys=True), [])

    async def _m_deleteWebhook(self, params: dict[str, Any]) -> Any:  # noqa: N802
        self.webhook = None
        return True

    async def _m_setWebhook(self, params: dict[str, Any]) -> Any:  # noqa: N802
        self.webhook = str(params.get("url"))
        return True

    async def _m_answerCallbackQuery(self, params: dict[str, Any]) -> Any:  # noqa: N802
        if params.get("callback_query_id") not in self._callbacks:
            raise APIError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
        self._callbacks.discard(params["callback_query_id"])
        return True


def _json(body: dict[str, Any], status: int = 200) -> web.Response:
    return web.Response(text=json.dumps(body), status=status, content_type="application/json")


async def _params(request: web.Request) -> dict[str, Any]:
    """Bot API parameters come as a query string, JSON, urlencoded or multipart form."""
    params: dict[str, Any] = dict(request.query)
    if request.content_type == "application/json":
        params.update(await request.json())
    elif request.can_read_body:
        form = await request.post()
        for key, value in form.items():
            params[key] = value if not isinstance(value, str) else _maybe_json(value)
    return params


def _maybe_json(value: str) -> Any:
    # Complex parameters (reply_markup, commands, scope) arrive JSON-serialised in forms.
    if value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _require_chat(params: dict[str, Any]) -> int:
    chat = _int(params.get("chat_id"))
    if chat is None:
        raise APIError(400, "Bad Request: chat_id is empty")
    return chat


def _check_markup(markup: Any) -> None:
    if not isinstance(markup, dict):
        raise APIError(400, "Bad Request: can't parse reply keyboard markup JSON object")
    for row in markup.get("inline_keyboard", []):
        for button in row:
            if len(str(button.get("callback_data", "")).encode()) > 64:
                raise APIError(400, "Bad Request: BUTTON_DATA_INVALID")


async def ask(botapi: BotAPIServer, chat_id: int, text: str, *, user_id: int | None = None,
              replies: int = 1, reply_to: dict[str, Any] | None = None) -> str:
    """Send ``text`` to the bot as a user and return the bot's answer(s) as the user sees them."""
    before = len(botapi.sent(chat_id))
    botapi.push_message(chat_id, text, user_id=user_id, reply_to=reply_to)
    await botapi.wait_for("sendMessage", before + replies, chat_id=chat_id)
    return "\n\n".join(botapi.texts(chat_id)[before:])


class ThreadedBotAPIServer:
    """The server on its own event loop in a thread (for code under test that runs its own loop)."""

    def __init__(self) -> None:
        self.server = BotAPIServer()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def start(self) -> BotAPIServer:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.server.start(), self._loop).result(10)
        return self.server

    def stop(self) -> None:
        async def shutdown() -> None:
            await self.server.stop()
            # A long poll may still be parked in getUpdates: end it before the loop stops.
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)


async def _serve_forever(delays: dict[str, float]) -> None:
    server = await BotAPIServer().start()
    server.delays.update(delays)
    print(f"PORT {server.port}", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    # ``python -m tests.support.botapi``: the server in its own process (for the benchmark,
    # so that client and server do not share one interpreter); ``GET /_calls`` returns the record.
    # ``--delay sendMessage=0.02`` answers that method only after the delay (the soak benchmark).
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--delay", action="append", default=[], metavar="METHOD=SECONDS")
    options = parser.parse_args()
    asyncio.run(_serve_forever({m: float(v) for m, v in (d.split("=", 1) for d in options.delay)}))
