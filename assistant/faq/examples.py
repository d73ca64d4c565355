"""The matcher's knowledge: the guide's 13 FAQ ids and the example questions of each.

``examples.txt`` holds "## label" sections of "it: ..." / "en: ..." lines; the labels are the
FAQ ids and ``out-of-scope`` (questions the FAQ must not answer).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from assistant.faq.analysis import LANGUAGES

# The guide's 13 questions, in the guide's order.
FAQ_IDS: tuple[str, ...] = (
    "contenuti-area-clienti",
    "fatture-visualizzabili",
    "disponibilita-fatture",
    "fattura-cartacea",
    "validita-fiscale",
    "contratti-visualizzati",
    "dati-registrazione",
    "modifica-email",
    "password-non-ricevuta",
    "credenziali-smarrite",
    "assistenza-tecnica",
    "informazioni-contenuti",
    "guida-operativa",
)
OUT_OF_SCOPE = "out-of-scope"
EXAMPLES_FILE = Path(__file__).with_name("examples.txt")


@dataclass(frozen=True)
class Example:
    """One example question of the matcher's knowledge."""

    label: str  # a FAQ id or OUT_OF_SCOPE
    language: str
    text: str


def read_examples(path: Path = EXAMPLES_FILE) -> list[Example]:
    """Parse the examples file ("## label" sections of "it: ..." / "en: ..." lines)."""
    examples: list[Example] = []
    label: str | None = None
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("# "):
            continue
        if line.startswith("## "):
            label = line[3:].strip()
            if label not in FAQ_IDS and label != OUT_OF_SCOPE:
                raise ValueError(f"{path}:{number}: unknown label {label!r}")
            continue
        lang, sep, text = line.partition(":")
        if label is None or not sep or lang not in LANGUAGES:
            raise ValueError(f"{path}:{number}: expected 'it: ...' or 'en: ...' under a label")
        examples.append(Example(label, lang, text.strip()))
    return examples


__all__ = ["EXAMPLES_FILE", "FAQ_IDS", "OUT_OF_SCOPE", "Example", "read_examples"]
