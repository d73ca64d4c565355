"""Maps a customer's question to one of the 13 FAQ ids, to "Did you mean…?", or to nothing.

Two opinions are blended for every topic (and for the out-of-scope examples): BM25 over the
example questions (stems, synonyms, typo correction: see analysis.py and bm25.py) and the cosine
of the question's sentence vector with the nearest example's (encoder.py). A topic is answered
outright when its blended score is high and clearly ahead of the next; a question closer to
the out-of-scope examples than to any topic is not answered. Channels that act on outright
answers only (the mailbox) call ``match_outright``: the encoder runs only where BM25 leaves open
whether the question is answered outright.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from assistant.faq import lexicon
from assistant.faq.analysis import LANGUAGES, Analysis, Analyzer, raw_words
from assistant.faq.bm25 import Bm25Index
from assistant.faq.encoder import SentenceEncoder, shared_encoder
from assistant.faq.examples import FAQ_IDS, OUT_OF_SCOPE, Example, read_examples
from assistant.faq.verdicts import FaqMatch, Scores, decide, outright_by_lexicon, social_match

logger = logging.getLogger(__name__)


# Blending, chosen on bench/data/faq_tune.tsv and on cross-validation over the examples only
# (never on the held-aside part); the decision thresholds are in verdicts.py.
SEMANTIC_WEIGHT = 0.6  # share of the encoder's cosine in the blended score
OFF_TOPIC_BOOST = 2.0  # an unmatched other-banking word weighs this many times its idf
OTHER_LANGUAGE = 0.9  # the BM25 index of the language not detected counts this much
MAX_CHARS = 2000  # the matcher reads the start of a long message only


class FaqMatcher:
    """Build once with ``load`` (shared by the process), then ``match`` in milliseconds."""

    def __init__(
        self,
        examples: list[Example],
        encoder: SentenceEncoder | None = None,
        cache_dir: Path | None = None,
    ) -> None:
        examples = sorted(examples, key=lambda e: e.label)
        words_by_lang: dict[str, set[str]] = defaultdict(set)
        vocabulary: list[str] = []
        for example in examples:
            words = raw_words(example.text)
            vocabulary.extend(words)
            words_by_lang[example.language].update(words)
        only = {
            "it": words_by_lang["it"] - words_by_lang["en"],
            "en": words_by_lang["en"] - words_by_lang["it"],
        }
        self.analyzer = Analyzer(vocabulary, only)
        self._indexes = {
            lang: Bm25Index(
                [
                    (e.label, self.analyzer.stems(lang, raw_words(e.text)))
                    for e in examples
                    if e.language == lang
                ]
            )
            for lang in LANGUAGES
        }
        off_topic = {"it": lexicon.OFF_TOPIC_IT, "en": lexicon.OFF_TOPIC_EN}
        self._boost = {
            lang: {self.analyzer.stem_word(lang, w): OFF_TOPIC_BOOST for w in off_topic[lang]}
            for lang in LANGUAGES
        }
        self._encoder = encoder
        labels = [e.label for e in examples]
        self._labels = list(dict.fromkeys(labels))
        self._label_starts = np.array([labels.index(label) for label in self._labels])
        self._vectors = (
            encoder.encode_cached([e.text for e in examples], cache_dir)
            if encoder is not None
            else None
        )

    @classmethod
    def load(cls, cache_dir: Path | None = None) -> FaqMatcher:
        """The process's matcher over the shipped examples (built on first call, offline).

        ``cache_dir`` keeps the examples' vectors between runs (first build: a few seconds;
        later ones about one second, the encoder's own loading).
        """
        global _loaded
        with _load_lock:
            if _loaded is None:
                _loaded = cls(read_examples(), shared_encoder(), cache_dir)
                logger.debug("faq matcher ready")
            return _loaded

    def score(self, text: str, analysis: Analysis | None = None) -> Scores:
        """Every label's score for a question (``analysis``: the text's, if already made)."""
        if analysis is None:
            analysis = self.analyzer.analyze(text[:MAX_CHARS])
        semantic = self._semantic(text) if analysis.words else {}
        return self._blend(analysis, semantic)

    def _blend(
        self,
        analysis: Analysis,
        semantic: dict[str, float],
        lexical_scores: tuple[dict[str, float], str] | None = None,
    ) -> Scores:
        lexical, best_language = lexical_scores or self._lexical(analysis)
        weight = SEMANTIC_WEIGHT if self._vectors is not None else 0.0
        blended = {
            label: (1 - weight) * lexical.get(label, 0.0) + weight * semantic.get(label, 0.0)
            for label in self._labels
        }
        return Scores(analysis, analysis.language or best_language, blended, lexical, semantic)

    def match(self, text: str) -> FaqMatch:
        """The verdict on one question."""
        analysis = self.analyzer.analyze(text[:MAX_CHARS])
        return social_match(analysis) or decide(self.score(text, analysis))

    def match_many(self, texts: Sequence[str]) -> list[FaqMatch]:
        """``match`` of each text, with one batched encoder call for all of them."""
        return self._match_batch(texts, outright_only=False)

    def match_outright(self, texts: Sequence[str]) -> list[FaqMatch]:
        """Verdicts for channels that act only on outright answers, encoding few questions.

        Kind "answer" exactly where ``match_many`` answers outright (as measured on the tuning
        questions); greetings, thanks and languages as there. A question whose BM25 scores settle
        the answer alone gets kind "answer" or "not_understood" with the BM25 score, and no
        suggestions; only the others are encoded (one batched call) and get ``match_many``'s
        verdict.
        """
        return self._match_batch(texts, outright_only=True)

    def _match_batch(self, texts: Sequence[str], outright_only: bool) -> list[FaqMatch]:
        """Verdicts of many texts; one encoder call for those still open after BM25."""
        analyses = [self.analyzer.analyze(text[:MAX_CHARS]) for text in texts]
        matches: list[FaqMatch | None] = []
        lexicals: list[tuple[dict[str, float], str] | None] = []
        for analysis in analyses:
            social = social_match(analysis)
            if social is not None:
                matches.append(social)
                lexicals.append(None)
                continue
            lexical = self._lexical(analysis)
            matches.append(outright_by_lexicon(analysis, *lexical) if outright_only else None)
            lexicals.append(lexical)
        open_ones = [index for index, match in enumerate(matches) if match is None]
        to_encode = [index for index in open_ones if analyses[index].words]
        vectors = (
            self._encoder.encode([texts[index] for index in to_encode])
            if self._encoder is not None and self._vectors is not None and to_encode
            else None
        )
        row_of = {index: row for row, index in enumerate(to_encode)}
        for index in open_ones:
            row = row_of.get(index)
            semantic = (
                self._similarities(vectors[row]) if vectors is not None and row is not None else {}
            )
            matches[index] = decide(self._blend(analyses[index], semantic, lexicals[index]))
        return [match for match in matches if match is not None]

    def _lexical(self, analysis: Analysis) -> tuple[dict[str, float], str]:
        """Best BM25 score per label over both languages' indexes, and the better language."""
        combined: dict[str, float] = {}
        top = {lang: 0.0 for lang in LANGUAGES}
        for lang in LANGUAGES:
            factor = 1.0 if analysis.language in (None, lang) else OTHER_LANGUAGE
            found = self._indexes[lang].best_by_label(analysis.terms[lang], self._boost[lang])
            for label, score in found.items():
                weighted = score * factor
                top[lang] = max(top[lang], weighted)
                if weighted > combined.get(label, 0.0):
                    combined[label] = weighted
        return combined, ("en" if top["en"] > top["it"] else "it")

    def _semantic(self, text: str) -> dict[str, float]:
        """Cosine with each label's nearest example (0 when below zero or no encoder)."""
        if self._encoder is None or self._vectors is None:
            return {}
        return self._similarities(self._encoder.encode_one(text))

    def _similarities(self, vector: npt.NDArray[np.float32]) -> dict[str, float]:
        """Cosine of one sentence vector with each label's nearest example, at least 0."""
        assert self._vectors is not None
        similarities = self._vectors @ vector
        nearest = np.maximum.reduceat(similarities, self._label_starts)
        return {label: max(float(v), 0.0) for label, v in zip(self._labels, nearest, strict=True)}


_loaded: FaqMatcher | None = None
_load_lock = threading.Lock()


__all__ = [
    "FAQ_IDS",
    "OUT_OF_SCOPE",
    "Example",
    "FaqMatch",
    "FaqMatcher",
    "Scores",
    "decide",
    "outright_by_lexicon",
    "read_examples",
]
