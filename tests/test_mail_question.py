"""Finding the question in a mail body (``mailbox.inbound.question``), and ``decide``'s rule
for answering it (``faq_answer``): pure, over plain texts and the corpus, no matcher."""

from __future__ import annotations

from dataclasses import dataclass, replace

import pytest

from mailbox.inbound import asks
from mailbox.inbound.batch import PreparedMail, match_questions
from mailbox.inbound.decide import faq_answer
from mailbox.inbound.imap import FetchedMail
from mailbox.inbound.parse import parse_mail
from mailbox.inbound.question import NO_QUESTION, Question, Request, find_question
from mailbox.inbound.triage import Triage
from tests.mail.corpus import CorpusMail, read_corpus

PEOPLE = [m for m in read_corpus() if m.expected != "none"]


def requests(body: str, subject: str = "") -> list[str]:
    """The requests found in ``body``, as written."""
    return [r.text for r in find_question(body, subject).requests]


def own_text(body: str) -> str:
    """The customer's own words of ``body``."""
    return find_question(body).text


# --- the corpus: the question is found, the history is not ---------------------------------


@pytest.mark.parametrize("mail", [m for m in PEOPLE if m.asks], ids=lambda m: m.name)
def test_the_customer_s_question_is_among_the_requests(mail: CorpusMail) -> None:
    parsed = parse_mail(mail.raw)
    question = find_question(parsed.text, parsed.subject)
    assert mail.asks in " ".join(r.text for r in question.requests) + " ".join(question.context)


@pytest.mark.parametrize("mail", [m for m in PEOPLE if m.quoted], ids=lambda m: m.name)
def test_the_quoted_history_is_never_read(mail: CorpusMail) -> None:
    parsed = parse_mail(mail.raw)
    assert mail.quoted not in " ".join(find_question(parsed.text, parsed.subject).texts)


# --- quoted history ------------------------------------------------------------------------

ASK = "Come cambio l'indirizzo e-mail delle notifiche?"
HISTORY = {
    "gmail wrapped": "Il giorno lun 2 feb 2026 alle ore 09:15 Banco BPM Leasing <\n"
    "areaclienti@bancobpm.it> ha scritto:\n\n> Gentile Cliente,\n> la fattura è disponibile.",
    "gmail english": "On Mon, 2 Feb 2026 at 09:15, Area Clienti <a@b.it> wrote:\n> the password",
    "apple": "Il giorno 2 feb 2026, alle ore 08:30, Area Clienti <a@b.it> ha scritto:\n\n> x",
    "thunderbird": "Il 28/01/2026 09:12, Area Clienti ha scritto:\n> Gentile Cliente,\n> x",
    "outlook rule": "________________________________\nDa: Gatti Marco <m@b.it>\n"
    "Inviato: giovedì 15 gennaio 2026 17:40\nA: Laura Riva\nOggetto: R: password\n\nla password",
    "outlook plain": "Da: Area Clienti [mailto:a@b.it]\nInviato: martedì 3 febbraio 2026 16:02\n"
    "A: x@y.it\nOggetto: password\n\nla password",
    "outlook english": "From: Area Clienti <a@b.it>\nSent: 03 February 2026 16:02\n"
    "To: x@y.it\nSubject: password\n\nthe password",
    "original message": "-----Messaggio originale-----\nDa: Area Clienti\nla password",
    "samsung": "-------- Messaggio originale --------\nDa: Area Clienti <a@b.it>\n"
    "Data: 13/01/26 10:15 (GMT+01:00)\nA: x@y.it\nOggetto: password\n\nla password",
    "libero": "----Messaggio originale----\nDa : a@b.it\nData : 18-feb-2026 9.00\nla password",
    "forward": "---------- Forwarded message ---------\nDa: Bruno <b@c.it>\nla password",
    "apple forward": "Inizio messaggio inoltrato:\n\nDa: Bruno <b@c.it>\nla password",
}


@pytest.mark.parametrize("history", HISTORY.values(), ids=HISTORY.keys())
def test_quoted_history_of_every_client_is_cut(history: str) -> None:
    body = f"Buongiorno,\n{ASK}\nGrazie\nMario\n\n{history}\n"
    assert requests(body) == [ASK]


