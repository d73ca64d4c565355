"""uvicorn inside the service's event loop, beside the bot and the mailbox (``main.py run``).

``main.py`` owns the signals: uvicorn's own handlers are not installed. Cancelling ``serve``
stops accepting connections, lets running requests finish (up to ``GRACE_SECONDS``), then
returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator

import uvicorn
from starlette.types import ASGIApp

GRACE_SECONDS = 5


class _Server(uvicorn.Server):
    """A uvicorn server that leaves the process's signal handlers alone."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def build_server(app: ASGIApp, host: str, port: int) -> uvicorn.Server:
    """A uvicorn server for ``app`` (no access log: paths and searches may name customers)."""
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        lifespan="off",
        log_config=None,  # the project's redacting handlers stay in charge
        access_log=False,
        server_header=False,
        timeout_graceful_shutdown=GRACE_SECONDS,
    )
    return _Server(config)


def listen(host: str, port: int) -> socket.socket:
    """The listening socket (``OSError`` when the address is taken or cannot be used)."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


async def serve(server: uvicorn.Server, sock: socket.socket | None = None) -> None:
    """Run ``server`` on ``sock`` (bound by ``listen``; else bound here) until cancelled, then
    shut it down gracefully. Binding first makes a taken port an ``OSError`` for the caller
    (uvicorn's own bind would exit the process)."""
    sock = sock or listen(server.config.host, server.config.port)
    task = asyncio.ensure_future(server.serve(sockets=[sock]))
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        server.should_exit = True
        with contextlib.suppress(Exception):
            await task
        raise
    finally:
        sock.close()
