"""``FaqMatcher.match_many`` gives each question the verdict ``match`` gives it alone."""

from __future__ import annotations

import pytest

from assistant.faq import FaqMatcher
from assistant.faq.matcher import read_examples

# Batched float32 products round a few last bits differently from one-by-one encoding.
SCORE_TOLERANCE = 1e-5


@pytest.fixture(scope="module")
def matcher() -> FaqMatcher:
    """The shipped matcher (built once per module)."""
    return FaqMatcher.load()


def test_match_many_gives_the_verdicts_of_match_one_by_one(matcher: FaqMatcher) -> None:
    texts = [example.text for example in read_examples()][::3]
    texts += [
        "",
        "ciao",
        "grazie mille!",
        "Hello, how can I change the e-mail address where you send the notices?",
        "Buongiorno, la password non è mai arrivata. " * 60,
        "qual è il tasso del mutuo?",
    ]
    batched = matcher.match_many(texts)
    assert len(batched) == len(texts)
    for text, many in zip(texts, batched, strict=True):
        one = matcher.match(text)
        verdict = (one.kind, one.faq_id, one.suggestions, one.language)
        assert (many.kind, many.faq_id, many.suggestions, many.language) == verdict, text
        assert many.score == pytest.approx(one.score, abs=SCORE_TOLERANCE), text
    assert matcher.match_many([]) == []
