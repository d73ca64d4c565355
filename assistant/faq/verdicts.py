"""From scores to a verdict: the thresholds that answer a question outright, ask "Did you
mean…?" or give up, on the blended scores (``decide``) or on BM25's alone (``outright_by_lexicon``,
the mail mode's shortcut), and the verdict on a message that only greets or thanks.
"""

from __future__ import annotations

from dataclasses import dataclass

from assistant.faq import lexicon
from assistant.faq.analysis import Analysis
from assistant.faq.examples import OUT_OF_SCOPE

# Decision thresholds, chosen on bench/data/faq_tune.tsv and on cross-validation over the
# examples only (never on the held-aside part).
ANSWER_SCORE = 0.55  # the best id answers outright from here...
ANSWER_MARGIN = 0.05  # ...when it leads the second id by this much
CLARIFY_SCORE = 0.45  # below that, from here: "Did you mean…?"
CHOICE_GAP = 0.1  # choices offered: ids within this of the best
SUGGEST_SCORE = 0.4  # "not understood" hints: ids scoring at least this

# match_outright's lexical gates (BM25 scores alone, no encoder), chosen on faq_tune.tsv only:
# the loosest gates under which every tuning question they settle got the same outright verdict
# from the blend, with at least 0.07 to spare on each of decide's conditions (a no-answer gate
# at 0.35 settles 8 more questions but leaves 0.03: an answered one scores 0.354; an answer gate
# with margin 0.25 settles 16 more but leaves 0.058). 151 of 234 tuning questions need no encoder.
LEXICAL_NO_ANSWER = 0.3  # below this best score, or no topic word: no outright answer
LEXICAL_ANSWER = 0.6  # from this best score, this far ahead of the second id and ahead of
LEXICAL_MARGIN = 0.3  # the out-of-scope examples: answered outright


@dataclass(frozen=True)
class FaqMatch:
    """The matcher's verdict on one question."""

    kind: str  # "answer" | "clarify" | "greeting" | "thanks" | "not_understood"
    faq_id: str | None  # set only when kind == "answer"
    score: float  # the best FAQ id's score, 0..1 (1.0 for greetings and thanks)
    suggestions: tuple[str, ...]  # up to 3 ids: the choices for "clarify", hints otherwise
    language: str  # "it" | "en": the language the question was written in


@dataclass(frozen=True)
class Scores:
    """Every label's blended score for one question (the matcher's evidence)."""

    analysis: Analysis
    language: str
    blended: dict[str, float]
    lexical: dict[str, float]
    semantic: dict[str, float]


def decide(scores: Scores) -> FaqMatch:
    """Answer, "Did you mean…?", or not understood, from the blended scores."""
    ranked = sorted(
        ((score, label) for label, score in scores.blended.items() if label != OUT_OF_SCOPE),
        reverse=True,
    )
    best = ranked[0][0] if ranked else 0.0
    second = ranked[1][0] if len(ranked) > 1 else 0.0
    in_scope = scores.analysis.names_topic and scores.blended.get(OUT_OF_SCOPE, 0.0) < best
    language = scores.language
    if in_scope and best >= ANSWER_SCORE and best - second >= ANSWER_MARGIN:
        return FaqMatch("answer", ranked[0][1], best, (), language)
    if in_scope and best >= CLARIFY_SCORE:
        choices = tuple(label for s, label in ranked[:3] if s >= best - CHOICE_GAP)
        if len(choices) < 2 and len(ranked) > 1:
            choices = (ranked[0][1], ranked[1][1])
        return FaqMatch("clarify", None, best, choices, language)
    hints = tuple(label for s, label in ranked[:3] if s >= SUGGEST_SCORE)
    return FaqMatch("not_understood", None, best, hints, language)


def outright_by_lexicon(
    analysis: Analysis, lexical: dict[str, float], best_language: str
) -> FaqMatch | None:
    """The outright verdict BM25 settles alone (answer or not), or None when still open."""
    ranked = sorted(
        ((score, label) for label, score in lexical.items() if label != OUT_OF_SCOPE),
        reverse=True,
    )
    best, best_id = ranked[0] if ranked else (0.0, None)
    second = ranked[1][0] if len(ranked) > 1 else 0.0
    language = analysis.language or best_language
    if not analysis.names_topic or best < LEXICAL_NO_ANSWER:
        return FaqMatch("not_understood", None, best, (), language)
    if (
        best >= LEXICAL_ANSWER
        and best - second >= LEXICAL_MARGIN
        and lexical.get(OUT_OF_SCOPE, 0.0) < best
    ):
        return FaqMatch("answer", best_id, best, (), language)
    return None


def social_match(analysis: Analysis) -> FaqMatch | None:
    """The verdict on a message that only greets or thanks (score 1.0), else None."""
    social = _social_kind(analysis.words)
    if social is None:
        return None
    return FaqMatch(social, None, 1.0, (), analysis.language or _social_language(analysis))


def _social_kind(words: tuple[str, ...]) -> str | None:
    """'greeting' or 'thanks' when the message holds nothing else."""
    if not words:
        return None
    social = lexicon.GREETING_WORDS | lexicon.THANKS_WORDS | lexicon.SOCIAL_FILLERS
    if not all(w in social for w in words):
        return None
    if any(w in lexicon.THANKS_WORDS for w in words):
        return "thanks"
    if any(w in lexicon.GREETING_WORDS for w in words):
        return "greeting"
    return None


def _social_language(analysis: Analysis) -> str:
    english = lexicon.GREETINGS_EN
    return "en" if any(w in english for w in analysis.words) else "it"
