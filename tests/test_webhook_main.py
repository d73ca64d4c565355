"""``main.py run`` in webhook mode: Telegram's pushes answered by the real process, and SIGTERM
drains (503 to new pushes while the server still listens, the update in hand finished, exit 0)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from assistant.settings import Settings
from tests.fakes.bot_api import FakeBotApi
from tests.fixtures.smtp import free_port
from tests.fixtures.webhook import PUBLIC_URL, SECRET, texts_in

ROOT = Path(__file__).resolve().parent.parent
ENV_PREFIXES = ("AREACLIENTI_", "TELEGRAM_", "SMTP_", "IMAP_", "STAFF_")


async def test_main_run_takes_pushes_and_drains_at_sigterm(
    bot_api: FakeBotApi, settings: Settings, tmp_path: Path
) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIXES)}
    env.update(
        AREACLIENTI_DB=str(settings.db_target),
        AREACLIENTI_DATA_DIR=str(tmp_path / "var"),
        OUTBOX_DIR=str(tmp_path / "var" / "outbox"),
        STAFF_WEB_PORT=str(port),
        TELEGRAM_BOT_TOKEN=bot_api.token,
        TELEGRAM_API_URL=bot_api.url,
        TELEGRAM_MODE="webhook",
        TELEGRAM_WEBHOOK_URL=PUBLIC_URL,
        TELEGRAM_WEBHOOK_SECRET=SECRET,
    )
    output = tmp_path / "output.txt"
    with output.open("wb") as sink:
        process = await asyncio.create_subprocess_exec(
            sys.executable, str(ROOT / "main.py"), "run",
            env=env, cwd=tmp_path, stdin=asyncio.subprocess.DEVNULL, stdout=sink, stderr=sink,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}/telegram/webhook"
    try:
        await bot_api.wait_for(lambda c: c.method == "setWebhook", timeout=120)
        assert await bot_api.post_update(bot_api.push_text(31, "/start"), url=url) == 200
        assert "Benvenuto" in "\n".join(texts_in(bot_api, 31))
        bot_api.hold_sends()
        in_hand = asyncio.create_task(
            bot_api.post_update(bot_api.push_text(31, "/contatti"), url=url)
        )
        await bot_api.wait_sends_held()

        process.send_signal(signal.SIGTERM)
        refused = bot_api.push_text(32, "/start")
        async with asyncio.timeout(10):
            while (status := await bot_api.post_update(refused, url=url)) == 200:
                await asyncio.sleep(0.05)  # pragma: no cover - the signal not yet delivered
        assert status == 503  # the server still listens while it drains

        bot_api.release_sends()
        assert await in_hand == 200  # the update in hand was finished
        assert await asyncio.wait_for(process.wait(), 60) == 0, output.read_text()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert texts_in(bot_api, 32) == []
    assert not any(c.method in ("deleteWebhook", "getUpdates") for c in bot_api.calls)
    logged = output.read_text(errors="replace")  # with a bot token the log goes to stderr
    assert "telegram webhook draining: 1 update(s) in hand" in logged
    assert SECRET not in logged and "Traceback" not in logged
