"""The console's pages: jinja2 templates under ``templates/staff/``, autoescaped, strict.

Every page gets ``who`` (the staff user, or None on the login pages), ``csrf`` (the value every
form posts back) and ``areas`` (what the navigation may show). Mail bodies are text: the
templates print them escaped inside ``<pre>``, never as markup.
"""

from __future__ import annotations

import functools
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse

from web.context import services
from web.permissions import areas

LOCAL_TIME = ZoneInfo("Europe/Rome")


def local_time(moment: datetime | None) -> str:
    """31/12/2026 18:05, Rome time; empty for None."""
    if moment is None:
        return ""
    return moment.astimezone(LOCAL_TIME).strftime("%d/%m/%Y %H:%M")


@functools.cache
def environment(templates_dir: Path) -> jinja2.Environment:
    """The jinja2 environment of ``templates_dir`` (one per folder and process)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir)),
        undefined=jinja2.StrictUndefined,
        autoescape=True,
        auto_reload=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = local_time
    return env


def render(
    request: Request, name: str, *, status: int = 200, csrf: str = "", **context: Any
) -> HTMLResponse:
    """The page ``templates/staff/<name>`` as a response."""
    who = getattr(request.state, "who", None)
    env = environment(services(request).settings.templates_dir)
    html = env.get_template(f"staff/{name}").render(
        request=request,
        who=who,
        csrf=who.csrf if who is not None else csrf,
        areas=areas(who.role) if who is not None else frozenset(),
        **context,
    )
    return HTMLResponse(html, status_code=status)
