"""Helper of ``bench/replicas.py``: ``main.py run`` processes, and the CPU they and PostgreSQL use.

replicas = Replicas(2, "postgresql://...", folder, api, smtp_port)
replicas.start()                 # each on its own port, webhook mode; waits for /readyz
replicas.cpu_seconds()           # user + system time of every replica so far
server_cpu_seconds(cluster_dir)  # the same for a PostgreSQL cluster's processes
replicas.stop()                  # SIGTERM: each drains and stops
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a file: the root

from bench._support_bot import BotApiProcess

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
SECRET = "bench-webhook-secret-0123456789"


class Replicas:
    """``main.py run`` processes over one database, each with its own port and folder."""

    def __init__(self, count: int, target: str, folder: Path, api: BotApiProcess, smtp_port: int):
        from tests.fixtures.smtp import free_port

        self.ports = [free_port() for _ in range(count)]
        self.processes: list[subprocess.Popen[bytes]] = []
        self.environ = {
            "AREACLIENTI_DB": target, "TELEGRAM_MODE": "webhook",
            "TELEGRAM_BOT_TOKEN": api.token, "TELEGRAM_API_URL": api.url,
            "TELEGRAM_WEBHOOK_URL": "https://bot.example.it/telegram/webhook",
            "TELEGRAM_WEBHOOK_SECRET": SECRET, "TELEGRAM_NOTICES_PER_SECOND": "1000",
            "SMTP_HOST": HOST, "SMTP_PORT": str(smtp_port), "SMTP_SECURITY": "none",
            "STAFF_WEB_HOST": HOST, "LOG_LEVEL": "WARNING",
        }  # fmt: skip
        self.folder = folder

    @property
    def webhooks(self) -> list[str]:
        return [f"http://{HOST}:{port}/telegram/webhook" for port in self.ports]

    def start(self) -> None:
        """Start every replica and wait until each answers /readyz."""
        for number, port in enumerate(self.ports, 1):
            home = self.folder / f"replica{number}"
            home.mkdir()
            environ = {**os.environ, **self.environ, "STAFF_WEB_PORT": str(port),
                       "AREACLIENTI_DATA_DIR": str(home / "var")}  # fmt: skip
            log = (home / "replica.log").open("wb")
            self.processes.append(subprocess.Popen(
                [sys.executable, str(ROOT / "main.py"), "run"],
                cwd=home, env=environ, stdout=log, stderr=subprocess.STDOUT,
            ))  # fmt: skip
        for port, process in zip(self.ports, self.processes, strict=True):
            _wait_ready(port, process, self.folder)

    def cpu_seconds(self) -> float:
        """CPU time the replicas used so far (user + system, every thread)."""
        return sum(cpu_seconds(process.pid) for process in self.processes)

    def stop(self) -> None:
        """SIGTERM (the service drains), then wait."""
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system, every thread) the process ``pid`` used so far; 0 if gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def server_cpu_seconds(folder: Path | None) -> float:
    """CPU time of the PostgreSQL cluster in ``folder`` (its postmaster and every backend,
    the ended ones included: a parent's cumulative children times count them)."""
    if folder is None:
        return 0.0
    postmaster = int((folder / "data" / "postmaster.pid").read_text().split()[0])
    fields = Path(f"/proc/{postmaster}/stat").read_text().rsplit(")", 1)[1].split()
    ended = (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")  # cutime, cstime
    alive = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if parent == postmaster:
            alive += cpu_seconds(int(stat.parent.name))
    return cpu_seconds(postmaster) + ended + alive


def _wait_ready(port: int, process: subprocess.Popen[bytes], folder: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            logs = "".join(p.read_text(errors="replace")[-3000:] for p in folder.glob("*/*.log"))
            raise RuntimeError(f"a replica stopped at start:\n{logs}")
        try:
            with urllib.request.urlopen(f"http://{HOST}:{port}/readyz", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the replica on port {port} was not ready within 120 s")


if __name__ == "__main__":
    print("(a helper of bench/replicas.py: nothing to measure)")
