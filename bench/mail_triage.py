"""Support mailbox on the mail corpus: what the worker's rules do with real-looking mail.

    .venv/bin/python bench/mail_triage.py            figures for both parts and in all
    .venv/bin/python bench/mail_triage.py --errors   also each tuning mail not handled as
                                                     expected (never the held-aside part's)

The corpus is tests/mail/ (tuning part) and tests/mail/heldout/ (held aside): raw .eml files as
Outlook, iPhone, Android, Gmail, Thunderbird, webmails and PEC providers send them, each with
its expected outcome (tests/mail/corpus.py). Every mail is parsed, triaged and its requests
matched with the real FAQ matcher in one batch (``match_outright``), as the worker does, then
decided as a new mail. Figures:
  recall    FAQ-answerable mails answered automatically with their FAQ       target >= 80%
  wrong     automatic FAQ answers that are not the expected one (another FAQ,
            or where a ticket or silence is expected)                       target 0
  silence   automatic mail (PEC receipts, out-of-office, read receipts,
            newsletters, bounces) left unanswered                           target 100%
  tickets   mails for a person that got a ticket and its acknowledgement
  texts     what the matcher judged for one mail, on average (requests, their parts, context)
  ms        milliseconds a mail to parse, triage and match (the whole corpus in one batch,
            best of three)
Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))  # our mailbox/, not the standard library's

from assistant.faq import FaqMatcher  # noqa: E402
from mailbox.inbound.batch import batch_match  # noqa: E402
from tests.mail.corpus import NONE, TICKET, Outcome, read_corpus, run_corpus  # noqa: E402

RECALL_TARGET = 0.8
RUNS = 3


def figures(outcomes: Sequence[Outcome]) -> dict[str, tuple[int, int]]:
    """(hits, out of) for recall, wrong answers, silence and tickets."""
    answerable = [o for o in outcomes if o.mail.faq_answerable]
    automatic = [o for o in outcomes if o.mail.expected == NONE]
    personal = [o for o in outcomes if o.mail.expected == TICKET]
    return {
        "recall": (sum(o.right for o in answerable), len(answerable)),
        "wrong": (sum(o.wrong for o in outcomes), len(outcomes)),
        "silence": (sum(o.right for o in automatic), len(automatic)),
        "tickets": (sum(o.right for o in personal), len(personal)),
    }


def report(name: str, outcomes: Sequence[Outcome]) -> str:
    """One line of figures for a part."""
    found = figures(outcomes)
    cells = []
    for key, (hits, total) in found.items():
        share = f" ({hits / total:.0%})" if total and key != "wrong" else ""
        cells.append(f"{key} {hits}/{total}{share}")
    return f"{name:11} {len(outcomes):3} mails: " + ", ".join(cells)


def missed(found: dict[str, tuple[int, int]]) -> list[str]:
    """The targets a set of figures misses."""
    recall, answerable = found["recall"]
    silent, automatic = found["silence"]
    misses = []
    if answerable and recall / answerable < RECALL_TARGET:
        misses.append(f"recall below {RECALL_TARGET:.0%}")
    if found["wrong"][0]:
        misses.append("wrong automatic answers")
    if silent < automatic:
        misses.append("automatic mail answered")
    return misses


def explain(outcome: Outcome) -> str:
    """Why a mail was not handled as expected, in one line."""
    decision = outcome.decision
    got = decision.faq_id or decision.action.value
    return (
        f"    {outcome.mail.name:52} expected {outcome.mail.expected:22} got {got:22}"
        f" ({decision.reason}) | {' / '.join(outcome.requests)[:120]}"
    )


def main() -> int:
    """Print the figures of both parts and in all (and the tuning part's misses with --errors)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--errors", action="store_true", help="list the tuning part's misses")
    args = parser.parse_args()
    match = batch_match(FaqMatcher.load())
    mails = read_corpus()
    seconds, outcomes = float("inf"), []
    for _ in range(RUNS):
        started = time.perf_counter()
        outcomes = run_corpus(mails, match)
        seconds = min(seconds, time.perf_counter() - started)
    for part in ("tune", "held-aside"):
        print(report(part, [o for o in outcomes if o.mail.part == part]))
    print(report("all", outcomes))
    requests = sum(len(o.requests) for o in outcomes) / len(outcomes)
    judged = sum(o.judged for o in outcomes) / len(outcomes)
    print(
        f"requests {requests:.1f} a mail, texts judged {judged:.1f}"
        f" a mail, {seconds * 1000 / len(outcomes):.2f} ms a mail (parse, triage, match)"
    )
    waiting = [o.mail.name for o in outcomes if o.mail.waits_for and not o.right]
    if waiting:
        print(f"waiting for work outside the mailbox's question finder: {', '.join(waiting)}")
    if args.errors:
        for outcome in outcomes:
            if outcome.mail.part == "tune" and not outcome.right:
                print(explain(outcome))
    misses = missed(figures([o for o in outcomes if not o.mail.waits_for]))
    if misses:
        print("targets missed: " + ", ".join(misses))
    return 1 if misses else 0


if __name__ == "__main__":
    sys.exit(main())
