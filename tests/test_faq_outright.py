"""The mail mode (``FaqMatcher.match_outright``): the outright answers ``match_many`` gives,
with the sentence encoder left out wherever BM25 alone settles them; and BM25's fast path
scores as a plain BM25 computation does."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence

import pytest

from assistant.faq import FaqMatcher
from assistant.faq.analysis import LANGUAGES, raw_words
from assistant.faq.bm25 import Bm25Index
from assistant.faq.lexicon import OFF_TOPIC_EN, OFF_TOPIC_IT
from assistant.faq.matcher import OFF_TOPIC_BOOST, read_examples
from bench.faq_eval import PARTS, CountingEncoder, counting_matcher, read_part

CLEAR_ANSWERS = {
    "Come cambio l'indirizzo e-mail?": "modifica-email",
    "I forgot my password and username": "credenziali-smarrite",
    "Le fatture hanno valore fiscale?": "validita-fiscale",
    "Can I get paper invoices by post?": "fattura-cartacea",
}
CLEARLY_NO_ANSWER = ["qual è il tasso del mutuo?", "vorrei un prestito per la macchina", "?!"]
AMBIGUOUS = "ogni quanto caricate le fatture nuove?"  # BM25 alone leaves it open


@pytest.fixture(scope="module")
def counted() -> tuple[FaqMatcher, CountingEncoder]:
    """A matcher over the real encoder, counting what the encoder reads."""
    return counting_matcher()


def test_mail_mode_answers_outright_exactly_where_match_many_does_on_the_tuning_part() -> None:
    matcher = FaqMatcher.load()
    questions = [row.question for row in read_part(PARTS["tune"])]
    many = matcher.match_many(questions)
    outright = matcher.match_outright(questions)
    assert len(outright) == len(questions)
    for question, full, mail in zip(questions, many, outright, strict=True):
        expected = full.faq_id if full.kind == "answer" else None
        assert (mail.kind == "answer", mail.faq_id) == (full.kind == "answer", expected), question
        assert mail.language == full.language, question
        if full.kind in ("greeting", "thanks"):
            assert mail.kind == full.kind, question
    assert matcher.match_outright([]) == []


def test_clear_questions_are_settled_without_the_encoder(
    counted: tuple[FaqMatcher, CountingEncoder],
) -> None:
    matcher, encoder = counted
    encoder.calls = encoder.texts = 0
    questions = [*CLEAR_ANSWERS, *CLEARLY_NO_ANSWER, "ciao", "grazie mille!"]
    verdicts = matcher.match_outright(questions)
    assert encoder.calls == 0
    answers = {q: v.faq_id for q, v in zip(questions, verdicts, strict=True) if v.kind == "answer"}
    assert answers == CLEAR_ANSWERS
    assert [v.kind for v in verdicts[-2:]] == ["greeting", "thanks"]
    assert [v.language for v in verdicts[:4]] == ["it", "en", "it", "en"]


def test_an_ambiguous_question_is_encoded_alone_in_one_call(
    counted: tuple[FaqMatcher, CountingEncoder],
) -> None:
    matcher, encoder = counted
    encoder.calls = encoder.texts = 0
    questions = [*CLEAR_ANSWERS, AMBIGUOUS, *CLEARLY_NO_ANSWER]
    verdicts = matcher.match_outright(questions)
    assert (encoder.calls, encoder.texts) == (1, 1)
    assert verdicts[len(CLEAR_ANSWERS)] == matcher.match_many([AMBIGUOUS])[0]


def reference_best_by_label(
    docs: Sequence[tuple[str, Sequence[str]]],
    query: Sequence[str],
    boost: Mapping[str, float],
    k1: float = 1.2,
    b: float = 0.5,
    query_share: float = 0.6,
    runner_up: float = 0.6,
) -> dict[str, float]:
    """Bm25Index.best_by_label's definition, computed example by example from the raw terms."""
    count = len(docs)
    frequency = Counter(term for _, terms in docs for term in set(terms))

    def idf(term: str) -> float:
        return math.log(1 + (count - frequency[term] + 0.5) / (frequency[term] + 0.5))

    average = sum(len(terms) for _, terms in docs) / count
    query_terms = set(query)
    query_mass = sum(idf(t) * boost.get(t, 1.0) for t in query_terms)
    scores: dict[str, list[float]] = {}
    for label, terms in docs:
        tf = Counter(terms)
        shared = [t for t in query_terms if t in tf]
        if not shared:
            continue
        norm = k1 * (1 - b + b * len(terms) / average)
        raw = sum(boost.get(t, 1.0) * idf(t) * tf[t] * (k1 + 1) / (tf[t] + norm) for t in shared)
        doc_cover = sum(idf(t) for t in shared) / (sum(idf(t) for t in tf) or 1.0)
        score = min(raw / query_mass, 1.0) ** query_share * min(doc_cover, 1.0) ** (1 - query_share)
        scores.setdefault(label, []).append(score)
    result = {}
    for label, found in scores.items():
        first, second, *_ = [*sorted(found, reverse=True), 0.0]
        result[label] = (first + runner_up * second) / (1 + runner_up)
    return result


def test_bm25_scores_equal_a_plain_computation_on_the_evaluation_questions() -> None:
    matcher = FaqMatcher.load()
    analyzer = matcher.analyzer
    examples = sorted(read_examples(), key=lambda e: e.label)
    off_topic = {"it": OFF_TOPIC_IT, "en": OFF_TOPIC_EN}
    analyses = [
        analyzer.analyze(row.question) for part in PARTS.values() for row in read_part(part)
    ]
    for lang in LANGUAGES:
        docs = [
            (e.label, analyzer.stems(lang, raw_words(e.text)))
            for e in examples
            if e.language == lang
        ]
        index = Bm25Index(docs)
        boost = {analyzer.stem_word(lang, w): OFF_TOPIC_BOOST for w in off_topic[lang]}
        for analysis in analyses:
            query = analysis.terms[lang]
            found = index.best_by_label(query, boost)
            expected = reference_best_by_label(docs, query, boost)
            assert found.keys() == expected.keys(), query
            for label, score in expected.items():
                assert found[label] == pytest.approx(score, abs=1e-9), (query, label)
