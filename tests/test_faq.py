"""The FAQ as a customer meets it: questions in their own words, and the replies they read."""

from __future__ import annotations

import re

import pytest

from assistant.errors import NotFound
from assistant.faq import (
    FAQ_IDS,
    FaqMatch,
    FaqMatcher,
    faq_answer,
    faq_reply,
    faq_title,
)
from assistant.settings import Settings
from assistant.texts import Texts


@pytest.fixture(scope="module")
def matcher() -> FaqMatcher:
    """The process's matcher (built once)."""
    return FaqMatcher.load()


@pytest.fixture
def texts(settings: Settings) -> Texts:
    """The project's templates."""
    return Texts(settings.templates_dir)


def test_the_thirteen_ids_in_the_guides_order() -> None:
    assert FAQ_IDS == (
        "contenuti-area-clienti",
        "fatture-visualizzabili",
        "disponibilita-fatture",
        "fattura-cartacea",
        "validita-fiscale",
        "contratti-visualizzati",
        "dati-registrazione",
        "modifica-email",
        "password-non-ricevuta",
        "credenziali-smarrite",
        "assistenza-tecnica",
        "informazioni-contenuti",
        "guida-operativa",
    )


@pytest.mark.parametrize(
    ("question", "faq_id"),
    [
        # paraphrases and indirect phrasing
        ("Dove trovo il numero di modulo?", "dati-registrazione"),
        ("cosa vuol dire contratto estinto", "contratti-visualizzati"),
        ("posso vedere le note di credito del 2015?", "fatture-visualizzabili"),
        ("perche non mi arriva piu la fattura a casa", "fattura-cartacea"),
        ("come si registra una societa", "dati-registrazione"),
        # informal Italian, no accents, typos
        ("mi sono scordata la pasword", "credenziali-smarrite"),
        ("nn riesco + a entrare ho sbagliato la pw 3 volte", "credenziali-smarrite"),
        ("la fattura e valida x il commercialista?", "validita-fiscale"),
        ("ciao, ho dimenticato la password", "credenziali-smarrite"),
        # English
        ("I can't remember my username", "credenziali-smarrite"),
        ("Where do I find the user guide?", "guida-operativa"),
        ("how do I change my email", "modifica-email"),
    ],
)
def test_questions_in_the_customers_words_get_their_answer(
    matcher: FaqMatcher, question: str, faq_id: str
) -> None:
    match = matcher.match(question)
    assert (match.kind, match.faq_id) == ("answer", faq_id)
    assert 0.0 < match.score <= 1.0


@pytest.mark.parametrize(
    "question",
    [
        "quanto devo pagare questo mese?",
        "vorrei estinguere il leasing in anticipo",
        "posso avere un mutuo?",
        "voglio il riscatto dell'auto",
        "quando scade la mia rata?",
        "how much do I owe",
        "the weather in Milan",
        "sdfkjh qwe",
        "???",
        "12345",
        "come faccio?",
        "",
    ],
)
def test_other_topics_and_gibberish_get_no_faq_answer(matcher: FaqMatcher, question: str) -> None:
    match = matcher.match(question)
    assert match.kind == "not_understood"
    assert match.faq_id is None
    assert len(match.suggestions) <= 3


@pytest.mark.parametrize(
    ("message", "kind", "language"),
    [
        ("ciao", "greeting", "it"),
        ("Buongiorno!", "greeting", "it"),
        ("hello", "greeting", "en"),
        ("grazie mille!!", "thanks", "it"),
        ("thank you so much", "thanks", "en"),
    ],
)
def test_greetings_and_thanks_get_a_friendly_reply_not_a_faq(
    matcher: FaqMatcher, texts: Texts, settings: Settings, message: str, kind: str, language: str
) -> None:
    match = matcher.match(message)
    assert (match.kind, match.faq_id, match.language) == (kind, None, language)
    reply = faq_reply(texts, settings, match)
    assert reply.choices == ()
    assert reply.text


