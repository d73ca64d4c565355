"""The chat's rules for requests, without I/O: request or FAQ, periods, buttons, typed numbers."""

from __future__ import annotations

from datetime import date

import pytest

from assistant.requests.model import (
    CommunicationRequest,
    ContractRequest,
    DocumentRequest,
    Request,
    Understanding,
)
from assistant.requests.plan import (
    MAX_BUTTON_BYTES,
    Choice,
    button_data,
    choose,
    named_identifiers,
    periods,
    request_from_button,
)

TODAY = date(2026, 1, 15)


def test_a_confident_request_wins_and_an_unsure_one_asks_only_beside_a_faq_answer() -> None:
    sure = Understanding(DocumentRequest(latest=True))
    unsure = Understanding(DocumentRequest(month=3), confident=False)
    assert choose(None, faq_answers=True) is Choice.FAQ
    assert choose(sure, faq_answers=True) is Choice.REQUEST
    assert choose(unsure, faq_answers=True) is Choice.ASK
    assert choose(unsure, faq_answers=False) is Choice.REQUEST


def test_periods() -> None:
    assert periods(DocumentRequest(year=2024, month=12), TODAY) == [
        (date(2024, 12, 1), date(2025, 1, 1))
    ]
    assert periods(DocumentRequest(year=2023), TODAY) == [(date(2023, 1, 1), date(2024, 1, 1))]
    marches = periods(DocumentRequest(month=3), TODAY)
    assert marches[0] == (date(2025, 3, 1), date(2025, 4, 1))  # March 2026 is still to come
    assert marches[-1] == (date(2008, 3, 1), date(2008, 4, 1))
    assert periods(DocumentRequest(latest=True), TODAY) == []


@pytest.mark.parametrize(
    "request_",
    [
        DocumentRequest(),
        DocumentRequest(kind="credit_note", year=2023, whole_year=True, contract_ids=(7, 12)),
        DocumentRequest(kind="invoice", month=3, amount_cents=86750, latest=True),
        DocumentRequest(contract_not_found=True),
        ContractRequest(what="fee", contract_ids=(3,)),
        ContractRequest(what="list", status="terminated"),
        ContractRequest(what="ended", contract_not_found=True),
        CommunicationRequest(what="unread"),
    ],
)
def test_a_request_survives_its_button(request_: Request) -> None:
    data = button_data(request_)
    assert data is not None and len(data.encode()) <= MAX_BUTTON_BYTES
    assert request_from_button(data) == request_


def test_a_request_too_big_for_a_button_has_none_and_forged_data_is_no_request() -> None:
    assert button_data(DocumentRequest(contract_ids=tuple(range(100_000, 100_020)))) is None
    for data in ("rq:", "rq:d:i:2024:13:::", "rq:d:z:0:0:::", "rq:c:drop:x::", "rq:m:all",
                 "rq:d:i:2024:0::q:", "rq:c:fee:x:1.x:", "rq:d:i:x:0:::"):  # fmt: skip
        assert request_from_button(data) is None, data


def test_numbers_typed_in_a_sentence() -> None:
    assert named_identifiers("mandami la fattura 2024/000123 per favore") == [("2024", "000123")]
    assert named_identifiers("la fattura del contratto 1234567/01") == [("1234567", "01")]
    assert named_identifiers("canone del contratto n. LS0001234?") == [("LS0001234", None)]
    assert named_identifiers("la fattura 03/2024") == []  # a month, for the parser
    assert named_identifiers("quando è finito il contratto del furgone?") == []
    assert named_identifiers("la fattura da 1.234,56") == []
