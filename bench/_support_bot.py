"""Helper of ``bench/console_load.py`` and ``bench/replicas.py``: customers typing to the bot.

The fake Bot API of ``tests/fakes`` runs in a child process of its own (its own core and GIL,
as Telegram's servers are not in the bot's process), with a driver beside it: ``concurrency``
customers, each typing a message and waiting for the bot's answer before the next one (a closed
loop). A turn is one message, served to ``getUpdates`` or POSTed to a webhook, until the first
``sendMessage`` (or ``sendDocument``) to that chat. Each customer takes the next chat of a large
pool, so no chat comes near the core's per-chat flood limit (60 a minute) and a late second
message of a turn goes to a chat nobody waits on.

    api = BotApiProcess(); api.start()            # api.url, api.token for the Settings
    figures = await api.drive(chats, texts, concurrency=32, seconds=10)   # polling
    figures = await api.drive(..., webhooks=[url1, url2], secret=s)      # webhook, in turn
    sent = await api.unawaited()                  # messages nobody waited for (notices)
    api.stop()

``unlimited_application(settings)`` is ``bot.telegram_app.build_application`` (polling) without
the client-side flood limiter (``AIORateLimiter``, 30 messages/s per token): the in-process
bench measures the engine's own ceiling, not Telegram's budget. (``bench/replicas.py`` runs
``main.py`` itself and lifts that limiter through ``TELEGRAM_NOTICES_PER_SECOND`` instead.)
"""

from __future__ import annotations

import asyncio
import itertools
import multiprocessing
import multiprocessing.connection
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a file: the root

from tests.fakes.bot_api import FakeBotApi

TURN_TIMEOUT_SECONDS = 30.0
WARM_UP_SECONDS = 1.0


@dataclass(frozen=True)
class TurnFigures:
    """What the customers saw in one measured window."""

    turns: int
    seconds: float
    p50_ms: float
    p95_ms: float
    late: int  # turns not answered within TURN_TIMEOUT_SECONDS
    server_cores: float  # CPU the fake server and the customers used (1.0: a whole core)

    @property
    def per_second(self) -> float:
        """Turns answered per second."""
        return self.turns / self.seconds if self.seconds else 0.0


def unlimited_application(settings: Any) -> Any:
    """The bot's Application as ``build_application`` makes it, minus the flood limiter."""
    from telegram.ext import ApplicationBuilder

    from bot.telegram_app import POLL_TIMEOUT_SECONDS

    return (
        ApplicationBuilder()
        .token(settings.telegram_bot_token)
        .base_url(settings.telegram_api_url + "/bot")
        .base_file_url(settings.telegram_api_url + "/file/bot")
        .concurrent_updates(True)
        .get_updates_read_timeout(POLL_TIMEOUT_SECONDS + 10)
        .build()
    )


class AnsweringBotApi(FakeBotApi):
    """The fake server, recording nothing: each answer settles the turn waiting on its chat."""

    def __init__(self) -> None:
        super().__init__()
        self.waiting: dict[str, asyncio.Future[float]] = {}
        self.unawaited = 0  # messages nobody waited for (notices, second messages of a turn)

    async def _record(
        self, method: str, params: dict[str, Any], files: dict[str, bytes], result: Any
    ) -> None:
        if method not in ("sendMessage", "sendDocument"):
            return
        waiter = self.waiting.pop(str(params.get("chat_id")), None)
        if waiter is None or waiter.done():
            self.unawaited += 1
        else:
            waiter.set_result(time.perf_counter())

    async def turn(self, chat_id: str, text: str, webhook: Webhook | None) -> float | None:
        """Type ``text`` in ``chat_id``; milliseconds until the answer (None: none came).
        With ``webhook``, the update is POSTed to the next replica's webhook (as Telegram
        pushes through a load balancer) instead of waiting for ``getUpdates``."""
        waiter = asyncio.get_running_loop().create_future()
        self.waiting[chat_id] = waiter
        started = time.perf_counter()
        pushed = self.push_text(chat_id, text)
        if webhook is not None:
            await webhook.post(self._pushed[pushed.update_id])  # answers once handled
        try:
            answered = await asyncio.wait_for(waiter, TURN_TIMEOUT_SECONDS)
        except TimeoutError:
            self.waiting.pop(chat_id, None)
            return None
        return (answered - started) * 1000


