"""From a customer's sentence to index terms: folding, phrases, typo correction, stems, language."""

from __future__ import annotations

import logging
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import snowballstemmer
from rapidfuzz import process
from rapidfuzz.distance import OSA

from assistant.faq import lexicon

logger = logging.getLogger(__name__)

LANGUAGES = ("it", "en")
_TOKEN = re.compile(r"[a-z0-9]+")
_YEAR = re.compile(r"(?:19|20)\d\d")
_REPEATED = re.compile(r"([a-z])\1{2,}")
_APOSTROPHES = str.maketrans({c: " " for c in "'’‘`´"})
YEAR_TOKEN = "yyyy"
_LONGEST_PHRASE = max(len(p) for p in lexicon.PHRASES)


def fold(text: str) -> str:
    """Lower case, accents removed, apostrophes turned into spaces."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_APOSTROPHES).lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def tokenize(text: str) -> list[str]:
    """Folded word tokens; years become one token, other numbers are dropped."""
    tokens: list[str] = []
    for token in _TOKEN.findall(_REPEATED.sub(r"\1", fold(text))):
        if token.isdigit():
            if _YEAR.fullmatch(token):
                tokens.append(YEAR_TOKEN)
            continue
        tokens.append(token)
    return tokens


def join_phrases(tokens: Sequence[str]) -> list[str]:
    """Rewrite the multi-word expressions of the lexicon to their single token."""
    out: list[str] = []
    i = 0
    while i < len(tokens):
        for size in range(min(_LONGEST_PHRASE, len(tokens) - i), 1, -1):
            joined = lexicon.PHRASES.get(tuple(tokens[i : i + size]))
            if joined is not None:
                out.append(joined)
                i += size
                break
        else:
            out.append(tokens[i])
            i += 1
    return out


def surface_words(tokens: Iterable[str]) -> list[str]:
    """Phrases joined and chat shorthand expanded."""
    return [lexicon.SHORTHAND.get(t, t) for t in join_phrases(list(tokens))]


@dataclass(frozen=True)
class Analysis:
    """What the matcher needs of one question."""

    words: tuple[str, ...]  # folded words after phrases, shorthand and typo correction
    language: str | None  # "it", "en", or None when nothing tells
    terms: dict[str, tuple[str, ...]]  # per language: the stems of the content words
    names_topic: bool  # some word besides stopwords and question words


class Analyzer:
    """Turns text into stems for each language, correcting typos against a known vocabulary."""

    def __init__(self, vocabulary: Iterable[str], language_words: dict[str, set[str]]) -> None:
        counts = Counter(vocabulary)
        known = set(counts)
        known |= lexicon.STOPWORDS_IT | lexicon.STOPWORDS_EN
        known |= lexicon.GREETING_WORDS | lexicon.THANKS_WORDS | lexicon.SOCIAL_FILLERS
        known |= set(lexicon.SHORTHAND) | set(lexicon.SHORTHAND.values())
        known |= set(lexicon.OFF_TOPIC_IT) | set(lexicon.OFF_TOPIC_EN)
        known |= {word for phrase in lexicon.PHRASES for word in phrase}
        for groups in (lexicon.SYNONYMS_IT, lexicon.SYNONYMS_EN):
            known |= {word for group in groups for word in group}
        self._known = frozenset(known)
        # Most frequent first, so that a tie between corrections picks the common word.
        self._candidates = sorted(
            (w for w in known if len(w) >= 3), key=lambda w: (-counts.get(w, 0), w)
        )
        self._markers = {
            "it": lexicon.MARKERS_IT | frozenset(language_words.get("it", ())),
            "en": lexicon.MARKERS_EN | frozenset(language_words.get("en", ())),
        }
        self._stopwords = lexicon.STOPWORDS_IT | lexicon.STOPWORDS_EN
        self._stemmers = {
            "it": snowballstemmer.stemmer("italian"),
            "en": snowballstemmer.stemmer("english"),
        }
        self._synonyms = {
            "it": self._stem_synonyms("it", lexicon.SYNONYMS_IT),
            "en": self._stem_synonyms("en", lexicon.SYNONYMS_EN),
        }
        self._vague = self._stopwords | lexicon.QUESTION_WORDS
        self.correct = lru_cache(maxsize=4096)(self._correct)
        self.stem_word = lru_cache(maxsize=16384)(self._stem_word)  # snowball is pure Python

    def _stem_synonyms(self, lang: str, groups: tuple[tuple[str, ...], ...]) -> dict[str, str]:
        mapping: dict[str, str] = {}
        stemmer = self._stemmers[lang]
        for group in groups:
            head = stemmer.stemWord(group[0])
            for word in group:
                mapping[stemmer.stemWord(word)] = head
        return mapping

    def _correct(self, token: str) -> str:
        """The known word one or two edits away, or the token itself."""
        if token in self._known or not 4 <= len(token) <= 24 or not token.isalpha():
            return token
        max_edits = 1 if len(token) < 8 else 2
        found = process.extractOne(
            token, self._candidates, scorer=OSA.distance, score_cutoff=max_edits
        )
        return token if found is None else str(found[0])

    def words(self, text: str) -> list[str]:
        """Folded words after phrases, shorthand and typo correction."""
        first = surface_words(tokenize(text))
        return surface_words(self.correct(t) for t in first)

    def detect_language(self, words: Sequence[str]) -> str | None:
        """'it' or 'en' by marker words; None when they tie."""
        italian = sum(1 for w in words if w in self._markers["it"])
        english = sum(1 for w in words if w in self._markers["en"])
        if italian == english:
            return None
        return "it" if italian > english else "en"

    def stems(self, lang: str, words: Iterable[str]) -> tuple[str, ...]:
        """Stems of the content words (stopwords dropped, synonyms merged)."""
        return tuple(self.stem_word(lang, w) for w in words if w not in self._stopwords)

    def analyze(self, text: str) -> Analysis:
        """Words, language and stems of one question."""
        words = tuple(self.words(text))
        return Analysis(
            words=words,
            language=self.detect_language(words),
            terms={lang: self.stems(lang, words) for lang in LANGUAGES},
            names_topic=any(w not in self._vague for w in words),
        )

    def _stem_word(self, lang: str, word: str) -> str:
        """One word's stem with synonyms merged."""
        stem = self._stemmers[lang].stemWord(word)
        return self._synonyms[lang].get(stem, stem)


def raw_words(text: str) -> list[str]:
    """Folded words with phrases and shorthand, no typo correction (for building vocabularies)."""
    return surface_words(tokenize(text))


__all__ = ["LANGUAGES", "Analysis", "Analyzer", "fold", "raw_words", "tokenize"]
