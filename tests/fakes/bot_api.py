"""A fake Telegram Bot API HTTP server for tests and benchmarks (aiohttp, 127.0.0.1).

    api = FakeBotApi()
    await api.start()                      # api.url → give it as TELEGRAM_API_URL
    pushed = api.push_text(42, "/start")   # a user message, served to getUpdates
    await api.wait_for(lambda c: c.method == "sendMessage" and c.chat_id == "42")
    api.calls                              # every request, in arrival order (ApiCall)
    api.forbid(42)                         # 403 "bot was blocked by the user" for that chat
    api.files[file_id]                     # bytes of every uploaded document
    await api.stop()

Webhook mode, as Telegram pushes: after the bot's ``setWebhook`` (``api.webhook``: url, secret)

    pushed = api.push_text(42, "/start")   # the same updates, then
    status = await api.post_update(pushed) # POSTed to the webhook with the secret header: 200
    await api.post_update(pushed, secret=None)           # without it (403 expected)
    await api.post_update(pushed, url=other_replica_url) # a retry that reaches another replica
    api.hold_sends(); ...; api.release_sends()           # sends wait (an update "in hand")
    api.down = True                                      # every call fails (503): Bot API down

It implements what python-telegram-bot calls: getMe, getUpdates (long poll with ``timeout``,
confirming updates by ``offset``), sendMessage, editMessageText, editMessageReplyMarkup,
answerCallbackQuery, deleteMessage, sendDocument (multipart upload → a new file_id, or an
existing file_id; an unknown one gets 400), setMyCommands/getMyCommands/deleteMyCommands,
setWebhook, deleteWebhook, getWebhookInfo, close, logOut. Unknown methods get 404.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

TOKEN = "123456789:TEST-token-abcdefghijklmnopqrstuvwxyz012"
BOT_USER = {
    "id": 123456789,
    "is_bot": True,
    "first_name": "Area Clienti",
    "username": "AreaClientiTestBot",
    "can_join_groups": False,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}


@dataclass(frozen=True)
class ApiCall:
    """One request the bot made: method, form parameters (JSON values decoded), uploads."""

    method: str
    params: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)
    at: float = 0.0  # time.monotonic() when it arrived
    result: Any = None  # what the fake answered (the Message for sends)

    @property
    def chat_id(self) -> str | None:
        """The target chat as text, when the method has one."""
        value = self.params.get("chat_id")
        return None if value is None else str(value)

    @property
    def text(self) -> str | None:
        """sendMessage's text or sendDocument's caption."""
        return self.params.get("text") or self.params.get("caption")

    @property
    def buttons(self) -> list[tuple[str, str]]:
        """(label, callback_data) of every inline button, row by row."""
        markup = self.params.get("reply_markup") or {}
        return [
            (b["text"], b.get("callback_data", ""))
            for row in markup.get("inline_keyboard", [])
            for b in row
        ]


@dataclass(frozen=True)
class Webhook:
    """What the bot registered with ``setWebhook``."""

    url: str
    secret: str | None
    allowed_updates: list[str] | None


@dataclass(frozen=True)
class Pushed:
    """An update the test queued: its update_id and (for messages) the message_id."""

    update_id: int
    message_id: int | None


class FakeBotApi:
    """The fake server. Every public attribute may be read by tests; see the module doc."""

    def __init__(self, token: str = TOKEN, host: str = "127.0.0.1", port: int = 0) -> None:
        self.token = token
        self.host = host
        self.port = port
        self.calls: list[ApiCall] = []
        self.files: dict[str, bytes] = {}
        self.forbidden: set[str] = set()
        self.commands: dict[str, list[dict[str, str]]] = {}
        self.deleted: set[tuple[str, int]] = set()
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._file_ids = itertools.count(1)
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._closing = False
        self.webhook: Webhook | None = None  # the last setWebhook
        self.down = False  # True: every call answers 503 (the Bot API is unreachable)
        self._pushed: dict[int, dict[str, Any]] = {}  # every update made, for post_update
        self._sends_open = asyncio.Event()
        self._sends_open.set()
        self.sends_waiting = 0  # sends held by ``hold_sends``

    @property
    def url(self) -> str:
        """The server's address, for TELEGRAM_API_URL."""
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        """Listen on ``host:port`` (a free port when 0)."""
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_post("/bot{token}/{method}", self._serve)
        app.router.add_get("/bot{token}/{method}", self._serve)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]

    async def stop(self) -> None:
        """Answer pending long polls and stop listening."""
        self._closing = True
        async with self._changed:
            self._changed.notify_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # --- what the test feeds ----------------------------------------------------------------

    def push_text(
        self, chat_id: int | str, text: str, *, language_code: str | None = "it"
    ) -> Pushed:
        """A user typed ``text`` (a leading ``/`` makes it a command, as Telegram marks it)."""
        message = self._user_message(chat_id, language_code, text=text)
        if text.startswith("/"):
            length = len(text.split()[0])
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        return self._push({"message": message}, message["message_id"])

    def push_photo(self, chat_id: int | str, *, language_code: str | None = "it") -> Pushed:
        """A user sent a photo."""
        size = {"file_id": "photo-1", "file_unique_id": "p1", "width": 90, "height": 90}
        message = self._user_message(chat_id, language_code, photo=[size])
        return self._push({"message": message}, message["message_id"])

    def push_sticker(self, chat_id: int | str, *, language_code: str | None = "it") -> Pushed:
        """A user sent a sticker."""
        sticker = {
            "file_id": "sticker-1",
            "file_unique_id": "s1",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
        }
        message = self._user_message(chat_id, language_code, sticker=sticker)
        return self._push({"message": message}, message["message_id"])

    def push_button(
        self,
        chat_id: int | str,
        data: str,
        *,
        message_id: int | None = None,
        language_code: str | None = "it",
    ) -> Pushed:
        """A user pressed an inline button with ``data`` on the bot's message ``message_id``."""
        query_id = f"cq{next(self._update_ids)}"
        message = {
            "message_id": message_id or 1,
            "date": int(time.time()),
            "chat": self._chat(chat_id),
            "from": BOT_USER,
            "text": "…",
        }
        query = {
            "id": query_id,
            "from": self._user(chat_id, language_code),
            "chat_instance": f"ci{chat_id}",
            "data": data,
            "message": message,
        }
        return self._push({"callback_query": query}, None)

    async def post_update(
        self,
        pushed: Pushed | int,
        *,
        url: str | None = None,
        secret: str | bool | None = True,
        body: bytes | None = None,
    ) -> int:
        """POST an update to the webhook as Telegram does; the HTTP status. ``url``: another
        address (a retry reaching another replica); ``secret``: True the registered one, None
        no header, a text that header; ``body``: raw bytes instead of the update's JSON."""
        update_id = pushed if isinstance(pushed, int) else pushed.update_id
        target = url or (self.webhook.url if self.webhook else None)
        assert target, "no webhook registered (setWebhook) and no url given"
        headers = {"Content-Type": "application/json"}
        token = (self.webhook.secret if self.webhook else None) if secret is True else secret
        if isinstance(token, str):
            headers["X-Telegram-Bot-Api-Secret-Token"] = token
        data = body if body is not None else json.dumps(self._pushed[update_id]).encode()
        async with (
            aiohttp.ClientSession() as session,
            session.post(target, data=data, headers=headers) as response,
        ):
            await response.read()
            return response.status

    def hold_sends(self) -> None:
        """From now on sendMessage/sendDocument wait for ``release_sends`` before answering."""
        self._sends_open.clear()

    def release_sends(self) -> None:
        """Let held sends (and later ones) through."""
        self._sends_open.set()

    async def wait_sends_held(self, count: int = 1, timeout: float = 10.0) -> None:
        """Wait until ``count`` sends are being held."""
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: self.sends_waiting >= count)

    def forbid(self, chat_id: int | str) -> None:
        """From now on every call for this chat gets 403 (the user blocked the bot)."""
        self.forbidden.add(str(chat_id))

    def sent(self, chat_id: int | str | None = None, since: int = 0) -> list[ApiCall]:
        """sendMessage/sendDocument calls (to one chat), from index ``since`` of ``calls``."""
        return [
            c
            for c in self.calls[since:]
            if c.method in ("sendMessage", "sendDocument")
            and (chat_id is None or c.chat_id == str(chat_id))
        ]

    async def wait_for(
        self, predicate: Callable[[ApiCall], bool], count: int = 1, timeout: float = 10.0
    ) -> list[ApiCall]:
        """Wait until ``count`` recorded calls satisfy ``predicate``; return them."""
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: sum(map(predicate, self.calls)) >= count)
            return [c for c in self.calls if predicate(c)]

    # --- the server ---------------------------------------------------------------------------

    async def _serve(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        if self.down:
            return _error(503, "Service Unavailable")
        params, files = await _read(request)
        if method in ("sendMessage", "sendDocument") and not self._sends_open.is_set():
            await self._held()
        chat_id = params.get("chat_id")
        if chat_id is not None and str(chat_id) in self.forbidden:
            await self._record(method, params, files, None)
            return _error(403, "Forbidden: bot was blocked by the user")
        if method == "getUpdates":
            return _ok(await self._get_updates(params))
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return _error(404, "Not Found")
        try:
            result = handler(params, files)
        except _ApiError as error:
            await self._record(method, params, files, None)
            return _error(error.code, error.description)
        await self._record(method, params, files, result)
        return _ok(result)

    async def _held(self) -> None:
        async with self._changed:
            self.sends_waiting += 1
            self._changed.notify_all()
        try:
            await self._sends_open.wait()
        finally:
            self.sends_waiting -= 1

    async def _record(
        self, method: str, params: dict[str, Any], files: dict[str, bytes], result: Any
    ) -> None:
        async with self._changed:
            self.calls.append(ApiCall(method, params, files, time.monotonic(), result))
            self._changed.notify_all()

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        timeout = float(params.get("timeout") or 0)
        if offset:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        await self._record("getUpdates", params, {}, None)
        async with self._changed:
            if not self._updates and timeout > 0 and not self._closing:
                try:
                    async with asyncio.timeout(timeout):
                        await self._changed.wait_for(lambda: bool(self._updates) or self._closing)
                except TimeoutError:
                    pass
        return list(self._updates[:100])

    def _m_getMe(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        return BOT_USER

    def _m_sendMessage(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        return self._bot_message(params, text=params["text"])

    def _m_sendDocument(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        if "document" in files:
            file_id = f"doc-{next(self._file_ids)}"
            self.files[file_id] = files["document"]
            size = len(files["document"])
        elif params.get("document") in self.files:
            file_id = params["document"]
            size = len(self.files[file_id])
        else:
            raise _ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        document = {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "file_name": params.get("filename") or params.get("document_filename") or "file.pdf",
            "file_size": size,
        }
        caption = {"caption": params["caption"]} if params.get("caption") else {}
        return self._bot_message(params, document=document, **caption)

    def _m_editMessageText(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        return self._bot_message(params, text=params["text"], message_id=params.get("message_id"))

    def _m_editMessageReplyMarkup(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        return self._bot_message(params, text="…", message_id=params.get("message_id"))

    def _m_deleteMessage(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        key = (str(params["chat_id"]), int(params["message_id"]))
        if key in self.deleted:
            raise _ApiError(400, "Bad Request: message to delete not found")
        self.deleted.add(key)
        return True

    def _m_answerCallbackQuery(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        return True

    def _m_setMyCommands(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        self.commands[params.get("language_code") or ""] = params["commands"]
        return True

    def _m_getMyCommands(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        return self.commands.get(params.get("language_code") or "", [])

    def _m_deleteMyCommands(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        self.commands.pop(params.get("language_code") or "", None)
        return True

    def _m_setWebhook(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        allowed = params.get("allowed_updates")
        self.webhook = Webhook(params["url"], params.get("secret_token"), allowed)
        return True

    def _m_deleteWebhook(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        self.webhook = None
        return True

    def _m_getWebhookInfo(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        url = self.webhook.url if self.webhook else ""
        return {"url": url, "has_custom_certificate": False, "pending_update_count": 0}

    def _m_close(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        return True

    _m_logOut = _m_close

    # --- building objects ---------------------------------------------------------------------

    def _push(self, body: dict[str, Any], message_id: int | None) -> Pushed:
        update_id = next(self._update_ids)
        self._updates.append({"update_id": update_id, **body})
        self._pushed[update_id] = {"update_id": update_id, **body}
        asyncio.get_running_loop().create_task(self._notify())
        return Pushed(update_id, message_id)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    @staticmethod
    def _chat(chat_id: int | str) -> dict[str, Any]:
        return {"id": int(chat_id), "type": "private", "first_name": "Cliente"}

    @staticmethod
    def _user(chat_id: int | str, language_code: str | None) -> dict[str, Any]:
        user: dict[str, Any] = {"id": int(chat_id), "is_bot": False, "first_name": "Cliente"}
        if language_code:
            user["language_code"] = language_code
        return user

    def _user_message(
        self, chat_id: int | str, language_code: str | None, **content: Any
    ) -> dict[str, Any]:
        return {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": self._chat(chat_id),
            "from": self._user(chat_id, language_code),
            **content,
        }

    def _bot_message(
        self, params: dict[str, Any], *, message_id: Any = None, **content: Any
    ) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": int(message_id) if message_id else next(self._message_ids),
            "date": int(time.time()),
            "chat": self._chat(params["chat_id"]),
            "from": BOT_USER,
            **content,
        }
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        return message


class _ApiError(Exception):
    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


async def _read(request: web.Request) -> tuple[dict[str, Any], dict[str, bytes]]:
    """Form fields (each JSON-decoded when it is JSON) and uploaded files."""
    params: dict[str, Any] = {}
    files: dict[str, bytes] = {}
    if request.content_type == "application/json":
        params = dict(await request.json())
        return params, files
    form = await request.post()
    for name, value in form.items():
        if isinstance(value, web.FileField):
            files[name] = value.file.read()
            params[f"{name}_filename"] = value.filename
        else:
            params[name] = _decode(str(value))
    return params, files


def _decode(value: str) -> Any:
    if value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _error(code: int, description: str) -> web.Response:
    return web.json_response(
        {"ok": False, "error_code": code, "description": description}, status=code
    )
