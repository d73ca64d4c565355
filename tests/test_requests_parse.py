"""The request parser as a customer meets it: their own words → the documents, contracts or
communications they mean, or nothing when they ask how the service works (the FAQ's business).

Pure function, no I/O: every test is text + the customer's contracts + today's date.
"""

from __future__ import annotations

from datetime import date

import pytest

from assistant.requests.model import (
    CommunicationRequest,
    ContractFacts,
    ContractRequest,
    DocumentRequest,
    Understanding,
)
from assistant.requests.parse import parse_request

TODAY = date(2025, 6, 15)
DUCATO = ContractFacts(1, "123456/001", "Fiat Ducato 2.3 MJT furgone", "active")
DAILY = ContractFacts(2, "123456/002", "Iveco Daily 35C furgone", "terminated")
FORKLIFT = ContractFacts(3, "234567/001", "Carrello elevatore Linde H30", "active")
ROSSI = (DUCATO, DAILY, FORKLIFT)
LATHE = ContractFacts(11, "345678/001", "Tornio CNC Mazak QT 250", "active")
AUDI = ContractFacts(13, "456789/001", "Audi A4 Avant 2.0 TDI", "active")
BIANCHI = (LATHE, AUDI)


def parse(
    text: str, contracts: tuple[ContractFacts, ...] = ROSSI, today: date = TODAY
) -> Understanding | None:
    """The parser's verdict for one of Rossi's messages (today 15 June 2025)."""
    return parse_request(text, contracts, today)


def document(text: str, contracts: tuple[ContractFacts, ...] = ROSSI) -> DocumentRequest:
    """The document request ``text`` makes (the test fails if it makes none)."""
    understanding = parse(text, contracts)
    assert understanding is not None, text
    assert isinstance(understanding.request, DocumentRequest), understanding
    return understanding.request


@pytest.mark.parametrize(
    "text",
    ["mandami l'ultima fattura", "ultima fatura", "Send me my latest invoice please",
     "ciao mi mandi l ultima fattura x favore", "last invoice"],
)  # fmt: skip
def test_the_last_invoice_in_italian_english_and_chat(text: str) -> None:
    assert parse(text) == Understanding(DocumentRequest(kind="invoice", latest=True))


def test_the_last_credit_note() -> None:
    assert document("ultima nota di credito") == DocumentRequest(kind="credit_note", latest=True)
    assert document("latest credit note") == DocumentRequest(kind="credit_note", latest=True)


def test_a_month_and_year_by_name_or_number() -> None:
    expected = DocumentRequest(kind="invoice", year=2021, month=2)
    assert document("la fattura di febbraio 2021") == expected
    assert document("fattura di febraio 2021") == expected  # typo
    assert document("invoice for february 2021") == expected
    assert document("fattura del 02/2021") == expected


def test_a_month_alone_leaves_the_year_to_the_most_recent_one() -> None:
    assert document("fattura di marzo") == DocumentRequest(kind="invoice", month=3)


def test_relative_periods_count_from_today() -> None:
    assert document("la fattura del mese scorso") == DocumentRequest(
        kind="invoice", year=2025, month=5
    )
    assert document("last year's invoices") == DocumentRequest(kind="invoice", year=2024)
    assert document("fatture di due anni fa") == DocumentRequest(kind="invoice", year=2023)
    january = parse("last month's invoice", today=date(2025, 1, 10))
    assert january is not None and january.request == DocumentRequest(
        kind="invoice", year=2024, month=12
    )


def test_a_year_lists_it_and_all_of_it_offers_the_whole_year() -> None:
    assert document("le fatture del 2023") == DocumentRequest(kind="invoice", year=2023)
    for text in (
        "tutte le fatture del 2024",
        "le fatture del 2024 in un file",
        "fatture 2024 per il commercialista",
        "fatture 2024 zip",
    ):
        assert document(text) == DocumentRequest(kind="invoice", year=2024, whole_year=True), text


def test_a_contract_by_label_number_or_words_of_its_description() -> None:
    assert document("fattura del contratto 123456/001").contract_ids == (1,)
    assert document("fatture del contratto 123456").contract_ids == (1, 2)  # both modules
    assert document("la fattura del Ducato").contract_ids == (1,)
    assert document("fattura del ducatto").contract_ids == (1,)  # typo
    assert document("fattura del furgone").contract_ids == (1, 2)  # several match
    assert document("invoice for the forklift").contract_ids == (3,)
    assert document("la fattura del tornio", BIANCHI).contract_ids == (11,)
    assert document("ultima fattura dell'audi", BIANCHI) == DocumentRequest(
        kind="invoice", latest=True, contract_ids=(13,)
    )


def test_another_customers_contract_number_names_no_contract() -> None:
    request = document("fattura del contratto 345678")  # Bianchi's, not Rossi's
    assert request.contract_ids == ()
    assert request.contract_not_found
    request = document("l'ultima fattura del contratto 345678/001")
    assert request.contract_ids == () and request.contract_not_found


def test_description_words_mean_nothing_without_the_customers_contracts() -> None:
    # the mailbox knows no contracts: still a document request (it points to the bot)
    assert document("la fattura del Ducato", contracts=()) == DocumentRequest(kind="invoice")


@pytest.mark.parametrize(
    ("text", "cents"),
    [("la fattura da 867,50", 86750), ("fattura di € 867.50", 86750),
     ("la fattura da 867,5 euro", 86750), ("invoice of 1.234,56 €", 123456),
     ("the invoice for €450", 45000)],
)  # fmt: skip
def test_an_amount_in_the_forms_people_write_it(text: str, cents: int) -> None:
    assert document(text).amount_cents == cents


