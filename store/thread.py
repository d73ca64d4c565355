"""The database's own thread: jobs queued from the event loop run there, in order, one at a time.

The aiosqlite design: a ``queue.SimpleQueue`` feeds one thread, and each job's result or error
goes back to the event loop through the job's future. A queued job runs even when the task
awaiting it is cancelled (a ROLLBACK asked for must happen). The driver's errors come back as
``store.errors.StoreError``. ``to_the_end(future)`` awaits a job that must not be abandoned
(a COMMIT) to its outcome, and passes a cancellation that came meanwhile on afterwards. The
thread is a daemon: a database left open does not keep the process alive.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import sqlite3
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from store.errors import StoreError, store_error

T = TypeVar("T")


class DatabaseThread:
    """One thread running queued jobs until ``stop`` (or ``threads`` of them taking jobs from
    the one queue as each comes free: then in the order queued, but several at once)."""

    def __init__(self, name: str, *, threads: int = 1) -> None:
        self._name = name
        self._jobs: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self._threads = [
            threading.Thread(
                target=self._serve, name=name if threads == 1 else f"{name} {n}", daemon=True
            )
            for n in range(threads)
        ]
        for thread in self._threads:
            thread.start()
        self._stopped = False

    def call(self, job: Callable[[], T]) -> asyncio.Future[T]:
        """Queue ``job()`` now; the running loop's future gets its result or its error."""
        if self._stopped:
            raise StoreError(f"{self._name}: closed")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()

        def work() -> None:
            try:
                result = job()
            except sqlite3.Error as exc:
                _hand_back(loop, _fail, future, store_error(exc))
            except BaseException as exc:
                _hand_back(loop, _fail, future, exc)
            else:
                _hand_back(loop, _succeed, future, result)

        self._jobs.put(work)
        return future

    def stop(self) -> None:
        """End the thread once the jobs queued so far have run."""
        self._stopped = True
        for _ in self._threads:
            self._jobs.put(None)

    def _serve(self) -> None:
        while (job := self._jobs.get()) is not None:
            job()


async def to_the_end(future: asyncio.Future[T]) -> T:
    """``future``'s outcome, however often the task is cancelled meanwhile; a cancellation that
    came is then passed on to the task's next await (or its end)."""
    cancelled = False
    while not future.done():
        try:
            await asyncio.shield(future)
        except asyncio.CancelledError:
            if future.cancelled():  # the job's own future was cancelled: no outcome will come
                raise
            cancelled = True
    if cancelled:
        task = asyncio.current_task()
        if task is not None:
            task.uncancel()  # the request is kept, as one, by cancelling again
            task.cancel()
    return future.result()


def _hand_back(
    loop: asyncio.AbstractEventLoop,
    settle: Callable[[asyncio.Future[Any], Any], None],
    future: asyncio.Future[Any],
    value: Any,
) -> None:
    """Settle ``future`` on its loop's thread (a closed loop has nobody waiting any more)."""
    with contextlib.suppress(RuntimeError):
        loop.call_soon_threadsafe(settle, future, value)


def _succeed(future: asyncio.Future[Any], result: Any) -> None:
    if not future.done():  # its awaiting task was cancelled meanwhile
        future.set_result(result)


def _fail(future: asyncio.Future[Any], error: BaseException) -> None:
    if not future.done():
        future.set_exception(error)