class Webhook:
    """Telegram's pushes to the replicas' webhooks, round robin, on kept-alive connections."""

    def __init__(self, urls: list[str], secret: str) -> None:
        self.urls = itertools.cycle(urls)
        self.headers = {"X-Telegram-Bot-Api-Secret-Token": secret}
        self.session: aiohttp.ClientSession | None = None
        self.failed = 0  # answers other than 200

    async def post(self, update: dict[str, Any]) -> None:
        """POST one update to the next webhook."""
        if self.session is None:
            self.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))
        try:
            async with self.session.post(next(self.urls), json=update, headers=self.headers) as r:
                await r.read()
                self.failed += r.status != 200
        except aiohttp.ClientError:
            self.failed += 1


async def drive(
    api: AnsweringBotApi,
    chats: list[str],
    texts: list[str],
    concurrency: int,
    seconds: float,
    webhooks: list[str] | None = None,
    secret: str = "",
) -> TurnFigures:
    """``concurrency`` customers in closed loops for a warm-up and then ``seconds``; updates
    through ``getUpdates``, or POSTed to ``webhooks`` in turn."""
    webhook = Webhook(webhooks, secret) if webhooks else None
    pool = itertools.cycle(chats)
    words = itertools.cycle(texts)
    latencies: list[float] = []
    late = 0
    counting = False
    deadline = time.perf_counter() + WARM_UP_SECONDS + seconds

    async def customer() -> None:
        nonlocal late
        while time.perf_counter() < deadline:
            took = await api.turn(next(pool), next(words), webhook)
            if not counting:
                continue
            if took is None:
                late += 1
            else:
                latencies.append(took)

    tasks = [asyncio.create_task(customer()) for _ in range(concurrency)]
    await asyncio.sleep(WARM_UP_SECONDS)
    counting, started, cpu = True, time.perf_counter(), time.process_time()
    await asyncio.gather(*tasks)
    span = time.perf_counter() - started
    cores = (time.process_time() - cpu) / span
    if webhook is not None and webhook.session is not None:
        await webhook.session.close()
    latencies.sort()
    p95 = latencies[max(0, round(len(latencies) * 0.95) - 1)] if latencies else 0.0
    median = statistics.median(latencies) if latencies else 0.0
    return TurnFigures(len(latencies), span, median, p95, late, cores)


def _serve(conn: multiprocessing.connection.Connection) -> None:
    """The child: the fake server and the driver, on commands from the parent's pipe."""

    async def main() -> None:
        api = AnsweringBotApi()
        await api.start()
        conn.send((api.url, api.token))
        loop = asyncio.get_running_loop()
        while True:
            command, payload = await loop.run_in_executor(None, conn.recv)
            if command == "stop":
                break
            if command == "drive":
                conn.send(await drive(api, **payload))
            elif command == "unawaited":
                conn.send(api.unawaited)
        await api.stop()

    asyncio.run(main())


class BotApiProcess:
    """The fake Bot API and the typing customers, in a child process."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child,), daemon=True)
        self.url = ""
        self.token = ""

    def start(self) -> None:
        """Start the child; its address and token are then in ``url`` and ``token``."""
        self._process.start()
        if not self._conn.poll(60):
            raise RuntimeError("the fake Bot API did not start")
        self.url, self.token = self._conn.recv()

    async def drive(
        self,
        chats: list[str],
        texts: list[str],
        *,
        concurrency: int,
        seconds: float,
        webhooks: list[str] | None = None,
        secret: str = "",
    ) -> TurnFigures:
        """Customers typing for ``seconds`` (after a warm-up); what they saw. ``webhooks``:
        the updates are POSTed there in turn (with ``secret``) instead of polled."""
        payload = {"chats": chats, "texts": texts, "concurrency": concurrency,
                   "seconds": seconds, "webhooks": webhooks, "secret": secret}  # fmt: skip
        self._conn.send(("drive", payload))
        figures: TurnFigures = await asyncio.to_thread(self._conn.recv)
        return figures

    async def unawaited(self) -> int:
        """Messages the bot sent that no customer waited for (notices, mostly), so far."""
        self._conn.send(("unawaited", None))
        count: int = await asyncio.to_thread(self._conn.recv)
        return count

    def stop(self) -> None:
        """Stop the server and the child."""
        if self._process.is_alive():
            self._conn.send(("stop", None))
            self._process.join(10)


if __name__ == "__main__":
    print("(a helper of bench/console_load.py and bench/replicas.py: nothing to measure)")
