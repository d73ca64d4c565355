"""The FAQ matcher in a child process, so the mailbox worker's other work runs beside it.

The worker is CPU-bound in one process (the GIL): parsing, SQLite work and FAQ matching would
take turns on one core. ``FaqProcess`` moves parsing, triage and matching to one spawned child
(never forked: the parent has threads), loaded once with ``FaqMatcher.load``: ``await
prepare_many(fetched, ...)`` (the worker's ``MailPreparer``) or ``await match_many(texts)``
send a batch there and keep the event loop free, so the worker records batch k while the
child prepares batch k+1.

Memory: the child holds its own sentence encoder and example vectors, about 150 MB on top of
the parent (which needs no matcher of its own for the mailbox).

The child ignores Ctrl-C (the terminal sends SIGINT to the whole process group; the parent
stops the child in ``aclose``). If the child dies (the OOM killer, a kill), the next call starts
a new one and retries once; a second failure raises ``FaqUnavailable``, and the caller falls
back to matching in process or to a human. A cancelled call is not interrupted in the child:
its result is dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import multiprocessing
import multiprocessing.connection
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any, TypeVar

from assistant.errors import FaqUnavailable
from assistant.faq.matcher import FaqMatch, FaqMatcher
from mailbox.inbound.batch import PreparedMail, batch_match, prepare_and_match
from mailbox.inbound.imap import FetchedMail

logger = logging.getLogger(__name__)

STOP_GRACE = 0.5  # seconds an idle child has to leave on its own before it is terminated
STOP_WAIT = 2.0  # seconds to wait after each SIGTERM / SIGKILL, and for the pool's thread
R = TypeVar("R")


class FaqProcess:
    """The FAQ matcher in a child process, so the mailbox worker's other work runs beside it."""

    def __init__(self, cache_dir: Path | None = None, *, start_timeout: float = 120.0) -> None:
        self.cache_dir = cache_dir
        self.start_timeout = start_timeout
        self._executor: ProcessPoolExecutor | None = None
        self._process: BaseProcess | None = None
        self._lock = asyncio.Lock()
        self._closed = False

    @property
    def pid(self) -> int | None:
        """The running child's process id (None before ``start`` and after ``aclose``)."""
        return self._process.pid if self._process is not None else None

    async def start(self) -> None:
        """Spawn the child and wait until its matcher is loaded (no-op when running)."""
        await self._running()

    async def match_many(self, texts: Sequence[str]) -> list[FaqMatch]:
        """The matcher's verdicts on ``texts``, computed in the child (started if needed).

        Raises ``FaqUnavailable`` when no child can answer; an error of the matcher itself
        is raised as it would be in process.
        """
        batch = list(texts)
        if not batch:
            return []
        matches: list[FaqMatch] = await self._submit(_match_in_child, batch)
        return matches

    async def prepare_many(
        self, fetched: Sequence[FetchedMail], max_bytes: int, own_addresses: Sequence[str]
    ) -> list[PreparedMail]:
        """Parse and triage a fetched batch and judge its questions, in the child
        (``MailPreparer``).

        The bytes go to the child and do not come back: each prepared mail gets its own
        ``FetchedMail`` again here.
        """
        batch = list(fetched)
        if not batch:
            return []
        prepared: list[PreparedMail] = await self._submit(
            _prepare_in_child, batch, max_bytes, tuple(own_addresses)
        )
        for ready, original in zip(prepared, batch, strict=True):
            ready.fetched = original
        return prepared

    async def _submit(self, function: Callable[..., R], *args: Any) -> R:
        """Run ``function(*args)`` in the child; a dead child is replaced once."""
        executor = await self._running()
        try:
            return await self._call(executor, function, *args)
        except BrokenProcessPool:
            pass  # the child died: one new child, one more try
        executor = await self._running(replacing=executor)
        try:
            return await self._call(executor, function, *args)
        except BrokenProcessPool as exc:
            raise FaqUnavailable("the FAQ child process died twice in a row") from exc

    async def aclose(self) -> None:
        """Stop the child: at once when idle, terminated when busy (idempotent)."""
        self._closed = True
        executor, process = self._executor, self._process
        self._executor = self._process = None
        if executor is not None:
            await asyncio.to_thread(_stop_pool, executor, process)
            logger.info("FAQ child process %s stopped", process.pid if process else None)

    async def _call(
        self, executor: ProcessPoolExecutor, function: Callable[..., R], *args: Any
    ) -> R:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(executor, function, *args)
        except (asyncio.CancelledError, RuntimeError):
            # aclose from another task cancels the pool's queued calls and refuses new ones
            if self._stopped_meanwhile():
                raise FaqUnavailable("the FAQ child process was stopped") from None
            raise

    def _stopped_meanwhile(self) -> bool:
        """Whether ``aclose``, not a cancellation of the calling task, ended the call."""
        task = asyncio.current_task()
        return self._closed and task is not None and not task.cancelling()

    async def _running(self, replacing: ProcessPoolExecutor | None = None) -> ProcessPoolExecutor:
        """The live pool; a new one when there is none or ``replacing`` is still current."""
        async with self._lock:
            if self._closed:
                raise FaqUnavailable("the FAQ child process was stopped")
            if self._executor is None or self._executor is replacing:
                if self._executor is not None:
                    logger.warning(
                        "FAQ child process %s died (exit code %s); starting a new one",
                        self.pid,
                        self._process.exitcode if self._process is not None else None,
                    )
                    await self._discard()
                await self._spawn()
            assert self._executor is not None
            return self._executor

    async def _spawn(self) -> None:
        """Start a pool whose one child loads the matcher; wait until it answers."""
        started = time.perf_counter()
        executor = ProcessPoolExecutor(
            max_workers=1,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_load_matcher,
            initargs=(self.cache_dir,),
        )
        self._executor = executor  # registered at once, so aclose stops a child still loading
        loop = asyncio.get_running_loop()
        try:
            with _sigint_blocked():  # the first submit spawns the child, which inherits the mask
                ready = loop.run_in_executor(executor, os.getpid)
            self._process = next(iter(executor._processes.values()))
            pid = await asyncio.wait_for(ready, self.start_timeout)
        except (BrokenProcessPool, TimeoutError) as exc:
            if self._executor is executor:
                await self._discard()
            raise FaqUnavailable("the FAQ child process did not start") from exc
        except asyncio.CancelledError:
            if self._stopped_meanwhile():
                raise FaqUnavailable("the FAQ child process was stopped") from None
            raise  # the child keeps loading; the next call or aclose finds it
        logger.info("FAQ child process %s ready in %.1f s", pid, time.perf_counter() - started)

    async def _discard(self) -> None:
        """Stop the current pool (dead or not) without closing this ``FaqProcess``."""
        executor, process = self._executor, self._process
        self._executor = self._process = None
        if executor is not None:
            await asyncio.to_thread(_stop_pool, executor, process)


