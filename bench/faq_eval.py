"""FAQ matcher evaluation on the labelled questions of bench/data/ (tuning and held-aside parts).

    .venv/bin/python bench/faq_eval.py            figures for both parts
    .venv/bin/python bench/faq_eval.py --errors   also the tuning part's mistakes (never the
                                                  held-aside part's: it stays unseen)

Figures per part: precision of the FAQ answers given (to any question), coverage (share of
in-scope questions answered outright), out-of-scope rejection (share of out-of-scope questions
given no FAQ answer), greetings/thanks handled, p50/p99 milliseconds per question on one core
(each question timed in five passes and its fastest kept, so that other processes sharing the
machine do not count; the single-pass p99 is printed beside it).
Targets on the held-aside part: precision >= 97%, coverage >= 90%, rejection >= 95%, p99 < 5 ms.

Mail mode (``match_outright``, what the support mailbox calls) per part: the same precision,
coverage, rejection and greetings, the share of questions the sentence encoder had to read, and
milliseconds per question of the whole part in one batch, ``match_many`` beside it (best of five
passes).
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.faq import FAQ_IDS, FaqMatch, FaqMatcher  # noqa: E402
from assistant.faq.encoder import SentenceEncoder, shared_encoder  # noqa: E402
from assistant.faq.matcher import read_examples  # noqa: E402

logger = logging.getLogger(__name__)

DATA = ROOT / "bench" / "data"
PARTS = {"tune": DATA / "faq_tune.tsv", "held-aside": DATA / "faq_heldout.tsv"}
SOCIAL = ("greeting", "thanks")
OUT_OF_SCOPE = "out-of-scope"


@dataclass(frozen=True)
class Labelled:
    """One question of the evaluation set."""

    label: str  # a FAQ id, out-of-scope, greeting or thanks
    language: str
    question: str


class CountingEncoder(SentenceEncoder):
    """The real encoder, counting the texts it is asked to encode."""

    def __init__(self, inner: SentenceEncoder) -> None:
        self._inner = inner
        self.texts = 0
        self.calls = 0

    def encode(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """The inner encoder's vectors (counted)."""
        self.calls += 1
        self.texts += len(texts)
        return self._inner.encode(texts)


def counting_matcher() -> tuple[FaqMatcher, CountingEncoder]:
    """A matcher like ``FaqMatcher.load()``'s, over an encoder that counts its work."""
    encoder = CountingEncoder(shared_encoder())
    matcher = FaqMatcher(read_examples(), encoder)
    encoder.texts = encoder.calls = 0  # the examples' vectors do not count
    return matcher, encoder


@dataclass(frozen=True)
class Outcome:
    """How the verdicts on one part of the set compare with its labels."""

    in_scope: int
    out_of_scope: int
    social: int
    answers: int
    correct_answers: int
    in_scope_answered: int
    in_scope_clarified: int
    out_of_scope_rejected: int
    out_of_scope_clarified: int
    social_ok: int
    language_ok: int

    @property
    def precision(self) -> float:
        """Correct FAQ answers among all FAQ answers given."""
        return self.correct_answers / self.answers if self.answers else 1.0

    @property
    def coverage(self) -> float:
        """In-scope questions answered outright."""
        return self.in_scope_answered / self.in_scope if self.in_scope else 0.0

    @property
    def rejection(self) -> float:
        """Out-of-scope questions given no FAQ answer."""
        return self.out_of_scope_rejected / self.out_of_scope if self.out_of_scope else 1.0


@dataclass(frozen=True)
class Figures(Outcome):
    """What one part of the set measures, one question at a time (``match``)."""

    p50_ms: float  # per question, best of the passes (what the matcher costs)
    p99_ms: float
    single_pass_p99_ms: float  # the first pass alone (includes other processes' interference)


@dataclass(frozen=True)
class MailFigures(Outcome):
    """The mail mode's figures on one part (``match_outright``, the part in one batch)."""

    encoded: int  # questions the encoder read (match_many encodes every one with words)
    many_ms: float  # match_many, per question, best of the passes
    outright_ms: float  # match_outright, likewise

    @property
    def encoded_share(self) -> float:
        """Questions (greetings and thanks aside) the encoder had to read."""
        questions = self.in_scope + self.out_of_scope
        return self.encoded / questions if questions else 0.0


