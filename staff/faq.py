"""``python main.py faq [--lang it|en] [--json] [QUESTION ...]``: the FAQ from the command line.

With no questions it reads standard input, one question per line, answering each line as it
arrives (thousands can be piped through one process).
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable, Iterator
from typing import TextIO

from assistant.faq.matcher import FaqMatch, FaqMatcher
from assistant.faq.replies import faq_reply
from assistant.settings import Settings
from assistant.texts import Texts

logger = logging.getLogger(__name__)


def run_faq(
    settings: Settings,
    questions: list[str],
    lang: str | None = None,
    as_json: bool = False,
    *,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
) -> int:
    """Answer each question (or each line of standard input); return the exit status."""
    source = stdin if stdin is not None else sys.stdin
    out = stdout if stdout is not None else sys.stdout
    texts = Texts(settings.templates_dir)
    matcher = FaqMatcher.load(cache_dir=settings.data_dir / "cache")
    try:
        for count, question in enumerate(_questions(questions, source)):
            match = matcher.match(question)
            if as_json:
                out.write(json.dumps(as_record(question, match), ensure_ascii=False) + "\n")
            else:
                if count:
                    out.write("\n")
                out.write(render_reply(texts, settings, match, lang) + "\n")
            out.flush()
    except BrokenPipeError:  # the reader went away (e.g. piped into head): not an error
        return 0
    return 0


def as_record(question: str, match: FaqMatch) -> dict[str, object]:
    """The JSON line of one question: id only when the FAQ answers outright."""
    return {
        "question": question,
        "id": match.faq_id if match.kind == "answer" else None,
        "score": round(match.score, 4),
        "suggestions": list(match.suggestions),
    }


def render_reply(texts: Texts, settings: Settings, match: FaqMatch, lang: str | None) -> str:
    """The reply as a customer reads it, the choices numbered under it."""
    reply = faq_reply(texts, settings, match, lang)
    lines = [reply.text]
    lines.extend(f"  {n}. {title}" for n, (_, title) in enumerate(reply.choices, 1))
    return "\n".join(lines)


def _questions(arguments: list[str], source: Iterable[str]) -> Iterator[str]:
    """The arguments, or else the non-blank lines of ``source`` as they come."""
    if arguments:
        yield from arguments
        return
    for line in source:
        question = line.strip()
        if question:
            yield question


__all__ = ["as_record", "render_reply", "run_faq"]
