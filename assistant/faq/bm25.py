"""A small Okapi BM25 index over short example questions, with scores normalised to about 0..1."""

from __future__ import annotations

import logging
import math
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence

logger = logging.getLogger(__name__)


class Bm25Index:
    """Example questions (label, terms); a query's score per label is its best example's.

    A raw BM25 sum grows with the query's length, so it is divided by the query's own weight
    (the sum of its terms' idf, unknown terms counting as the rarest): the share of the question
    the example explains. That share is combined with the share of the example the question
    covers, so a long example matched by one common word scores low too.

    Each term's posting keeps its idf and, per example, the term's BM25 contribution (idf, tf
    and length norm folded in at build time): a query only adds them up.
    """

    def __init__(
        self,
        docs: Sequence[tuple[str, Sequence[str]]],
        *,
        k1: float = 1.2,
        b: float = 0.5,
        query_share: float = 0.6,
        runner_up: float = 0.6,
    ) -> None:
        self.labels = [label for label, _ in docs]
        self._query_share = query_share
        count = len(docs)
        frequencies: dict[str, list[tuple[int, int]]] = defaultdict(list)
        lengths = []
        for index, (_, terms) in enumerate(docs):
            lengths.append(len(terms))
            for term, tf in Counter(terms).items():
                frequencies[term].append((index, tf))
        self.idf = {
            term: math.log(1 + (count - len(p) + 0.5) / (len(p) + 0.5))
            for term, p in frequencies.items()
        }
        self.unknown_idf = math.log(1 + (count + 0.5) / 0.5)
        self._runner_up = runner_up
        average = (sum(lengths) / count) if count else 1.0
        norms = [k1 * (1 - b + b * (n / average)) for n in lengths]
        # term -> (idf, ((example, the term's BM25 contribution to it), ...))
        self._postings = {
            term: (
                self.idf[term],
                tuple((doc, self.idf[term] * tf * (k1 + 1) / (tf + norms[doc])) for doc, tf in p),
            )
            for term, p in frequencies.items()
        }
        self._doc_mass = [sum(self.idf[t] for t in set(terms)) or 1.0 for _, terms in docs]

    def weight(self, term: str) -> float:
        """The idf of a term; terms never seen weigh like the rarest."""
        return self.idf.get(term, self.unknown_idf)

    def best_by_label(
        self, query: Sequence[str], boost: Mapping[str, float] | None = None
    ) -> dict[str, float]:
        """Best normalised score per label for the query's terms (boosted terms weigh more)."""
        boost = boost or {}
        query_mass = 0.0
        raw: dict[int, float] = {}
        matched: dict[int, float] = {}
        for term in set(query):
            factor = boost.get(term, 1.0)
            entry = self._postings.get(term)
            if entry is None:
                query_mass += self.unknown_idf * factor
                continue
            idf, posting = entry
            query_mass += idf * factor
            for doc, contribution in posting:
                if doc in raw:
                    raw[doc] += factor * contribution
                    matched[doc] += idf
                else:
                    raw[doc] = factor * contribution
                    matched[doc] = idf
        if query_mass <= 0 or not raw:
            return {}
        return self._by_label(raw, matched, query_mass)

    def _by_label(
        self, raw: dict[int, float], matched: dict[int, float], query_mass: float
    ) -> dict[str, float]:
        """Each label's best example score, with a share of its runner-up's."""
        top_two: dict[str, list[float]] = {}
        share, rest = self._query_share, 1 - self._query_share
        doc_mass, labels = self._doc_mass, self.labels
        for doc, value in raw.items():
            query_cover = value / query_mass
            doc_cover = matched[doc] / doc_mass[doc]
            # min(x, 1.0) spelt out: the builtin call costs more than the rest of the loop
            score = (query_cover if query_cover < 1.0 else 1.0) ** share * (
                doc_cover if doc_cover < 1.0 else 1.0
            ) ** rest
            pair = top_two.get(labels[doc])
            if pair is None:
                top_two[labels[doc]] = [score, 0.0]
            elif score > pair[0]:
                pair[0], pair[1] = score, pair[0]
            elif score > pair[1]:
                pair[1] = score
        weight = self._runner_up
        return {
            label: (first + weight * second) / (1 + weight)
            for label, (first, second) in top_two.items()
        }


__all__ = ["Bm25Index"]