def test_quoted_lines_are_dropped_wherever_they_stand() -> None:
    body = "> la password non arriva\n> da giorni\nCome vedo le note di credito?\n> altro"
    assert requests(body) == ["Come vedo le note di credito?"]


def test_a_line_saying_someone_wrote_without_a_date_is_not_history() -> None:
    body = "Il funzionario mi ha scritto: serve il numero modulo.\nDove lo trovo?"
    assert "serve il numero modulo." in own_text(body)


# --- greetings, closings, signatures, disclaimers, footers ---------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "Buonasera, ieri non è arrivata la password. Come posso fare? Grazie mille\nGiuseppe",
            "ieri non è arrivata la password. Come posso fare?",
        ),
        (
            "Spett.le Banco BPM S.p.A. – Divisione Leasing,\n\nvorrei le fatture per posta.\n"
            "Vi ringrazio e porgo cordiali saluti.\nRag. Luigi Ferrari",
            "vorrei le fatture per posta.",
        ),
        (
            "Dear Sir or Madam,\nCan I get paper invoices?\nThank you in advance for your help.\n"
            "Kind regards,\nSarah",
            "Can I get paper invoices?",
        ),
        (
            "Salve vorrei il manuale, dove lo trovo? Grazie e buon lavoro, Elena Marchetti",
            "vorrei il manuale, dove lo trovo?",
        ),
        (
            "Buongiorno\nDove trovo il numero modulo?\nResto in attesa di un vostro cortese "
            "riscontro.\nDistinti saluti",
            "Dove trovo il numero modulo?",
        ),
    ],
)
def test_greetings_and_closings_go_wherever_they_stand(body: str, expected: str) -> None:
    assert own_text(body) == expected


def test_thanks_that_carry_news_are_kept() -> None:
    assert own_text("Grazie, ho controllato e l'indirizzo era sbagliato.") == (
        "Grazie, ho controllato e l'indirizzo era sbagliato."
    )


@pytest.mark.parametrize(
    "signature",
    [
        "-- \nPaolo Conti\nConti Autotrasporti s.n.c.\ntel. 0373 204455 - cell. 338 1234567",
        "Dott.ssa Chiara Valsecchi\nStudio Valsecchi & Associati\nVia Manzoni, 21 – 20121 Milano"
        "\nTel. 02 7600 1234\nP.IVA 09876540151",
        "Davide Greco\nUfficio Acquisti\nTECNOPLAST S.R.L.\nwww.tecnoplast.it",
    ],
)
def test_signatures_go_with_or_without_a_rule(signature: str) -> None:
    assert own_text(f"Come cambio la mail?\n\n{signature}") == "Come cambio la mail?"


@pytest.mark.parametrize(
    "footer",
    [
        "Le informazioni contenute in questa comunicazione sono riservate e ad uso esclusivo del "
        "destinatario. Qualora il messaggio Le fosse pervenuto per errore, La preghiamo di "
        "eliminarlo.",
        "AVVERTENZE AI SENSI DEL REGOLAMENTO UE 2016/679 (GDPR)\nIl presente messaggio contiene "
        "informazioni confidenziali. Vi preghiamo di segnalarlo al mittente.",
        "This e-mail and any attachments are confidential. If you have received this e-mail in "
        "error, please notify the sender immediately.",
        "Please consider the environment before printing this e-mail.",
        "Prima di stampare questa e-mail pensa all'ambiente.",
        "Inviato da iPhone",
        "Inviato dal mio dispositivo Galaxy",
        "Scarica Outlook per Android<https://aka.ms/ghei36>",
        "Sent from my iPhone",
    ],
)
def test_disclaimers_and_mobile_footers_go(footer: str) -> None:
    question = find_question(f"Come cambio la mail?\n\n{footer}")
    assert question.text == "Come cambio la mail?"
    assert question.staff_topic is None  # a disclaimer's "GDPR" asks nothing of us


# --- requests ------------------------------------------------------------------------------


