"""Support mailbox throughput: the worker against a bare imap-tools fetch of the same mails.

Starts a throwaway Dovecot (as the tests do), appends the same N mails (default 2,000; one
sender each; nine in ten ask a question taken in turn from the ~500 labelled questions of
bench/data/faq_*.tsv, in Italian and English, FAQ and out-of-scope alike, between a greeting and
a signature; one in ten is an automatic reply) to two users, then times
  * bare:      imap-tools ``MailBox.fetch(mark_seen=False)`` (its default: one FETCH per mail)
               of every mail of user A; also ``bulk=100`` (one FETCH per 100 mails);
  * worker:    ``MailboxWorker.process_once`` on user B until its inbox is empty, as the
               service runs it (``MailboxWorker.create``): fetch, parse, FAQ match, one
               transaction per batch (raw bytes, ticket, answer in the outbox), seen + move to
               the processed folder;
  * FAQ:       the time the worker waited for the FAQ matcher (it overlaps the recording of
               the previous batch).
Prints mails per second and the ratios. Target: worker / bare >= 0.5.

    .venv/bin/python bench/mailbox.py [--mails 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import imaplib
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from email.message import EmailMessage
from pathlib import Path
from typing import Any

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # our mailbox/, not this file

from imap_tools import MailBoxUnencrypted  # noqa: E402

from assistant.clock import SystemClock  # noqa: E402
from assistant.settings import Settings  # noqa: E402
from assistant.texts import Texts  # noqa: E402
from mailbox.worker import MailboxWorker  # noqa: E402
from store.store import Store  # noqa: E402
from tests.fixtures.dovecot import HOST, DovecotServer, dovecot_binary  # noqa: E402

TARGET_RATIO = 0.5
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


def bare_fetch(server: DovecotServer, user: str, password: str, bulk: int) -> tuple[int, float]:
    """imap-tools reading every mail of the inbox; return (count, seconds)."""
    started = time.perf_counter()
    with MailBoxUnencrypted(HOST, server.port, timeout=30).login(user, password) as box:
        count = sum(1 for _ in box.fetch(mark_seen=False, bulk=bulk or False))
    return count, time.perf_counter() - started


class TimedFaq:
    """The worker's FAQ matcher, with the time spent waiting for it added up."""

    def __init__(self, matcher: Any) -> None:
        self.matcher = matcher
        self.seconds = 0.0
        self.calls = 0

    async def match_many(self, texts: Sequence[str]) -> list[Any]:
        """Match a batch and time it."""
        started = time.perf_counter()
        try:
            return list(await self.matcher.match_many(texts))
        finally:
            self.seconds += time.perf_counter() - started
            self.calls += len(texts)

    async def aclose(self) -> None:
        """Stop the matcher's process."""
        await self.matcher.aclose()


async def worker_pass(
    server: DovecotServer, user: str, password: str, folder: Path
) -> tuple[int, float, TimedFaq]:
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
    worker = MailboxWorker.create(settings, store, Texts(settings.templates_dir), SystemClock())
    await worker.start()  # the FAQ matcher's process, as the service starts it before any mail
    timed = TimedFaq(worker.faq)
    worker.faq = timed
    started = time.perf_counter()
    total = 0
    try:
        while handled := await worker.process_once():
            total += handled
        elapsed = time.perf_counter() - started
        answers = len(await store.outbox.list(limit=count_limit(total)))
        tickets = len(await store.tickets.recent(limit=count_limit(total)))
    finally:
        await worker.aclose()
        await store.close()
    print(f"worker:  {tickets} tickets, {answers} answers queued")
    return total, elapsed, timed


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
        (user_a, pass_a), (user_b, pass_b) = server.add_user(), server.add_user()
        seconds = append_all(server, user_a, pass_a, mails)
        append_all(server, user_b, pass_b, mails)
        print(f"append:  {len(mails)} mails in {seconds:.2f} s ({len(mails) / seconds:,.0f}/s)")
        rates = {}
        for label, bulk in (("bare", 0), ("bulk", 100)):
            count, seconds = bare_fetch(server, user_a, pass_a, bulk)
            rates[label] = count / seconds
            print(f"{label}:    {count} mails in {seconds:.2f} s ({rates[label]:,.0f} mails/s)")
        count, elapsed, faq = asyncio.run(worker_pass(server, user_b, pass_b, root))
        rate = count / elapsed
        print(f"worker:  {count} mails in {elapsed:.2f} s ({rate:,.0f} mails/s)")
        if faq.calls:
            print(
                f"faq:     {faq.calls} questions matched, {faq.seconds:.2f} s waited for"
                f" ({faq.seconds / faq.calls * 1000:.2f} ms each; overlaps the recording)"
            )
        ratio = rate / rates["bare"]
        verdict = "ok" if ratio >= TARGET_RATIO else "BELOW TARGET"
        print(f"ratio:   worker / bare = {ratio:.2f} (target >= {TARGET_RATIO}) {verdict}")
        print(f"         worker / bulk fetch = {rate / rates['bulk']:.2f}")
        return 0
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
        shutil.rmtree(server.root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