# --- the parent's side of stopping ----------------------------------------------------------


@contextlib.contextmanager
def _sigint_blocked() -> Iterator[None]:
    """Block SIGINT in this thread: a child spawned meanwhile starts with SIGINT blocked.

    So a Ctrl-C while the child boots stays pending until ``_load_matcher`` ignores it,
    instead of printing a child's KeyboardInterrupt traceback.
    """
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _stop_pool(executor: ProcessPoolExecutor, process: BaseProcess | None) -> None:
    """Shut the pool down; its child leaves on its own when idle, else SIGTERM, then SIGKILL."""
    # shutdown(wait=False) forgets the pool's thread; typeshed mistypes the attribute
    manager: threading.Thread | None = getattr(executor, "_executor_manager_thread", None)
    executor.shutdown(wait=False, cancel_futures=True)
    if process is not None:
        waits: list[tuple[Callable[[], None] | None, float]] = [
            (None, STOP_GRACE),
            (process.terminate, STOP_WAIT),
            (process.kill, STOP_WAIT),
        ]
        for stop, seconds in waits:
            if _exited(process, 0):
                break
            if stop is not None:
                stop()
            if _exited(process, seconds):
                break
        else:
            logger.error("FAQ child process %s did not stop", process.pid)
    if manager is not None:
        manager.join(STOP_WAIT)  # the pool's thread reaps the child
    if process is not None and _exited(process, 0):
        process.join(0)


def _exited(process: BaseProcess, timeout: float) -> bool:
    """Whether the process ended within ``timeout`` seconds (not reaping it)."""
    try:
        return bool(multiprocessing.connection.wait([process.sentinel], timeout))
    except (OSError, ValueError):  # sentinel already closed: the process was joined and closed
        return True


# --- the child's side -----------------------------------------------------------------------

_matcher: FaqMatcher | None = None


def _load_matcher(cache_dir: Path | None) -> None:
    """The child's initializer: ignore Ctrl-C, leave with the parent, load the matcher once."""
    global _matcher
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # drops a SIGINT pending since the spawn
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(
            target=_exit_with, args=(parent,), name="parent-watch", daemon=True
        ).start()
    _matcher = FaqMatcher.load(cache_dir)


def _exit_with(parent: BaseProcess) -> None:
    """Wait for the parent to end (even by kill -9), then end this child: no orphan lingers."""
    multiprocessing.connection.wait([parent.sentinel])
    os._exit(0)


def _match_in_child(texts: list[str]) -> list[FaqMatch]:
    """Match a batch in the child: outright answers only (``FaqMatcher.match_outright``)."""
    assert _matcher is not None, "the initializer loads the matcher"
    return _matcher.match_outright(texts)


def _prepare_in_child(
    fetched: list[FetchedMail], max_bytes: int, own_addresses: tuple[str, ...]
) -> list[PreparedMail]:
    """Parse, triage and match a batch in the child; the bytes are left out of the answer."""
    assert _matcher is not None, "the initializer loads the matcher"
    prepared = prepare_and_match(fetched, max_bytes, own_addresses, batch_match(_matcher))
    for ready in prepared:
        ready.fetched = dataclasses.replace(ready.fetched, raw=b"")
    return prepared


__all__ = ["FaqProcess", "FaqUnavailable"]