def test_a_vague_ask_leans_on_the_problem_before_it() -> None:
    body = "Mi sono registrato ieri ma la password non è mai arrivata. Cosa devo fare?"
    assert requests(body) == [body]


def test_an_ask_pointing_back_joins_the_request_before_it() -> None:
    body = "Vorrei cambiare l'indirizzo e-mail delle notifiche. È possibile farlo da solo?"
    assert requests(body) == [body]


def test_two_asks_are_two_requests_and_context_is_kept_apart() -> None:
    question = find_question(
        "Sono titolare di una ditta. Come cambio la mail? Posso avere le fatture per posta?"
    )
    assert [r.text for r in question.requests] == [
        "Come cambio la mail?",
        "Posso avere le fatture per posta?",
    ]
    assert question.context == ("Sono titolare di una ditta.",)


def test_a_problem_told_without_asking_is_the_request() -> None:
    assert requests("Buongiorno, la password temporanea non mi è mai arrivata.\nSaluti") == [
        "la password temporanea non mi è mai arrivata."
    ]


def test_without_a_body_the_subject_is_asked() -> None:
    assert requests("", "Password non arrivata") == ["Password non arrivata"]
    assert requests("", "Re: Richiesta") == []


def test_a_request_is_judged_by_its_parts_too() -> None:
    [request] = find_question(
        "Vorremmo sapere come modificare l'indirizzo e-mail registrato nell'Area Clienti, in modo "
        "che le notifiche arrivino a nuovo@esempio.it."
    ).requests
    assert "come modificare l'indirizzo e-mail registrato nell'Area Clienti" in request.parts
    assert "come modificare l'indirizzo e-mail registrato" in request.parts
    assert not any("nuovo@esempio.it" in part for part in request.parts)


def test_each_thing_asked_in_one_sentence_is_a_clause() -> None:
    [request] = find_question(
        "Two questions: what details do I need to register, and when is each invoice published?"
    ).requests
    assert request.clauses == (
        "what details do I need to register",
        "and when is each invoice published?",
    )


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("Vi comunico il nuovo IBAN per l'addebito dei canoni.", "bank details"),
        ("Vorrei il conteggio per il riscatto anticipato.", "early payoff"),
        ("Ho avuto un incidente con l'auto in leasing.", "insurance"),
        ("Il canone ci è stato addebitato due volte.", "dispute"),
        ("Presento formale reclamo.", "complaint"),
        ("Chiedo la cancellazione dei miei dati personali.", "personal data"),
        ("La società ha cambiato ragione sociale.", "contract change"),
        ("Quante rate mancano?", "amounts due"),
        ("Mi serve la fattura del 2006.", "documents before 2008"),
        ("Potete chiamarmi domattina?", "call back"),
        ("Mi serve la fattura del 2015.", None),
        ("Vorrei assicurarmi di aver capito: le fatture online valgono?", None),
    ],
)
def test_topics_only_a_person_handles(text: str, topic: str | None) -> None:
    assert asks.staff_topic(text) == topic


# --- faq_answer: every request the same FAQ, nothing pointing elsewhere --------------------


@dataclass(frozen=True)
class Verdict:
    """A matcher verdict (the fields ``decide`` reads)."""

    kind: str
    faq_id: str | None = None
    suggestions: tuple[str, ...] = ()
    language: str = "it"


YES = Verdict("answer", "fattura-cartacea")
OTHER = Verdict("answer", "modifica-email")
MAYBE = Verdict("clarify", suggestions=("fattura-cartacea", "modifica-email"))
MAYBE_OTHER = Verdict("clarify", suggestions=("modifica-email", "fattura-cartacea"))
NO = Verdict("not_understood")
THANKS = Verdict("thanks")


def triaged(*requests: Request, context: tuple[str, ...] = (), topic: str | None = None) -> Triage:
    """A person's mail asking ``requests``."""
    return Triage(
        automatic=None, failure_report=False, too_large=False,
        question=Question("...", requests, context), needs_person=topic, language="it",
        asks_for_account_data=False, sender="a@b.it", reply_to="a@b.it",
    )  # fmt: skip


