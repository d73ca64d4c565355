"""The Telegram adapter on its own: documents, file_id reuse, Forbidden, the error handler."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from assistant.clock import ManualClock
from assistant.dialogs.messages import Attachment, Button, Reply
from assistant.errors import DeliveryError, PermanentDeliveryError
from assistant.settings import Settings
from bot.telegram_render import TELEGRAM_PACING, TelegramNotifier
from bot.telegram_text import TEXT_LIMIT, TelegramMessageLimit, split_text, telegram_length
from store.store import Store
from tests.fixtures.telegram import TelegramHarness


def notifier(telegram: TelegramHarness) -> TelegramNotifier:
    assert telegram.notifier is not None
    return telegram.notifier


async def test_notifier_sends_buttons_and_maps_forbidden(telegram: TelegramHarness) -> None:
    reply = Reply("Nuova fattura", ((Button("Scarica", "doc:1"),),))
    message_id = await notifier(telegram).send("77", reply)
    (call,) = telegram.api.sent("77")
    assert message_id == call.result["message_id"]
    assert call.text == "Nuova fattura" and call.buttons == [("Scarica", "doc:1")]
    telegram.api.forbid(77)
    with pytest.raises(PermanentDeliveryError):
        await notifier(telegram).send_text("77", "ancora")


async def test_documents_upload_then_reuse_the_file_id(
    telegram: TelegramHarness, tmp_path: Path
) -> None:
    remembered: list[tuple[int | None, str]] = []

    async def remember(attachment: Attachment, file_id: str) -> None:
        remembered.append((attachment.document_id, file_id))

    await telegram.use_hooks(lambda store: remember)
    pdf = tmp_path / "f.pdf"
    pdf.write_bytes(b"%PDF-1.4 test bytes")
    attachment = Attachment("2024-000123.pdf", path=pdf, caption="Fattura", document_id=9)
    await notifier(telegram).send("5", Reply("", document=attachment))
    assert remembered and remembered[0][0] == 9
    file_id = remembered[0][1]
    assert telegram.api.files[file_id] == pdf.read_bytes()
    by_id = Attachment("2024-000123.pdf", path=pdf, document_id=9, file_id=file_id)
    await notifier(telegram).send("5", Reply("", document=by_id))
    assert len(telegram.api.files) == 1  # no second upload
    stale = Attachment("2024-000123.pdf", path=pdf, document_id=9, file_id="gone")
    await notifier(telegram).send("5", Reply("", document=stale))
    assert len(telegram.api.files) == 2  # refused id → uploaded again
    docs = [c for c in telegram.api.calls if c.method == "sendDocument"]
    assert [c.params.get("document_filename") for c in docs] == [
        "2024-000123.pdf",
        None,
        None,
        "2024-000123.pdf",
    ]


async def test_a_failed_answer_is_logged_and_the_bot_goes_on(
    telegram: TelegramHarness, caplog: pytest.LogCaptureFixture
) -> None:
    telegram.api.forbid(13)
    await telegram.send(13, "/start")
    # the error handler logs, then tries to tell the customer (refused again)
    await telegram.api.wait_for(lambda c: c.method == "sendMessage" and c.chat_id == "13", 2)
    assert any("telegram update failed: Forbidden" in r.getMessage() for r in caplog.records)
    assert "Benvenuto" in (await telegram.send(14, "/start")).text


async def test_long_texts_are_split_at_line_ends() -> None:
    text = "\n".join(f"riga {n:04d} " + "x" * 40 for n in range(200))
    pieces = split_text(text)
    assert all(len(p) <= 4096 for p in pieces) and "\n".join(pieces) == text


async def test_long_texts_are_split_in_the_units_telegram_counts() -> None:
    lines = "\n".join("🙂" * 100 for _ in range(60))  # 200 UTF-16 units a line
    pieces = split_text(lines)
    assert len(pieces) == 3 and "\n".join(pieces) == lines
    assert all(telegram_length(p) <= TEXT_LIMIT for p in pieces)
    one_line = "🙂" * 3000  # no line end at all: cut where the limit falls
    pieces = split_text(one_line)
    assert [telegram_length(p) for p in pieces] == [4096, 1904] and "".join(pieces) == one_line


async def test_the_message_limit_the_core_gets_counts_utf16_units() -> None:
    limit = TelegramMessageLimit(limit=10)
    assert limit.fits("🙂" * 5) and not limit.fits("🙂" * 6)
    assert limit.shorten("🙂" * 6) == "🙂" * 4 + "…" and limit.shorten("abc") == "abc"


async def test_the_notifier_declares_telegrams_pace_to_the_notice_sender(
    telegram: TelegramHarness,
) -> None:
    assert notifier(telegram).pacing == TELEGRAM_PACING
    assert TELEGRAM_PACING.per_second <= 30  # Telegram: about 30 messages a second per bot
    assert TELEGRAM_PACING.chat_interval_seconds >= 1.0  # and one a second in one chat


async def test_delivery_errors_other_than_forbidden_are_temporary(
    telegram: TelegramHarness,
) -> None:
    attachment = Attachment("x.pdf", file_id="unknown")  # no path to fall back on
    with pytest.raises(DeliveryError) as raised:
        await notifier(telegram).send("5", Reply("", document=attachment))
    assert not isinstance(raised.value, PermanentDeliveryError)


async def test_the_bot_waits_for_an_unreachable_bot_api_and_then_answers(
    settings: Settings, clock: ManualClock
) -> None:
    """A network outage at start-up does not kill the service: it retries, then serves."""
    import socket

    from tests.fakes.bot_api import FakeBotApi

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    api = FakeBotApi(port=port)  # not started yet: connections are refused
    harness = TelegramHarness(api, settings, clock)
    harness.store = await Store.open(harness.settings.db_target)
    harness.front = harness.build_front(harness.store, poll_timeout=1, startup_retry_first=0.2)
    task = asyncio.create_task(harness.front.run())
    try:
        await asyncio.sleep(0.5)  # a few refused attempts
        assert not task.done()
        await api.start()
        await api.wait_for(lambda c: c.method == "getUpdates", count=1, timeout=15)
        answer = await harness._exchange(7, api.push_text(7, "/start"))
        assert "Area Clienti" in answer.text
    finally:
        await harness.stop()
        await api.stop()
