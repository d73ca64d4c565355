"""Ready answers for the reply box: the FAQ's answers (it/en) and the snippets admins wrote.

A ready answer is named by a key: ``faq:<faq id>:<lang>`` or ``snippet:<id>``. The ticket page
offers them in a select; choosing one re-opens the page (a GET, no script needed) with its text
added to the draft.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from assistant.errors import NotFound
from assistant.faq import FAQ_IDS, faq_answer, faq_title
from assistant.texts import LANGUAGES, Texts
from web.context import Services


@dataclass(frozen=True)
class ReadyAnswer:
    key: str  # faq:<id>:<lang> | snippet:<id>
    label: str


async def ready_answers(svc: Services, language: str) -> list[ReadyAnswer]:
    """The ticket's language first, then the other; snippets before the FAQ."""
    order = sorted(LANGUAGES, key=lambda lang: lang != language)
    snippets = await svc.store.inbox.snippets()
    found = [
        ReadyAnswer(f"snippet:{s.id}", f"[{s.language}] {s.title}")
        for lang in order
        for s in snippets
        if s.language == lang
    ]
    return found + [answer for lang in order for answer in _faq_answers(svc.texts, lang)]


@functools.lru_cache(maxsize=8)
def _faq_answers(texts: Texts, lang: str) -> tuple[ReadyAnswer, ...]:
    """The FAQ's ready answers in one language (titles rendered once per process)."""
    return tuple(
        ReadyAnswer(f"faq:{faq_id}:{lang}", f"[{lang}] FAQ · {faq_title(texts, faq_id, lang)}")
        for faq_id in FAQ_IDS
    )


async def answer_text(svc: Services, key: str) -> str | None:
    """The text of the ready answer ``key``, or None when it names none."""
    kind, _, rest = key.partition(":")
    if kind == "faq":
        faq_id, _, lang = rest.partition(":")
        if lang not in LANGUAGES:
            return None
        try:
            return faq_answer(svc.texts, svc.settings, faq_id, lang)
        except NotFound:
            return None
    if kind == "snippet" and rest.isascii() and rest.isdigit() and len(rest) < 19:
        snippet = await svc.store.inbox.snippet(int(rest))
        return snippet.body if snippet else None
    return None
