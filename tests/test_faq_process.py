"""``FaqProcess``: the mailbox's FAQ matching in a real child process with the real matcher."""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest
import pytest_asyncio

from assistant.faq import FaqMatch, FaqMatcher
from assistant.faq.matcher import read_examples
from mailbox.inbound.batch import PreparedMail, batch_match, prepare_and_match
from mailbox.inbound.faq_process import FaqProcess, FaqUnavailable
from mailbox.inbound.imap import FetchedMail
from tests.mailbox_support import fixture_bytes, process_alive

pytestmark = pytest.mark.asyncio(loop_scope="module")

QUESTIONS = [
    "Ho perso la password, come faccio a entrare?",
    "Non mi è mai arrivata la password temporanea",
    "How can I change my e-mail address?",
    "Le fatture nell'area clienti hanno validità fiscale?",
    "Can I download my invoices from the customer area?",
    "Posso ricevere la fattura cartacea?",
    "Buongiorno",
    "thank you!",
    "Qual è il tasso del mio mutuo?",
    "What will the weather be like tomorrow?",
]
# every example question the matcher knows (over 800, all different): the child is busy a while
LARGE_BATCH = [example.text for example in read_examples()]

Verdict = tuple[str, str | None, str]


def verdicts(matches: Sequence[FaqMatch]) -> list[Verdict]:
    """What the mailbox acts on: the kind, the FAQ answered, the language to answer in."""
    return [(match.kind, match.faq_id, match.language) for match in matches]


def outright(matches: Sequence[FaqMatch]) -> list[tuple[bool, str | None, str]]:
    """Whether each question is answered outright, with which FAQ, in which language."""
    return [(match.kind == "answer", match.faq_id, match.language) for match in matches]


def in_process(matcher: FaqMatcher, texts: list[str]) -> list[FaqMatch]:
    """The in-process call the child makes (``match_outright`` where the matcher has it)."""
    match_outright = getattr(matcher, "match_outright", None)
    return match_outright(texts) if match_outright is not None else matcher.match_many(texts)


def is_running(pid: int) -> bool:
    """Whether a process with this id exists (a zombie still counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One vector cache for every child of this module: only the first encodes the examples."""
    return tmp_path_factory.mktemp("faq-cache")


@pytest.fixture(scope="module")
def local() -> FaqMatcher:
    """The matcher in this process, for comparison."""
    return FaqMatcher.load()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def faq(cache_dir: Path) -> AsyncIterator[FaqProcess]:
    """One started child for the module."""
    process = FaqProcess(cache_dir)
    await process.start()
    yield process
    await process.aclose()


async def test_the_child_gives_the_in_process_verdicts(faq: FaqProcess, local: FaqMatcher) -> None:
    matches = await faq.match_many(QUESTIONS)
    found = verdicts(matches)
    assert found == verdicts(in_process(local, QUESTIONS))
    # what the mailbox acts on is match_many's own verdict: the outright answers and languages
    assert outright(matches) == outright(local.match_many(QUESTIONS))
    assert found[0] == ("answer", "credenziali-smarrite", "it")
    assert found[2] == ("answer", "modifica-email", "en")
    assert found[6] == ("greeting", None, "it")
    assert found[8][0] != "answer"  # out of scope: no FAQ answer
    assert await faq.match_many([]) == []


async def test_the_child_parses_triages_and_matches_a_batch_as_in_process(
    faq: FaqProcess, local: FaqMatcher
) -> None:
    names = ("plain_it", "english_question", "out_of_office", "reply_to_other")
    fetched = [
        FetchedMail(n, len(raw), raw, False) for n, raw in enumerate(map(fixture_bytes, names))
    ]
    own = ("areaclienti@localhost",)
    prepared = await faq.prepare_many(fetched, 10**7, own)
    expected = prepare_and_match(fetched, 10**7, own, batch_match(local))
    assert [ready.fetched for ready in prepared] == fetched  # the parent's bytes again
    assert [ready.triage for ready in prepared] == [ready.triage for ready in expected]
    assert [ready.mail for ready in prepared] == [ready.mail for ready in expected]

    def verdicts(ready: PreparedMail) -> list[Verdict]:
        return [(m.kind, m.faq_id, m.language) for m in ready.faq_matches]

    found = [verdicts(ready) for ready in prepared]
    assert found == [verdicts(ready) for ready in expected]
    assert found[0][0] == ("answer", "password-non-ricevuta", "it")  # the request as written
    assert found[2] == []  # automatic mail: never matched, never answered
    assert await faq.prepare_many([], 10**7, own) == []


async def test_the_event_loop_runs_while_the_child_matches(faq: FaqProcess) -> None:
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    ticker = asyncio.create_task(tick())
    matches = await faq.match_many(LARGE_BATCH)
    during = ticks
    ticker.cancel()
    assert len(matches) == len(LARGE_BATCH)
    # a call blocking the loop would let the ticker run a handful of times at most
    assert during > 100


async def test_a_cancelled_call_leaves_the_next_answer_intact(
    faq: FaqProcess, local: FaqMatcher
) -> None:
    dropped = asyncio.create_task(faq.match_many(LARGE_BATCH))
    await asyncio.sleep(0)  # the batch is on its way to the child
    dropped.cancel()
    assert verdicts(await faq.match_many(QUESTIONS)) == verdicts(in_process(local, QUESTIONS))
    assert dropped.cancelled()


