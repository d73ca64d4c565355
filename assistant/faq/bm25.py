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
        self._k1, self._b, self._query_share = k1, b, query_share
        count = len(docs)
        postings: dict[str, list[tuple[int, int]]] = defaultdict(list)
        lengths = []
        for index, (_, terms) in enumerate(docs):
            lengths.append(len(terms))
            for term, tf in Counter(terms).items():
                postings[term].append((index, tf))
        self._postings = dict(postings)
        self.idf = {
            term: math.log(1 + (count - len(p) + 0.5) / (len(p) + 0.5))
            for term, p in postings.items()
        }
        self.unknown_idf = math.log(1 + (count + 0.5) / 0.5)
        self._runner_up = runner_up
        average = (sum(lengths) / count) if count else 1.0
        self._norms = [k1 * (1 - b + b * (n / average)) for n in lengths]
        self._doc_mass = [sum(self.idf[t] for t in set(terms)) or 1.0 for _, terms in docs]

    def weight(self, term: str) -> float:
        """The idf of a term; terms never seen weigh like the rarest."""
        return self.idf.get(term, self.unknown_idf)

    def best_by_label(
        self, query: Sequence[str], boost: Mapping[str, float] | None = None
    ) -> dict[str, float]:
        """Best normalised score per label for the query's terms (boosted terms weigh more)."""
        terms = set(query)
        boost = boost or {}
        query_mass = sum(self.weight(t) * boost.get(t, 1.0) for t in terms)
        if query_mass <= 0:
            return {}
        raw: dict[int, float] = defaultdict(float)
        matched: dict[int, float] = defaultdict(float)
        k1 = self._k1
        for term in terms:
            posting = self._postings.get(term)
            if posting is None:
                continue
            idf = self.idf[term]
            factor = boost.get(term, 1.0)
            for doc, tf in posting:
                raw[doc] += factor * idf * tf * (k1 + 1) / (tf + self._norms[doc])
                matched[doc] += idf
        top_two: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
        share = self._query_share
        for doc, value in raw.items():
            query_cover = min(value / query_mass, 1.0)
            doc_cover = min(matched[doc] / self._doc_mass[doc], 1.0)
            score = query_cover**share * doc_cover ** (1 - share)
            pair = top_two[self.labels[doc]]
            if score > pair[0]:
                pair[0], pair[1] = score, pair[0]
            elif score > pair[1]:
                pair[1] = score
        weight = self._runner_up
        return {
            label: (first + weight * second) / (1 + weight)
            for label, (first, second) in top_two.items()
        }


__all__ = ["Bm25Index"]
