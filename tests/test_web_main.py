"""``main.py run`` serves the staff console beside the chat, in the same process; a taken port
leaves the rest of the service running."""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from tests.fixtures.smtp import free_port

ROOT = Path(__file__).resolve().parent.parent


def _service(tmp_path: Path, port: int) -> tuple[subprocess.Popen[str], queue.SimpleQueue[str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "SMTP_", "IMAP_"))}
    env.update(
        AREACLIENTI_DB=str(tmp_path / "var" / "areaclienti.db"),
        AREACLIENTI_DATA_DIR=str(tmp_path / "var"),
        OUTBOX_DIR=str(tmp_path / "var" / "outbox"),
        STAFF_WEB_PORT=str(port),
    )
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "main.py"), "run", "--console"],
        env=env, cwd=tmp_path, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    lines: queue.SimpleQueue[str] = queue.SimpleQueue()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)

    threading.Thread(target=read, daemon=True).start()
    return process, lines


def _until(lines: queue.SimpleQueue[str], text: str, seen: list[str]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            seen.append(lines.get(timeout=0.5))
        except queue.Empty:
            continue
        if text in seen[-1]:
            return
    raise AssertionError(f"no {text!r} in: {''.join(seen)}")


def _stop(process: subprocess.Popen[str]) -> int:
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=60)
    finally:
        process.kill()


def test_run_serves_the_console_beside_the_chat(tmp_path: Path) -> None:
    port = free_port()
    process, lines = _service(tmp_path, port)
    seen: list[str] = []
    try:
        _until(lines, f"Staff console: http://127.0.0.1:{port}/", seen)
        _until(lines, "Area Clienti", seen)  # the chat greets: both run
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=10) as response:
            assert response.status == 200
            assert "default-src 'self'" in response.headers["content-security-policy"]
            assert "Accesso operatori" in response.read().decode()
    finally:
        status = _stop(process)
    assert status == 0, "".join(seen)


def test_a_taken_port_leaves_the_chat_and_the_mail_running(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process, lines = _service(tmp_path, port)
        seen: list[str] = []
        try:
            _until(lines, f"Staff console NOT started: cannot listen on 127.0.0.1:{port}", seen)
            _until(lines, "Area Clienti", seen)
            assert process.poll() is None
        finally:
            status = _stop(process)
    assert status == 0, "".join(seen)
    assert "Traceback" not in "".join(seen)