def test_an_ambiguous_question_offers_the_likely_questions(
    matcher: FaqMatcher, texts: Texts, settings: Settings
) -> None:
    match = matcher.match("problema con la password")
    assert match.kind == "clarify"
    assert {"credenziali-smarrite", "password-non-ricevuta"} <= set(match.suggestions)
    reply = faq_reply(texts, settings, match)
    assert "Intendevi" in reply.text
    assert [faq_id for faq_id, _ in reply.choices] == list(match.suggestions)
    assert ("credenziali-smarrite", "Credenziali perse o login bloccata") in reply.choices


def test_the_answer_comes_in_the_questions_language_unless_forced(
    matcher: FaqMatcher, texts: Texts, settings: Settings
) -> None:
    english = matcher.match("I forgot my password")
    assert english.language == "en"
    assert "/recover" in faq_reply(texts, settings, english).text
    italian = matcher.match("ho dimenticato la password")
    assert "/recupero" in faq_reply(texts, settings, italian).text
    assert "/recover" in faq_reply(texts, settings, italian, lang="en").text


def test_not_understood_shows_the_way_to_a_human(texts: Texts, settings: Settings) -> None:
    match = FaqMatch("not_understood", None, 0.4, ("dati-registrazione",), "it")
    reply = faq_reply(texts, settings, match)
    assert "non ho capito" in reply.text
    assert "/assistenza" in reply.text
    assert settings.support_address in reply.text
    assert reply.choices == (("dati-registrazione", "Cosa serve per registrarsi"),)
    english = faq_reply(texts, settings, FaqMatch("not_understood", None, 0.1, (), "en"))
    assert "/support" in english.text
    assert english.choices == ()


def test_answers_use_the_settings_not_literal_values(texts: Texts) -> None:
    custom = Settings.from_environ(
        {
            "SUPPORT_ADDRESS": "aiuto@leasing.example",
            "REGISTRATION_RETRY_MINUTES": "45",
            "MAX_LOGIN_ATTEMPTS": "5",
        }
    )
    assert "aiuto@leasing.example" in faq_answer(texts, custom, "assistenza-tecnica", "it")
    assert "45 minuti" in faq_answer(texts, custom, "password-non-ricevuta", "it")
    assert "45 minutes" in faq_answer(texts, custom, "password-non-ricevuta", "en")
    assert "5 tentativi" in faq_answer(texts, custom, "credenziali-smarrite", "it")


@pytest.mark.parametrize("lang", ["it", "en"])
def test_every_answer_is_plain_text_fit_for_chat_and_email(
    texts: Texts, settings: Settings, lang: str
) -> None:
    for faq_id in FAQ_IDS:
        answer = faq_answer(texts, settings, faq_id, lang)
        assert len(answer) > 80, faq_id
        assert not re.search(r"\*\*|__|`|<[a-z/]|\]\(", answer), faq_id
        title = faq_title(texts, faq_id, lang)
        assert 0 < len(title) <= 40, faq_id


def test_italian_answers_keep_the_guides_terms_and_speak_of_commands(
    texts: Texts, settings: Settings
) -> None:
    def answer(faq_id: str) -> str:
        return faq_answer(texts, settings, faq_id, "it")

    assert "a reddito" in answer("contratti-visualizzati")
    assert "estinti" in answer("contratti-visualizzati")
    assert "PEC" in answer("dati-registrazione")
    assert "/registrazione" in answer("dati-registrazione")
    assert "dal 2008" in answer("fatture-visualizzabili")
    assert "/profilo" in answer("fattura-cartacea")
    assert "/profilo" in answer("modifica-email")
    assert "/recupero" in answer("credenziali-smarrite")
    assert "/guida" in answer("guida-operativa")
    assert "Filiale Asset Italease" in answer("informazioni-contenuti")
    assert "stampa" in answer("validita-fiscale")


def test_an_unknown_id_is_not_found(texts: Texts, settings: Settings) -> None:
    with pytest.raises(NotFound):
        faq_answer(texts, settings, "mutui", "it")
    with pytest.raises(NotFound):
        faq_title(texts, "../etc", "it")
