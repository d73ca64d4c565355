"""What a customer asks in a mail: the body cut down to its requests (pure, no I/O).

    body ─ history ─ footers, disclaimers ─ greeting ─ sentences ─ closing, signature ─ requests

1. Quoted history goes: everything from the first attribution ("Il giorno ... ha scritto:",
   also wrapped over up to three lines as Gmail does; "On ... wrote:"), Outlook header block
   ("Da:/Inviato:/A:/Oggetto:", "From:/Sent:", with its "____" rule or without), "-----Messaggio
   originale-----" and forward separators; lines starting with ">" anywhere.
2. Mobile footers ("Inviato da iPhone", "Scarica Outlook per Android") and legal disclaimers (a
   paragraph opening like one and carrying a mark such as "riservat", "destinatario", "GDPR",
   "intended recipient", "environment") go; so does everything after a "-- " rule.
3. The opening greeting goes: a line of its own ("Spett.le Banco BPM,"), or the word before
   the first sentence ("Buonasera, ieri ...").
4. The rest is split into sentences (a line break ends one where the line is short or ends in
   punctuation: hard-wrapped paragraphs are joined). The letter ends at its first closing
   sentence ("Grazie e buon lavoro,", "Vi ringrazio e porgo cordiali saluti.", "Thanks,
   Marco"), whatever follows on its line; without one, trailing signature lines go (name,
   company, P.IVA, phone, address).
5. Requests are the sentences that ask (``asks.is_ask``); where none does, the ones telling a
   problem ("la password non è mai arrivata"); where none does either, the whole letter. An
   ask too vague to stand alone or pointing back ("Cosa devo fare?", "posso rifarla?") is
   joined to the sentence before it. Each request keeps its ``asks.core`` beside it; the
   letter's other sentences are its context.

The matcher judges every request (text and core) and every sentence of context; ``decide``
answers only when they agree (``mailbox.inbound.decide.faq_answer``). ``staff_topic`` names a
subject the FAQ never answers, found anywhere in the customer's own words.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from mailbox.inbound import asks, letter

T = TypeVar("T")
MAX_REQUESTS = 6  # requests judged at most: a mail asking more is for a person
MAX_CONTEXT = 12  # sentences of context judged at most: a longer letter is for a person
MAX_CHARS = 600  # of one request or sentence
WRAPPED_LINE_CHARS = 60  # a line this long without punctuation at its end was hard-wrapped
_SENTENCE_END = re.compile(r"(?<=[?!])\s+|(?<=[.;])\s+(?=[A-ZÀ-Ü\"«(])")
_LINE_END = re.compile(r"[.?!:;]$")
_REPLY_PREFIX = re.compile(r"^((re|r|i|fw|fwd|inoltro|aw|wg)\s*:\s*)+", re.IGNORECASE)


@dataclass(frozen=True)
class Request:
    """One thing the customer asks: as written (and its first sentence, where later ones lean
    on it), the clauses in it that ask each on their own, and more parts of it judged beside
    (``asks.clauses``, ``asks.parts``)."""

    text: str
    head: str = ""  # the first sentence, where the request has more ("" otherwise)
    clauses: tuple[str, ...] = ()  # where it asks several things: each of them
    parts: tuple[str, ...] = ()  # its core, its core without "area clienti", ...

    @property
    def wholes(self) -> tuple[str, ...]:
        """The request as written, and its head."""
        return (self.text, self.head) if self.head else (self.text,)

    @property
    def texts(self) -> tuple[str, ...]:
        """What the matcher judges of it: its wholes, its clauses, its parts."""
        return (*self.wholes, *self.clauses, *self.parts)


@dataclass(frozen=True)
class Question:
    """What the customer asks, read from a mail body (plain data: it crosses processes)."""

    text: str  # the customer's own words: no greeting, closing, signature, footer, history
    requests: tuple[Request, ...]  # what they ask, in order
    context: tuple[str, ...] = ()  # the letter's other sentences, judged too
    staff_topic: str | None = None  # a subject only a person handles, or None

    @property
    def texts(self) -> tuple[str, ...]:
        """What the FAQ matcher judges: each request's texts, then the context."""
        return tuple(t for r in self.requests for t in r.texts) + self.context

    def split(self, verdicts: Sequence[T]) -> tuple[list[list[T]], list[T]]:
        """``verdicts`` on ``texts`` grouped back: one list per request, then the context's."""
        start, per_request = 0, []
        for request in self.requests:
            per_request.append(list(verdicts[start : start + len(request.texts)]))
            start += len(request.texts)
        return per_request, list(verdicts[start:])


