"""One service per SQLite file (issue 14, point 3): a second ``run``/``chat`` refuses to start,
staff commands still run beside the service, and a ``kill -9`` leaves no stale lock."""

from __future__ import annotations

import os
import queue
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from store.db import Database
from store.errors import StoreInUse

pytestmark = pytest.mark.sqlite_only  # the service's lock file beside the database

ROOT = Path(__file__).resolve().parent.parent


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "SMTP_", "IMAP_"))}
    env.update(
        AREACLIENTI_DB=str(tmp_path / "var" / "areaclienti.db"),
        AREACLIENTI_DATA_DIR=str(tmp_path / "var"),
        OUTBOX_DIR=str(tmp_path / "var" / "outbox"),
    )
    return env


class Console:
    """``main.py chat`` fed through a pipe that stays open until ``finish``."""

    def __init__(self, tmp_path: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "main.py"), "chat"],
            env=_env(tmp_path), cwd=tmp_path, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        self.lines: queue.SimpleQueue[str] = queue.SimpleQueue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)

    def wait_for_welcome(self, timeout: float = 120) -> None:
        """Until the chat greets (the service is up), or fail with what it printed."""
        seen: list[str] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                assert self.process.poll() is None, "".join(seen)
                continue
            seen.append(line)
            if "Area Clienti" in line:
                return
        raise AssertionError("no welcome: " + "".join(seen))

    def finish(self) -> int:
        """Close its input (the end of the conversation); its exit status."""
        assert self.process.stdin is not None
        self.process.stdin.close()
        return self.process.wait(timeout=60)


def _main(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *args],
        env=_env(tmp_path), cwd=tmp_path, stdin=subprocess.DEVNULL, capture_output=True,
        text=True, timeout=120,
    )  # fmt: skip


def test_a_second_service_is_refused_staff_commands_run_and_kill_9_frees_the_database(
    tmp_path: Path,
) -> None:
    database = tmp_path / "var" / "areaclienti.db"
    first = Console(tmp_path)
    try:
        first.wait_for_welcome()
        for service in (["chat"], ["run", "--console"]):
            second = _main(tmp_path, *service)
            assert second.returncode != 0, second.stdout + second.stderr
            assert f"{database}: another instance of the service holds it" in second.stderr
            assert f"(pid {first.process.pid})" in second.stderr
            assert "Traceback" not in second.stdout + second.stderr
            assert "Area Clienti" not in second.stdout  # it never started
        staff = _main(tmp_path, "outbox")  # a one-shot writer beside the service
        assert staff.returncode == 0, staff.stderr
        lock = database.with_name(database.name + ".lock")
        assert stat.S_IMODE(lock.stat().st_mode) == 0o600
        first.process.send_signal(signal.SIGKILL)
        first.process.wait(timeout=30)
    finally:
        first.process.kill()
    again = Console(tmp_path)
    try:
        again.wait_for_welcome()
        assert again.finish() == 0
    finally:
        again.process.kill()


async def test_an_exclusive_opening_is_refused_while_another_holds_the_file(
    tmp_path: Path,
) -> None:
    path = tmp_path / "areaclienti.db"
    first = await Database.open(path, exclusive=True)
    staff = await Database.open(path)  # not exclusive: a staff command beside the service
    try:
        with pytest.raises(StoreInUse, match="another instance of the service holds it"):
            await Database.open(path, exclusive=True)
    finally:
        await staff.close()
        await first.close()
    second = await Database.open(path, exclusive=True)  # closed: free again
    await second.close()
