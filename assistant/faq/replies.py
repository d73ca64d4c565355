"""What the customer reads for a FAQ verdict: the answer, "Did you mean…?", or the way to a human.

Plain text only (no Markdown or HTML): the same answers go to the chat and into e-mails.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from assistant.errors import NotFound
from assistant.faq.matcher import FAQ_IDS, FaqMatch
from assistant.settings import Settings
from assistant.texts import LANGUAGES, Texts

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FaqReply:
    """A reply to a free-text question."""

    text: str  # what the customer reads
    choices: tuple[tuple[str, str], ...]  # (faq_id, short question title) for buttons


def faq_answer(texts: Texts, settings: Settings, faq_id: str, lang: str) -> str:
    """The answer of one FAQ id in ``lang`` (NotFound for an unknown id)."""
    if faq_id not in FAQ_IDS:
        raise NotFound(f"no FAQ with id {faq_id!r}")
    return texts.render(
        _language(lang, settings),
        f"faq/answers/{faq_id}",
        support_address=settings.support_address,
        retry_minutes=settings.registration_retry_minutes,
        max_attempts=settings.max_login_attempts,
    )


def faq_title(texts: Texts, faq_id: str, lang: str) -> str:
    """The short question title of one FAQ id (for a button)."""
    if faq_id not in FAQ_IDS:
        raise NotFound(f"no FAQ with id {faq_id!r}")
    return texts.render(lang, "faq/title", faq_id=faq_id)


def faq_reply(
    texts: Texts, settings: Settings, match: FaqMatch, lang: str | None = None
) -> FaqReply:
    """The reply to a matcher verdict, in ``lang`` or else the question's language."""
    language = _language(lang or match.language, settings)
    if match.kind == "answer" and match.faq_id is not None:
        return FaqReply(faq_answer(texts, settings, match.faq_id, language), ())
    choices = tuple((i, faq_title(texts, i, language)) for i in match.suggestions if i in FAQ_IDS)
    if match.kind == "clarify" and choices:
        return FaqReply(texts.render(language, "faq/clarify"), choices)
    if match.kind in ("greeting", "thanks"):
        return FaqReply(texts.render(language, f"faq/{match.kind}"), ())
    text = texts.render(
        language,
        "faq/not_understood",
        has_suggestions=bool(choices),
        support_address=settings.support_address,
    )
    return FaqReply(text, choices)


def _language(lang: str | None, settings: Settings) -> str:
    return lang if lang in LANGUAGES else settings.default_language


__all__ = ["FaqReply", "faq_answer", "faq_reply", "faq_title"]
