"""Support mailbox throughput: the worker against a bare imap-tools fetch of the same mails.

Starts a throwaway Dovecot (as the tests do), appends the same N mails (default 2,000; one
sender each; nine in ten ask a question taken in turn from the ~500 labelled questions of
bench/data/faq_*.tsv, in Italian and English, FAQ and out-of-scope alike, between a greeting and
a signature; one in ten is an automatic reply) to six users, then times
  * bare:      imap-tools' plain ``MailBox.fetch()`` (its defaults: one FETCH per mail, the
               mails marked read, as the worker must mark them) of every mail, best of three
               runs on three users: the target's baseline;
  * peek:      ``fetch(mark_seen=False)``, leaving the mails unread (less server work: the
               strictest baseline), best of three runs on user A; also ``bulk=100`` (one
               FETCH per 100 mails);
  * worker:    ``MailboxWorker.process_once`` until the inbox is empty, on two more users,
               each with a new database, best of the two; as the service runs it
               (``main.mailbox_worker``, its child process started first): fetch, parse and
               FAQ match in the child, one transaction per batch of 100 (raw bytes, tickets,
               answers in the outbox), seen + move to the processed folder, pipelined;
  * cpu:       CPU milliseconds a mail in the worker's process and in its FAQ child process.
Prints mails per second and the ratios. Target: worker / bare >= 0.5.

    .venv/bin/python bench/mailbox.py [--mails 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import imaplib
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # our mailbox/, not this file

from imap_tools import MailBoxUnencrypted  # noqa: E402

from assistant.clock import SystemClock  # noqa: E402
from assistant.settings import Settings  # noqa: E402
from assistant.texts import Texts  # noqa: E402
from assistant.tickets import TicketService  # noqa: E402
from main import mailbox_worker  # noqa: E402
from store.store import Store  # noqa: E402
from tests.fixtures.dovecot import HOST, DovecotServer, dovecot_binary  # noqa: E402

TARGET_RATIO = 0.5
RUNS = 3  # bare fetches timed (the best kept); worker passes: one fewer, each on its own inbox
DATA = Path(__file__).resolve().parent / "data"
GREETINGS = {"it": ("Buongiorno,", "Salve,", "Gentili signori,"), "en": ("Hello,", "Dear Sirs,")}
CLOSINGS = {"it": ("Cordiali saluti", "Grazie"), "en": ("Best regards", "Thanks")}


def labelled_questions() -> list[tuple[str, str]]:
    """(language, question) of every labelled question that is not a bare greeting or thanks."""
    found = []
    for name in ("faq_tune.tsv", "faq_heldout.tsv"):
        for line in (DATA / name).read_text(encoding="utf-8").splitlines():
            if not line.strip() or line.startswith("#"):
                continue
            label, language, question = line.split("\t", 2)
            if label not in ("greeting", "thanks"):
                found.append((language, question))
    return found


def bench_mails(count: int) -> list[bytes]:
    """``count`` realistic mails of about 1-2 KB, every tenth an automatic reply."""
    questions = labelled_questions()
    mails = []
    for n in range(count):
        language, question = questions[n % len(questions)]
        message = EmailMessage()
        message["From"] = f"Cliente {n} <cliente{n}@example.it>"
        message["To"] = "areaclienti.ls@bancopopolare.it"
        message["Subject"] = f"Richiesta {n}" if language == "it" else f"Request {n}"
        message["Message-ID"] = f"<bench-{n}@example.it>"
        message["Date"] = "Tue, 13 Jan 2026 10:15:00 +0100"
        if n % 10 == 9:
            message["Auto-Submitted"] = "auto-replied"
        greeting = GREETINGS[language][n % len(GREETINGS[language])]
        closing = CLOSINGS[language][n % len(CLOSINGS[language])]
        message.set_content(
            f"{greeting}\n{question}\n\n{closing}\nCliente {n}\n\n-- \n" + "x" * 600
        )
        mails.append(message.as_bytes())
    return mails


def append_all(server: DovecotServer, user: str, password: str, mails: list[bytes]) -> float:
    """APPEND every mail over one connection; return the seconds it took."""
    started = time.perf_counter()
    client = imaplib.IMAP4(HOST, server.port, timeout=30)
    client.login(user, password)
    for raw in mails:
        client.append("INBOX", None, None, raw)
    client.logout()
    return time.perf_counter() - started


def bare_fetch(
    server: DovecotServer, user: str, password: str, bulk: int, mark_seen: bool = False
) -> tuple[int, float]:
    """imap-tools reading every mail of the inbox; return (count, seconds)."""
    started = time.perf_counter()
    with MailBoxUnencrypted(HOST, server.port, timeout=30).login(user, password) as box:
        count = sum(1 for _ in box.fetch(mark_seen=mark_seen, bulk=bulk or False))
    return count, time.perf_counter() - started


@dataclass
class PassFigures:
    """One worker pass: mails, seconds, and the CPU seconds of each process it used."""

    mails: int
    seconds: float
    cpu_main: float  # this process (event loop, database thread, IMAP thread)
    cpu_child: float  # the FAQ child process (parsing and matching)

    @property
    def rate(self) -> float:
        """Mails per second."""
        return self.mails / self.seconds


def process_cpu(pid: int | None) -> float:
    """User + system CPU seconds of a process so far (Linux /proc; 0 when unknown)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


