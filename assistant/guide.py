"""The operating guide (``guida-operativa``): a PDF built from templates/<lang>/guide/*.j2.

The templates use a small line markup:

    = Title                 the document title
    # Heading               a section
    ## Subheading           a command or a topic
    - item                  a bullet
    (blank line)            space between paragraphs
    anything else           a paragraph

The core Helvetica font covers Latin-1 (every Italian accented letter); anything outside it
(€, dashes, curly quotes, emoji) is transliterated, so no template can make the build fail.
"""

from __future__ import annotations

import hashlib
import logging
import os
import unicodedata
from pathlib import Path

from fpdf import FPDF

from assistant.private_files import private_folder
from assistant.settings import Settings
from assistant.texts import LANGUAGES, Texts

logger = logging.getLogger(__name__)

SECTIONS = ("cover", "commands", "rules", "contacts")
FILE_NAMES = {"it": "guida-operativa.pdf", "en": "operating-guide.pdf"}
_FOOTERS = {
    "it": "Area Clienti - Guida operativa - pagina",
    "en": "Customer Area - Operating guide - page",
}
_TRANSLITERATIONS = str.maketrans(
    {
        "€": "EUR",
        "–": "-",
        "—": "-",
        "‘": "'",
        "’": "'",
        "“": '"',
        "”": '"',
        "„": '"',
        "…": "...",
        "•": "-",
        "·": "-",
        "\u00a0": " ",
    }
)


def latin1(text: str) -> str:
    """The text with every character the core PDF fonts lack replaced or dropped."""
    text = text.translate(_TRANSLITERATIONS)
    if all(ord(c) < 256 for c in text):
        return text
    kept = []
    for char in text:
        if ord(char) < 256:
            kept.append(char)
            continue
        base = unicodedata.normalize("NFKD", char).encode("latin-1", "ignore").decode("latin-1")
        kept.append(base)
    return "".join(kept)


def guide_markup(texts: Texts, settings: Settings, lang: str) -> str:
    """The guide's text in its line markup, rendered from the templates."""
    context = {
        "support_address": settings.support_address,
        "retry_minutes": settings.registration_retry_minutes,
        "max_attempts": settings.max_login_attempts,
        "session_idle_minutes": settings.session_idle_minutes,
        "temp_password_hours": settings.temp_password_hours,
    }
    parts = [texts.render(lang, f"guide/{name}", **context) for name in SECTIONS]
    return latin1("\n\n".join(parts))


class _GuidePdf(FPDF):
    """A4 pages with the page number in the footer."""

    def __init__(self, footer: str) -> None:
        super().__init__(format="A4")
        self._footer_text = footer

    def footer(self) -> None:
        """Page number at the bottom of every page."""
        self.set_y(-14)
        self.set_font("Helvetica", "I", 8)
        self.set_text_color(110, 110, 110)
        self.cell(0, 8, f"{self._footer_text} {self.page_no()}", align="C")


def build_guide_pdf(texts: Texts, settings: Settings, lang: str) -> bytes:
    """The operating guide as PDF bytes."""
    lang = lang if lang in LANGUAGES else settings.default_language
    markup = guide_markup(texts, settings, lang)
    pdf = _GuidePdf(latin1(_FOOTERS[lang]))
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.set_margins(18, 18, 18)
    pdf.add_page()
    for line in markup.splitlines():
        _write_line(pdf, line.rstrip())
    title = next((ln[2:] for ln in markup.splitlines() if ln.startswith("= ")), "Area Clienti")
    pdf.set_title(title)
    pdf.set_author("Banco BPM - Divisione Leasing")
    pdf.set_lang(lang)
    return bytes(pdf.output())


def _write_line(pdf: FPDF, line: str) -> None:
    """Lay out one line of markup."""
    width = pdf.w - pdf.l_margin - pdf.r_margin
    if not line:
        pdf.ln(2.5)
    elif line.startswith("= "):
        pdf.set_font("Helvetica", "B", 20)
        pdf.set_text_color(0, 70, 127)
        pdf.multi_cell(width, 10, line[2:], new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0, 0, 0)
    elif line.startswith("## "):
        pdf.ln(1.5)
        pdf.set_font("Helvetica", "B", 11.5)
        pdf.multi_cell(width, 6.5, line[3:], new_x="LMARGIN", new_y="NEXT")
    elif line.startswith("# "):
        pdf.ln(4)
        pdf.set_font("Helvetica", "B", 15)
        pdf.set_text_color(0, 70, 127)
        pdf.multi_cell(width, 8, line[2:], new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0, 0, 0)
    elif line.startswith("- "):
        pdf.set_font("Helvetica", "", 10)
        pdf.set_x(pdf.l_margin + 4)
        pdf.multi_cell(width - 4, 5.2, "- " + line[2:], new_x="LMARGIN", new_y="NEXT")
    else:
        pdf.set_font("Helvetica", "", 10)
        pdf.multi_cell(width, 5.2, line, new_x="LMARGIN", new_y="NEXT")


def guide_pdf_path(texts: Texts, settings: Settings, lang: str) -> Path:
    """The guide's PDF file under ``data_dir/guide/``, built once per content and reused."""
    lang = lang if lang in LANGUAGES else settings.default_language
    digest = hashlib.sha256(f"{lang}\n{guide_markup(texts, settings, lang)}".encode()).hexdigest()
    path = settings.data_dir / "guide" / f"{lang}-{digest[:16]}" / FILE_NAMES[lang]
    if path.is_file():
        return path
    private_folder(path.parent)
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    partial.write_bytes(build_guide_pdf(texts, settings, lang))
    partial.replace(path)
    logger.info("operating guide built: %s", path.parent.name)
    return path


__all__ = ["FILE_NAMES", "build_guide_pdf", "guide_markup", "guide_pdf_path", "latin1"]