def read_part(path: Path) -> list[Labelled]:
    """The labelled questions of one TSV file (label, language, question)."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        label, language, question = line.split("\t")
        if label not in FAQ_IDS and label not in (OUT_OF_SCOPE, *SOCIAL):
            raise ValueError(f"{path.name}: unknown label {label!r}")
        rows.append(Labelled(label, language, question))
    return rows


def time_questions(
    matcher: FaqMatcher, rows: list[Labelled], passes: int
) -> tuple[list[FaqMatch], list[list[float]]]:
    """The verdicts, and the milliseconds per question of each pass (typo cache emptied)."""
    runs = []
    verdicts: list[FaqMatch] = []
    for _ in range(max(1, passes)):
        matcher.analyzer.correct.cache_clear()
        timings = []
        verdicts = []
        for row in rows:
            start = time.perf_counter()
            verdicts.append(matcher.match(row.question))
            timings.append((time.perf_counter() - start) * 1000)
        runs.append(timings)
    return verdicts, runs


def percentile(values: list[float], share: float) -> float:
    """The value below which ``share`` of the values lie (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def outcome(
    rows: list[Labelled], verdicts: list[FaqMatch]
) -> tuple[dict[str, int], list[tuple[Labelled, FaqMatch]]]:
    """The ``Outcome`` fields of the verdicts, and the mistakes."""
    counts = dict.fromkeys(
        ("answers", "correct", "in_answered", "in_clarified", "oos_rejected", "oos_clarified"),
        0,
    )
    social_ok = language_ok = 0
    mistakes = []
    for row, match in zip(rows, verdicts, strict=True):
        language_ok += match.language == row.language
        answered = match.kind == "answer"
        counts["answers"] += answered
        counts["correct"] += answered and match.faq_id == row.label
        if row.label in SOCIAL:
            social_ok += match.kind == row.label
            wrong = match.kind != row.label
        elif row.label == OUT_OF_SCOPE:
            counts["oos_rejected"] += not answered
            counts["oos_clarified"] += match.kind == "clarify"
            wrong = answered
        else:
            counts["in_answered"] += answered
            counts["in_clarified"] += match.kind == "clarify"
            wrong = match.faq_id != row.label
        if wrong:
            mistakes.append((row, match))
    fields = {
        "in_scope": sum(r.label in FAQ_IDS for r in rows),
        "out_of_scope": sum(r.label == OUT_OF_SCOPE for r in rows),
        "social": sum(r.label in SOCIAL for r in rows),
        "answers": counts["answers"],
        "correct_answers": counts["correct"],
        "in_scope_answered": counts["in_answered"],
        "in_scope_clarified": counts["in_clarified"],
        "out_of_scope_rejected": counts["oos_rejected"],
        "out_of_scope_clarified": counts["oos_clarified"],
        "social_ok": social_ok,
        "language_ok": language_ok,
    }
    return fields, mistakes


def evaluate(
    matcher: FaqMatcher, rows: list[Labelled], passes: int = 5
) -> tuple[Figures, list[tuple[Labelled, FaqMatch]]]:
    """Match every question; return the figures and the mistakes."""
    verdicts, runs = time_questions(matcher, rows, passes)
    best_of = [min(times) for times in zip(*runs, strict=True)]
    fields, mistakes = outcome(rows, verdicts)
    figures = Figures(
        **fields,
        p50_ms=statistics.median(best_of),
        p99_ms=percentile(best_of, 0.99),
        single_pass_p99_ms=percentile(runs[0], 0.99),
    )
    return figures, mistakes


def evaluate_mail(
    matcher: FaqMatcher, encoder: CountingEncoder, rows: list[Labelled], passes: int = 5
) -> MailFigures:
    """``match_outright`` over the part in one batch (``encoder``: the matcher's, counting)."""
    questions = [row.question for row in rows]
    many_ms, outright_ms = [], []
    verdicts: list[FaqMatch] = []
    for _ in range(max(1, passes)):
        matcher.analyzer.correct.cache_clear()
        start = time.perf_counter()
        matcher.match_many(questions)
        many_ms.append((time.perf_counter() - start) * 1000 / len(rows))
        matcher.analyzer.correct.cache_clear()
        encoder.texts = 0
        start = time.perf_counter()
        verdicts = matcher.match_outright(questions)
        outright_ms.append((time.perf_counter() - start) * 1000 / len(rows))
    fields, _ = outcome(rows, verdicts)
    return MailFigures(
        **fields, encoded=encoder.texts, many_ms=min(many_ms), outright_ms=min(outright_ms)
    )


def report(name: str, figures: Figures) -> str:
    """The figures of one part as a few lines."""
    f = figures
    return (
        f"{name}: {f.in_scope} in-scope, {f.out_of_scope} out-of-scope, {f.social} greetings\n"
        f"  precision {f.precision:6.1%}  ({f.correct_answers}/{f.answers} answers right)\n"
        f"  coverage  {f.coverage:6.1%}  ({f.in_scope_answered}/{f.in_scope} answered outright,"
        f" {f.in_scope_clarified} asked 'did you mean')\n"
        f"  rejection {f.rejection:6.1%}  ({f.out_of_scope_rejected}/{f.out_of_scope} no answer,"
        f" of which {f.out_of_scope_clarified} 'did you mean')\n"
        f"  greetings {f.social_ok}/{f.social} handled; language detected {f.language_ok}/"
        f"{f.in_scope + f.out_of_scope + f.social}\n"
        f"  latency   p50 {f.p50_ms:.2f} ms  p99 {f.p99_ms:.2f} ms per question on one core"
        f" (best of 5 passes; single pass p99 {f.single_pass_p99_ms:.2f} ms)"
    )


def report_mail(name: str, figures: MailFigures) -> str:
    """The mail mode's figures of one part as a few lines."""
    f = figures
    return (
        f"{name}, mail mode (match_outright: only outright answers count)\n"
        f"  precision {f.precision:6.1%}  ({f.correct_answers}/{f.answers} answers right)\n"
        f"  coverage  {f.coverage:6.1%}  ({f.in_scope_answered}/{f.in_scope} answered outright)\n"
        f"  rejection {f.rejection:6.1%}  ({f.out_of_scope_rejected}/{f.out_of_scope} no answer)\n"
        f"  greetings {f.social_ok}/{f.social} handled; language detected {f.language_ok}/"
        f"{f.in_scope + f.out_of_scope + f.social}\n"
        f"  encoder   read {f.encoded_share:6.1%} of the questions"
        f" ({f.encoded}/{f.in_scope + f.out_of_scope})\n"
        f"  batch     {f.outright_ms:.2f} ms per question (match_many {f.many_ms:.2f} ms)"
        f" on one core, the part in one batch, best of 5 passes"
    )


def main() -> int:
    """Print the figures of both parts (and the tuning part's mistakes with --errors)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--errors", action="store_true", help="list the tuning part's mistakes")
    parser.add_argument("--part", choices=sorted(PARTS), help="only this part (default both)")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    start = time.perf_counter()
    matcher, encoder = counting_matcher()  # as FaqMatcher.load() builds it
    print(f"matcher loaded in {(time.perf_counter() - start) * 1000:.0f} ms (one core)")
    for _ in range(20):  # warm the interpreter, not the typo cache (cleared below)
        matcher.match("Quali sono i contenuti dell'Area Clienti?")
    for name, path in PARTS.items():
        if args.part and name != args.part:
            continue
        figures, mistakes = evaluate(matcher, read_part(path))
        print(report(name, figures))
        print(report_mail(name, evaluate_mail(matcher, encoder, read_part(path))))
        if args.errors and name == "tune":
            for row, match in mistakes:
                print(
                    f"    {row.label:24} -> {match.kind}:{match.faq_id} {match.score:.2f}"
                    f" {list(match.suggestions)} | {row.question}"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