def test_which_contracts_are_active_or_terminated() -> None:
    assert parse("quali contratti ho attivi") == Understanding(
        ContractRequest("list", status="active")
    )
    assert parse("contratti estinti") == Understanding(ContractRequest("list", status="terminated"))
    assert parse("my active leases") == Understanding(ContractRequest("list", status="active"))
    assert parse("i miei contratti") == Understanding(ContractRequest("list"))


def test_when_a_contract_started_or_ended_and_its_fee() -> None:
    assert parse("quando è iniziato il contratto del furgone") == Understanding(
        ContractRequest("started", contract_ids=(1, 2))
    )
    assert parse("quando è finito il contratto del furgone?") == Understanding(
        ContractRequest("ended", contract_ids=(1, 2))
    )
    assert parse("quanto pago di canone per il Ducato?") == Understanding(
        ContractRequest("fee", contract_ids=(1,))
    )
    assert parse("when does my lease end?") == Understanding(ContractRequest("ended"))
    assert parse("how much is my monthly payment") == Understanding(ContractRequest("fee"))


def test_the_banks_communications() -> None:
    latest = Understanding(CommunicationRequest("latest"))
    unread = Understanding(CommunicationRequest("unread"))
    assert parse("l'ultima comunicazione") == latest
    assert parse("comunicazioni non lette") == unread
    assert parse("unread messages from the bank") == unread
    assert parse("ci sono comunicazioni nuove?") == unread


@pytest.mark.parametrize(
    "text",
    ["come faccio a scaricare le fatture?", "quando escono le fatture?", "ho perso la password",
     "how do I register?", "buongiorno", "che tempo fa", "grazie mille",
     "la fattura cartacea arriva ancora?", "le fatture online sono valide fiscalmente?",
     "which contracts can I see?", "cosa vuol dire contratto estinto",
     "dove trovo il numero di contratto", "non ricevo più le comunicazioni per email",
     "il canone di leasing è deducibile?", "what is a credit note?",
     "vorrei un preventivo per un carrello elevatore"],
)  # fmt: skip
def test_faq_questions_and_small_talk_are_no_requests(text: str) -> None:
    assert parse(text) is None


def test_a_how_to_naming_a_concrete_document_is_an_unsure_request() -> None:
    understanding = parse("non capisco come scaricare la fattura di marzo")
    assert understanding == Understanding(DocumentRequest(kind="invoice", month=3), confident=False)
    unsure = parse("come faccio a scaricare l'ultima fattura?")
    assert unsure is not None and not unsure.confident


@pytest.mark.parametrize(
    "text",
    ["", "   ", "\n\t", "???", "🙂🙂", "\x00\x01\x02", "x" * 100_000, "1234567890",
     "fattura 2024/000123"],  # the typed number belongs to the typed-number handler
)  # fmt: skip
def test_empty_or_meaningless_input_is_no_request(text: str) -> None:
    assert parse(text) is None


def test_a_very_long_message_is_read_from_its_start_quickly() -> None:
    understanding = parse("mandami l'ultima fattura " + "bla " * 50_000)
    assert understanding == Understanding(DocumentRequest(kind="invoice", latest=True))


def test_only_the_customers_own_contract_ids_ever_come_out() -> None:
    lines = [
        "fattura del contratto 345678/001", "fatture 456789", "la fattura del tornio",
        "fattura dell'audi", "quanto pago per il ducato", "quando scade il contratto 123456",
        "fatture dei contratti estinti", "le fatture del furgone e del tornio",
    ]  # fmt: skip
    for contracts in (ROSSI, BIANCHI, (), (DAILY,)):
        own = {c.id for c in contracts}
        for text in lines:
            understanding = parse(text, contracts)
            if understanding is None or isinstance(understanding.request, CommunicationRequest):
                continue
            assert set(understanding.request.contract_ids) <= own, (text, contracts)


def test_the_newest_few_are_a_list_not_the_newest_one() -> None:
    assert document("le ultime fatture") == DocumentRequest(kind="invoice")
    assert document("le fatture più recenti") == DocumentRequest(kind="invoice")
    assert document("la fattura più recente") == DocumentRequest(kind="invoice", latest=True)


def test_thanks_and_commands_are_no_requests() -> None:
    assert parse("grazie per la fattura") is None
    assert parse("grazie per la comunicazione") is None
    assert parse("/fatture 2023") is None  # the command handler's


def test_invoices_of_the_terminated_contracts_are_those_contracts() -> None:
    assert document("le fatture dei contratti estinti").contract_ids == (2,)
    assert document("fatture dei contratti in corso del 2024") == DocumentRequest(
        kind="invoice", year=2024, contract_ids=(1, 3)
    )


def test_contract_numbers_as_the_bank_prints_them_any_length_and_letters() -> None:
    """Demo and real contracts are "1234567/01" or "LS-7654/A2", not only six digits."""
    van = ContractFacts(7, "1234567/01", "Fiat Ducato furgone", "active")
    lathe = ContractFacts(8, "LS-7654/A2", "Tornio CNC", "terminated")
    mine = (van, lathe)
    for text, ids in [
        ("la fattura del contratto 1234567/01", (7,)),
        ("fatture del contratto 1234567", (7,)),
        ("fattura del LS-7654/A2 di marzo 2024", (8,)),
    ]:
        found = parse_request(text, mine, TODAY)
        assert found is not None and isinstance(found.request, DocumentRequest), text
        assert found.request.contract_ids == ids, text
    other = parse_request("fatture del contratto 9999999/01", mine, TODAY)
    assert other is not None and isinstance(other.request, DocumentRequest)
    assert other.request.contract_ids == () and other.request.contract_not_found
    assert parse_request("fattura 2024/000123", mine, TODAY) is None  # a typed number: invoices.py
