"""Helper of the benches: where a process's time goes, sampled by py-spy while it works.

    with Sampled(pid, seconds=8) as sample:     # py-spy record, in the background
        ...                                     # the load
    print(sample.summary())                     # share of samples by part of the code

``py-spy`` (``pip install py-spy``, a sampling profiler; not a dependency of the product) must
be on the PATH or in the virtualenv, and allowed to read the process (same user, or root).
The samples of every thread count but those of a thread waiting (``IDLE``); a sample is charged
to the first frame, from the top of the stack, that belongs to one of ``PARTS``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from types import TracebackType

Parts = tuple[tuple[str, tuple[str, ...]], ...]
PARTS: Parts = (  # (label, path fragments of a frame), the first match from the stack's top wins
    ("store thread + sqlite3 (db.py, thread.py)", ("sqlite3", "store/db.py", "store/thread.py")),
    ("PostgreSQL driver + pool", ("psycopg", "store/postgres", "store/chat_locks")),
    ("Bot API HTTP (PTB, httpx)", ("telegram/", "httpx/", "httpcore/", "anyio/", "h11/")),
    ("webhook route (uvicorn)", ("uvicorn/", "starlette/", "web/")),
    ("templates (jinja2)", ("jinja2/", "assistant/texts.py")),
    ("repositories (store/)", ("store/",)),
    ("dialogs (assistant/, bot/)", ("assistant/", "bot/")),
    ("mail (mailbox/, aiosmtplib)", ("mailbox/", "aiosmtplib/", "email/")),
    ("asyncio loop", ("asyncio/", "selectors.py")),
)
IDLE = (  # a thread waiting, though py-spy saw it running (--nonblocking): not counted
    "DatabaseThread._serve", "EpollSelector.select", "concurrent/futures/thread.py",
    "Condition.wait", "Queue.get", "Event.wait",
)  # fmt: skip


def py_spy() -> str | None:
    """The py-spy program, if installed."""
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


class Sampled:
    """``py-spy record`` of one process for ``seconds``, in the background."""

    def __init__(self, pid: int, seconds: float) -> None:
        self.pid, self.seconds = pid, seconds
        self.output = Path(tempfile.mkstemp(prefix="bench-profile-", suffix=".txt")[1])
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Sampled:
        program = py_spy()
        if program is not None:
            command = [
                program, "record", "--pid", str(self.pid), "-d", str(int(self.seconds)),
                "-r", "100", "-f", "raw", "-o", str(self.output), "--nonblocking",
            ]  # fmt: skip
            self._process = subprocess.Popen(
                command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._process is not None:
            try:
                self._process.wait(self.seconds + 30)
            except subprocess.TimeoutExpired:
                self._process.kill()

    def shares(self, parts: Parts = PARTS, *, anywhere: bool = False) -> list[tuple[str, float]]:
        """(part, share of the samples), largest first; empty without py-spy or samples.
        ``anywhere``: a sample goes to the first of ``parts`` found anywhere in its stack (who
        called: the console, the bot, ...) rather than nearest the top (what ran)."""
        counts: Counter[str] = Counter()
        if self.output.exists():
            for line in self.output.read_text(encoding="utf-8", errors="replace").splitlines():
                stack, _, number = line.rpartition(" ")
                frames = stack.split(";")
                if number.isdigit() and not any(idle in frames[-1] for idle in IDLE):
                    counts[_caller(frames, parts) if anywhere else _part(frames, parts)] += int(
                        number
                    )
            self.output.unlink()
        total = sum(counts.values())
        return [(part, n / total) for part, n in counts.most_common()] if total else []

    def summary(self, parts: Parts = PARTS, *, anywhere: bool = False) -> str:
        """One line: the parts and their shares."""
        shares = self.shares(parts, anywhere=anywhere)
        if not shares:
            return "(no profile: py-spy is not installed, or could not read the process)"
        return ", ".join(f"{part} {share:.0%}" for part, share in shares if share >= 0.01)


def _part(frames: list[str], parts: Parts) -> str:
    for frame in reversed(frames):
        for label, fragments in parts:
            if any(fragment in frame for fragment in fragments):
                return label
    return "other"


def _caller(frames: list[str], parts: Parts) -> str:
    for label, fragments in parts:
        if any(fragment in frame for frame in frames for fragment in fragments):
            return label
    return "other"


if __name__ == "__main__":
    print("(a helper of the benches: nothing to measure)")
