"""``GET /healthz`` and ``GET /readyz``, for the load balancer in front of the replicas.

``/healthz``: the process serves HTTP (200 ``ok``). ``/readyz``: it can do its work now: the
database answers ``SELECT 1`` and every probe ``main.py`` gave (the Bot API answers ``getMe``;
the webhook is not draining) says yes within ``PROBE_TIMEOUT_SECONDS``. 200 lists each part
``ok``; 503 names the parts that failed. Neither says anything else: no address, version,
secret or customer datum.
"""

from __future__ import annotations

import asyncio
import logging

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from web.context import Probe, services

logger = logging.getLogger(__name__)

PROBE_TIMEOUT_SECONDS = 3.0


async def healthz(request: Request) -> Response:
    """Alive."""
    return PlainTextResponse("ok")


async def readyz(request: Request) -> Response:
    """Ready: every part answers."""
    svc = services(request)
    probes = (Probe("database", svc.store.health.database_answers), *svc.probes)
    results = await asyncio.gather(*(_passes(probe) for probe in probes))
    lines = [f"{p.name}: {'ok' if ok else 'failed'}" for p, ok in zip(probes, results, strict=True)]
    status = 200 if all(results) else 503
    return PlainTextResponse("\n".join(lines) + "\n", status_code=status)


async def _passes(probe: Probe) -> bool:
    try:
        async with asyncio.timeout(PROBE_TIMEOUT_SECONDS):
            return await probe.check()
    except Exception as exc:  # any failure means "not ready"; named by its type only
        logger.warning("readiness: %s failed: %s", probe.name, type(exc).__name__)
        return False