NO_QUESTION = Question(text="", requests=())


def find_question(body: str, subject: str = "") -> Question:
    """The customer's own words of ``body`` and the requests in them (``subject`` where the
    body asks nothing)."""
    sentences = letter_sentences(own_lines(body))
    text = " ".join(sentences)
    chosen = {i for i, s in enumerate(sentences) if asks.is_ask(s)} or {
        i for i, s in enumerate(sentences) if asks.is_problem(s)
    }
    written, used = _grouped(sentences, chosen)
    if not written and text:
        written, used = [(text, sentences[0])], set(range(len(sentences)))
    if not written and _meaningful(subject):
        written = [(subject, subject)]
    context = [s for i, s in enumerate(sentences) if i not in used and not asks.thanks(s)]
    long_letter = len(written) > MAX_REQUESTS or len(context) > MAX_CONTEXT
    return Question(
        text=text,
        requests=tuple(_request(*w) for w in written[:MAX_REQUESTS]),
        context=tuple(context[:MAX_CONTEXT]),
        staff_topic="long letter" if long_letter else asks.staff_topic(f"{subject}\n{text}"),
    )


def _request(written: str, head: str) -> Request:
    text, head = written[:MAX_CHARS].strip(), head[:MAX_CHARS].strip()
    head = head if head != text else ""
    return Request(text, head, asks.clauses(text), asks.parts(text, head or text))


# --- 1-3: the customer's own lines ---------------------------------------------------------


def own_lines(body: str) -> list[str]:
    """The body's lines without quoted history, footers, disclaimers and the greeting."""
    lines = [_clean(line) for line in body.split("\n")]
    lines = lines[: history_start(lines)]
    lines = [line for line in lines if not line.startswith(">")]
    return _without_greeting(_without_footers_and_disclaimers(lines))


def history_start(lines: Sequence[str]) -> int:
    """The index of the first line of quoted history (``len(lines)`` when there is none)."""
    for index, line in enumerate(lines):
        if not line:
            continue
        if letter.SEPARATOR.match(line) or letter.RULE.match(line):
            return index
        following = lines[index + 1 : index + letter.HEADER_SPAN]
        if letter.HEADER_FROM.match(line) and any(letter.HEADER_FIELD.match(f) for f in following):
            return index
        if letter.ATTRIBUTION_START.match(line):
            for size in range(1, letter.ATTRIBUTION_LINES + 1):
                joined = " ".join(lines[index : index + size])
                if letter.ATTRIBUTION_END.search(joined) and re.search(r"\d", joined):
                    return index
    return len(lines)


def _without_footers_and_disclaimers(lines: list[str]) -> list[str]:
    """Lines up to a "-- " signature rule, without mobile footers and disclaimer paragraphs."""
    kept: list[str] = []
    skipping = False  # inside a disclaimer paragraph
    for index, line in enumerate(lines):
        if letter.SIGNATURE_RULE.match(line):
            break
        if not line:
            skipping = False
        elif skipping or letter.MOBILE_FOOTER.fullmatch(line):
            continue
        elif letter.DISCLAIMER_START.match(line) and letter.DISCLAIMER_MARK.search(
            " ".join(_paragraph(lines, index))
        ):
            skipping = True
            continue
        kept.append(line)
    return kept


def _paragraph(lines: list[str], start: int) -> list[str]:
    """The lines from ``start`` to the next blank one (at most ``DISCLAIMER_SPAN``)."""
    found = []
    for line in lines[start : start + letter.DISCLAIMER_SPAN]:
        if not line:
            break
        found.append(line)
    return found


def _without_greeting(lines: list[str]) -> list[str]:
    """The lines without the opening greeting: a line of its own, or the first sentence's
    first word."""
    lines = list(lines)
    for _ in range(3):
        first = next((i for i, line in enumerate(lines) if line), None)
        if first is None:
            return lines
        line = lines[first]
        word = letter.GREETING_WORD.match(line)
        if word is not None:
            rest = line[word.end() :]
            if not _name_only(rest):
                lines[first] = rest
                return lines
        elif not (
            letter.GREETING.match(line)
            and len(line.split()) <= letter.GREETING_LINE_WORDS
            and "?" not in line
            and (line[-1] in ",:;" or not re.search(r"[.!]\s", line))
        ):
            return lines
        lines[first] = ""
    return lines