async def worker_pass(server: DovecotServer, user: str, password: str, folder: Path) -> PassFigures:
    """The worker over the inbox until empty; return (count, seconds)."""
    settings = Settings.from_environ(
        {
            "AREACLIENTI_DB": str(folder / "bench.db"),
            "AREACLIENTI_DATA_DIR": str(folder / "data"),
            "IMAP_HOST": HOST,
            "IMAP_PORT": str(server.port),
            "IMAP_USERNAME": user,
            "IMAP_PASSWORD": password,
            "IMAP_SECURITY": "none",
            "AUTO_REPLY_LIMIT": "5",
        }
    )
    store = await Store.open(settings.db_path)
    texts = Texts(settings.templates_dir)
    tickets = TicketService(store, texts, settings)
    worker = mailbox_worker(settings, store, texts, tickets, SystemClock())
    await worker.start()  # the FAQ matcher's process, as the service starts it before any mail
    child = getattr(worker.preparer, "pid", None)
    cpu_main, cpu_child = time.process_time(), process_cpu(child)
    started = time.perf_counter()
    total = 0
    try:
        while handled := await worker.process_once():
            total += handled
        elapsed = time.perf_counter() - started
        cpu_main, cpu_child = time.process_time() - cpu_main, process_cpu(child) - cpu_child
        answers = len(await store.outbox.list(limit=count_limit(total)))
        tickets = len(await store.tickets.recent(limit=count_limit(total)))
    finally:
        await worker.aclose()
        await store.close()
    print(f"pass:    {total} mails, {tickets} tickets, {answers} answers queued")
    return PassFigures(total, elapsed, cpu_main, cpu_child)


def count_limit(total: int) -> int:
    """A listing limit that cannot cut the count short."""
    return total + 10


def main() -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mails", type=int, default=2000)
    args = parser.parse_args()
    binary = dovecot_binary()
    if binary is None:
        print("dovecot is not installed (Debian package dovecot-imapd): skipped")
        return 0
    root = Path(tempfile.mkdtemp(prefix="areaclienti-bench-mailbox-"))
    server = DovecotServer(binary, Path(tempfile.mkdtemp(prefix="areaclienti-bench-dovecot-")))
    try:
        server.start()
        mails = bench_mails(args.mails)
        user_a, pass_a = server.add_user()
        readers = [server.add_user() for _ in range(RUNS)]  # fetch() marks read: one inbox each
        workers = [server.add_user() for _ in range(RUNS - 1)]
        seconds = append_all(server, user_a, pass_a, mails)
        for user, password in [*readers, *workers]:
            append_all(server, user, password, mails)
        print(f"append:  {len(mails)} mails in {seconds:.2f} s ({len(mails) / seconds:,.0f}/s)")
        rates = {}
        for label, bulk, inboxes in (
            ("bare", 0, readers),  # imap-tools' plain fetch(): one FETCH a mail, marks read
            ("peek", 0, [(user_a, pass_a)] * RUNS),  # mark_seen=False: the mails stay unread
            ("bulk", 100, [(user_a, pass_a)] * RUNS),
        ):
            mark = label == "bare"
            runs = [bare_fetch(server, u, p, bulk, mark_seen=mark) for u, p in inboxes]
            count, seconds = min(runs, key=lambda run: run[1])
            rates[label] = count / seconds
            each = ", ".join(f"{n / s:,.0f}" for n, s in runs)
            print(f"{label}:    {count} mails, best of {RUNS}: {rates[label]:,.0f}/s ({each})")
        passes = []
        for user, password in workers:
            passes.append(asyncio.run(worker_pass(server, user, password, root)))
            shutil.rmtree(root / "data", ignore_errors=True)
            (root / "bench.db").unlink(missing_ok=True)
        best = max(passes, key=lambda p: p.rate)
        rate, count = best.rate, best.mails
        each = ", ".join(f"{p.rate:,.0f}" for p in passes)
        print(f"worker:  {count} mails, best of {len(passes)}: {rate:,.0f} mails/s ({each})")
        print(
            f"cpu:     {best.cpu_main / count * 1000:.2f} ms a mail in the worker's process,"
            f" {best.cpu_child / count * 1000:.2f} ms in the FAQ child (parsing, matching)"
        )
        ratio = rate / rates["bare"]
        verdict = "ok" if ratio >= TARGET_RATIO else "BELOW TARGET"
        print(f"ratio:   worker / bare fetch() = {ratio:.2f} (target >= {TARGET_RATIO}) {verdict}")
        print(f"         worker / peek fetch (mails left unread) = {rate / rates['peek']:.2f}")
        print(f"         worker / bulk peek fetch = {rate / rates['bulk']:.2f}")
        return 0
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
        shutil.rmtree(server.root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