ONE = Request("posso avere le fatture per posta?")
WITH_PARTS = Request("vorrei sapere se posso avere le fatture per posta", parts=("p1", "p2"))
TWO_ASKS = Request("r", clauses=("c1", "c2"))


@pytest.mark.parametrize(
    ("question", "verdicts", "answered"),
    [
        (triaged(ONE), [YES], True),
        (triaged(ONE, ONE), [YES, YES], True),
        (triaged(ONE, ONE), [YES, OTHER], False),  # two requests, two FAQs
        (triaged(ONE, ONE), [YES, NO], False),  # a request the FAQ does not cover
        (triaged(ONE, ONE), [YES, MAYBE], True),  # "Did you mean X…?" goes along with X
        (triaged(ONE, ONE), [YES, MAYBE_OTHER], False),
        (triaged(ONE, ONE), [YES, THANKS], True),  # thanks ask nothing
        (triaged(ONE, topic="bank details"), [YES], False),
        (triaged(ONE, context=("c",)), [YES, NO], True),
        (triaged(ONE, context=("c",)), [YES, MAYBE_OTHER], True),  # context: only answers count
        (triaged(ONE, context=("c",)), [YES, OTHER], False),
        (triaged(WITH_PARTS), [NO, YES, NO], True),  # a part answered, nothing elsewhere
        (triaged(WITH_PARTS), [MAYBE, YES, MAYBE_OTHER], False),  # a part leaning elsewhere
        (triaged(WITH_PARTS), [MAYBE, YES, OTHER], False),
        (triaged(TWO_ASKS), [NO, YES, YES], True),
        (triaged(TWO_ASKS), [NO, YES, NO], False),  # each thing asked must be X
        (triaged(ONE), [Verdict("answer", "assistenza-tecnica")], False),  # "write to us"
        (triaged(), [], False),
        (triaged(ONE), [], False),  # not matched (no matcher, or it failed)
    ],
)
def test_a_mail_is_answered_only_when_everything_in_it_agrees(
    question: Triage, verdicts: list[Verdict], answered: bool
) -> None:
    assert (faq_answer(question, verdicts) is not None) is answered


def test_the_answer_is_in_the_language_of_the_question() -> None:
    english = replace(YES, language="en")
    assert faq_answer(triaged(ONE), [english]) == ("fattura-cartacea", "en")


# --- the batch: one matcher call for every mail's texts ------------------------------------


class Recorder:
    """A matcher that records its calls; "boom" breaks it."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def __call__(self, texts: list[str]) -> list[Verdict]:
        self.calls.append(texts)
        if any("boom" in t for t in texts):
            raise RuntimeError("matcher failure")
        return [YES for _ in texts]


def ready(number: int, *texts: str) -> tuple[PreparedMail, list[str]]:
    """A prepared mail asking ``texts``, with them."""
    fetched = FetchedMail(number, 1, b"", False)
    return PreparedMail(fetched, "digest"), list(texts)


def test_a_batch_is_matched_in_one_call_and_each_mail_gets_its_verdicts() -> None:
    recorder = Recorder()
    batch = [ready(1, "a", "b"), ready(2, "c")]
    match_questions(recorder, batch)
    assert recorder.calls == [["a", "b", "c"]]
    assert [len(r.faq_matches) for r, _ in batch] == [2, 1]


def test_a_mail_breaking_the_matcher_goes_to_quarantine_alone() -> None:
    recorder = Recorder()
    batch = [ready(1, "a"), ready(2, "boom"), ready(3, "c")]
    match_questions(recorder, batch)
    assert [r.error is not None for r, _ in batch] == [False, True, False]
    assert [len(r.faq_matches) for r, _ in batch] == [1, 0, 1]


def test_no_question_is_nothing_to_match() -> None:
    assert NO_QUESTION.texts == () and NO_QUESTION.split([]) == ([], [])


def test_a_long_letter_is_for_a_person() -> None:
    many = " ".join(f"Domanda numero {n} sulle fatture?" for n in range(8))
    assert find_question(many).staff_topic == "long letter"
