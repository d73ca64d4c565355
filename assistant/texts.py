"""Every sentence a customer reads comes from ``templates/<lang>/<name>.j2`` through here."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import jinja2

LANGUAGES = ("it", "en")


def format_money(cents: int, lang: str) -> str:
    """1234.56 € as '1.234,56 €' (it) or '€1,234.56' (en)."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    grouped = f"{whole:,}"
    if lang == "it":
        return f"{sign}{grouped.replace(',', '.')},{part:02d} €"
    return f"{sign}€{grouped}.{part:02d}"


def format_date(value: date | datetime | str | None, lang: str) -> str:
    """31/12/2024 (it) or 31 Dec 2024 (en); empty for None."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if lang == "it":
        return value.strftime("%d/%m/%Y")
    return value.strftime("%d %b %Y")


def format_datetime(value: datetime | str | None, lang: str) -> str:
    """31/12/2024 18:05 (it) or 31 Dec 2024 18:05 (en)."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return f"{format_date(value, lang)} {value.strftime('%H:%M')}"


def mask_email(address: str) -> str:
    """m***@example.it: enough for the owner to recognise, nothing for a bystander."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


class Texts:
    """Renders templates by language; missing variables are errors (StrictUndefined).

    Templates ship with the code: each is read once per process (no file check per render).
    """

    def __init__(self, templates_dir: Path, **globals_: Any) -> None:
        self._env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(templates_dir)),
            undefined=jinja2.StrictUndefined,
            autoescape=False,
            keep_trailing_newline=False,
            trim_blocks=True,
            lstrip_blocks=True,
            auto_reload=False,
        )
        self._env.globals.update(globals_)
        self._html_env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(templates_dir)),
            undefined=jinja2.StrictUndefined,
            autoescape=True,
            trim_blocks=True,
            lstrip_blocks=True,
            auto_reload=False,
        )
        self._html_env.globals.update(globals_)
        for env in (self._env, self._html_env):
            env.filters["money"] = _lang_filter(format_money)
            env.filters["date"] = _lang_filter(format_date)
            env.filters["datetime"] = _lang_filter(format_datetime)
            env.filters["mask_email"] = mask_email

    def render(self, lang: str, name: str, **context: Any) -> str:
        """Render ``templates/<lang>/<name>.j2`` (falls back to Italian), stripped."""
        lang = lang if lang in LANGUAGES else "it"
        template = self._env.get_or_select_template([f"{lang}/{name}.j2", f"it/{name}.j2"])
        return template.render(lang=lang, **context).strip()

    def render_html(self, lang: str, name: str, **context: Any) -> str | None:
        """Render ``<name>.html.j2`` with autoescape, or None when there is none."""
        lang = lang if lang in LANGUAGES else "it"
        try:
            template = self._html_env.get_template(f"{lang}/{name}.html.j2")
        except jinja2.TemplateNotFound:
            return None
        return template.render(lang=lang, **context).strip()

    def exists(self, lang: str, name: str) -> bool:
        """Whether ``templates/<lang>/<name>.j2`` exists."""
        try:
            self._env.get_template(f"{lang}/{name}.j2")
        except jinja2.TemplateNotFound:
            return False
        return True


def _lang_filter(function: Any) -> Any:
    @jinja2.pass_context
    def apply(context: jinja2.runtime.Context, value: Any) -> str:
        return str(function(value, context.get("lang", "it")))

    return apply


__all__ = ["Texts", "format_date", "format_datetime", "format_money", "mask_email"]