async def test_ctrl_c_stops_neither_a_starting_nor_a_running_child(cache_dir: Path) -> None:
    # Ctrl-C in a terminal reaches the whole process group; the parent handles it, not the child.
    # (A background job ignores SIGINT, and a child would inherit that: set the terminal's way.)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    faq = FaqProcess(cache_dir)
    try:
        starting = asyncio.create_task(faq.start())
        await asyncio.sleep(0)  # the child is spawned, still booting
        pid = faq.pid
        assert pid is not None
        os.kill(pid, signal.SIGINT)
        await starting
        os.kill(pid, signal.SIGINT)
        matches = await faq.match_many(QUESTIONS[:1])
        assert faq.pid == pid  # the same child answered: it was never interrupted
        assert matches[0].faq_id == "credenziali-smarrite"
    finally:
        signal.signal(signal.SIGINT, previous)
        await faq.aclose()


async def test_a_killed_child_is_replaced_and_the_call_still_answered(
    faq: FaqProcess, local: FaqMatcher, caplog: pytest.LogCaptureFixture
) -> None:
    pid = faq.pid
    assert pid is not None
    caplog.set_level(logging.INFO, logger="mailbox.inbound.faq_process")
    os.kill(pid, signal.SIGKILL)  # what the OOM killer does
    matches = await faq.match_many(QUESTIONS)
    assert verdicts(matches) == verdicts(in_process(local, QUESTIONS))
    assert faq.pid not in (None, pid)
    assert not is_running(pid)
    assert f"FAQ child process {pid} died" in caplog.text
    assert all(question not in caplog.text for question in QUESTIONS)


async def test_a_child_dying_again_on_restart_makes_the_caller_fall_back(
    faq: FaqProcess,
) -> None:
    first = faq.pid
    assert first is not None

    async def kill_the_next_child() -> None:
        while faq.pid in (None, first):
            await asyncio.sleep(0)
        assert faq.pid is not None
        os.kill(faq.pid, signal.SIGKILL)  # while it boots

    killer = asyncio.create_task(kill_the_next_child())
    os.kill(first, signal.SIGKILL)
    with pytest.raises(FaqUnavailable):
        await faq.match_many(QUESTIONS[:1])
    await killer
    # the next call starts afresh
    assert (await faq.match_many(QUESTIONS[:1]))[0].faq_id == "credenziali-smarrite"


async def test_aclose_stops_the_child_and_may_be_called_again(cache_dir: Path) -> None:
    faq = FaqProcess(cache_dir)
    assert faq.pid is None
    assert (await faq.match_many(QUESTIONS[:1]))[0].faq_id == "credenziali-smarrite"  # lazy start
    pid = faq.pid
    assert pid is not None
    in_flight = asyncio.create_task(faq.match_many(LARGE_BATCH))
    await asyncio.sleep(0)
    await faq.aclose()
    assert not is_running(pid)
    # the call in flight either finished in the child's grace time or lets its caller fall back
    (outcome,) = await asyncio.gather(in_flight, return_exceptions=True)
    assert isinstance(outcome, FaqUnavailable) or len(outcome) == len(LARGE_BATCH)
    await faq.aclose()
    with pytest.raises(FaqUnavailable):
        await faq.match_many(QUESTIONS[:1])


async def test_aclose_stops_a_child_still_starting(cache_dir: Path) -> None:
    faq = FaqProcess(cache_dir)
    starting = asyncio.create_task(faq.start())
    await asyncio.sleep(0)  # the child is spawned, still booting
    pid = faq.pid
    assert pid is not None
    await faq.aclose()
    assert not is_running(pid)
    with pytest.raises(FaqUnavailable):
        await starting


async def test_a_child_too_slow_to_start_is_stopped_and_reported(cache_dir: Path) -> None:
    before = {child.pid for child in multiprocessing.active_children()}
    faq = FaqProcess(cache_dir, start_timeout=0.01)
    with pytest.raises(FaqUnavailable):
        await faq.match_many(QUESTIONS[:1])
    assert faq.pid is None
    assert {child.pid for child in multiprocessing.active_children()} <= before
    await faq.aclose()


PARENT_SCRIPT = """
import asyncio, sys
from pathlib import Path
from mailbox.inbound.faq_process import FaqProcess

async def main() -> None:
    faq = FaqProcess(Path(sys.argv[1]))
    await faq.start()
    print(faq.pid, flush=True)
    await asyncio.sleep(120)

if __name__ == "__main__":
    asyncio.run(main())
"""


async def test_the_child_ends_when_its_parent_is_killed(cache_dir: Path, tmp_path: Path) -> None:
    script = tmp_path / "parent.py"
    script.write_text(PARENT_SCRIPT, encoding="utf-8")
    root = Path(__file__).resolve().parent.parent
    parent = await asyncio.create_subprocess_exec(
        sys.executable, str(script), str(cache_dir), cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)}, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert parent.stdout is not None
    child = int((await asyncio.wait_for(parent.stdout.readline(), 60)).decode())
    assert process_alive(child)
    parent.kill()  # kill -9: the parent gets no chance to stop its child
    await parent.wait()
    for _ in range(100):  # no orphan holding the encoder's memory
        if not process_alive(child):
            break
        await asyncio.sleep(0.1)
    assert not process_alive(child)