def _name_only(text: str) -> bool:
    """Nothing, or a short name or title ("Sig.ra Rossi,", "Marco!", "a tutti")."""
    words = re.findall(r"[\w.']+", text)
    return len(words) <= 4 and all(
        w[:1].isupper() or letter.plain(w) in ("a", "tutti", "all", "there", "team", "everyone")
        for w in words
    )


# --- 4: sentences, closing, signature ------------------------------------------------------


def letter_sentences(lines: Sequence[str]) -> list[str]:
    """The letter's sentences, up to its closing, without a trailing signature."""
    sentences: list[str] = []
    for chunk in _chunks(lines):
        for sentence in _SENTENCE_END.split(chunk):
            if sentence.strip():
                sentences.append(sentence.strip()[:MAX_CHARS])
    closing = [letter.is_closing(s) for s in sentences]
    end = next((i for i, c in enumerate(closing) if c and not all(closing[:i])), len(closing))
    sentences = [s for s, c in zip(sentences[:end], closing, strict=False) if not c]
    while sentences and _signature_like(sentences[-1]):
        sentences.pop()
    return _introductions_joined(sentences)


def _chunks(lines: Sequence[str]) -> list[str]:
    """Lines joined where a paragraph was hard-wrapped; otherwise a line break ends a chunk."""
    chunks: list[str] = []
    current = ""
    for line in lines:
        if not line:
            if current:
                chunks.append(current)
            current = ""
            continue
        current = f"{current} {line}" if current else line
        if len(line) < WRAPPED_LINE_CHARS or _LINE_END.search(line):
            chunks.append(current)
            current = ""
    if current:
        chunks.append(current)
    return chunks


def _introductions_joined(sentences: list[str]) -> list[str]:
    """A sentence ending in ":" joined to the one it introduces."""
    joined: list[str] = []
    for sentence in sentences:
        if joined and joined[-1].endswith(":"):
            joined[-1] = f"{joined[-1]} {sentence}"
        else:
            joined.append(sentence)
    return joined


def _signature_like(sentence: str) -> bool:
    if len(sentence) >= letter.SIGNATURE_CHARS or "?" in sentence:
        return False
    if letter.SIGNATURE_LINE.search(sentence.lower()):
        return True
    words = sentence.replace(",", " ").split()
    return 0 < len(words) <= 4 and all(w[:1].isupper() or not w[:1].isalpha() for w in words)


# --- 5: requests ---------------------------------------------------------------------------


def _grouped(sentences: list[str], chosen: set[int]) -> tuple[list[tuple[str, str]], set[int]]:
    """The chosen sentences as requests, in order, each with its first sentence, and the
    indices they use. One leaning back (``asks.leans_back``) joins the request before it, or
    else the sentences from the nearest problem told just before it (two back at most),
    else the sentence before it."""
    requests: list[list[str]] = []
    used: set[int] = set()
    for index in sorted(chosen):
        sentence = sentences[index]
        if index == 0 or not asks.leans_back(sentence):
            requests.append([sentence])
        elif index - 1 in chosen and requests:
            requests[-1].append(sentence)
        else:
            start = next(
                (i for i in (index - 1, index - 2) if i >= 0 and asks.is_problem(sentences[i])),
                index - 1,
            )
            requests.append([*sentences[start:index], sentence])
            used.update(range(start, index))
        used.add(index)
    return [(" ".join(parts), parts[0]) for parts in requests], used


def _meaningful(subject: str) -> bool:
    """Whether a subject names something beyond "Re:", "Richiesta", "Domanda"."""
    words = re.findall(r"[a-z]+", letter.plain(_REPLY_PREFIX.sub("", subject)))
    return any(word not in asks.VAGUE for word in words)


def _clean(line: str) -> str:
    """One line with non-breaking and zero-width spaces made plain, its ends stripped."""
    return " ".join(line.replace("\u200b", "").replace("\ufeff", "").split())


__all__ = [
    "MAX_REQUESTS",
    "NO_QUESTION",
    "Question",
    "Request",
    "find_question",
    "history_start",
    "letter_sentences",
    "own_lines",
]
