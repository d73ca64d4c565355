"""The guide's rules as pure functions: no store, no clock, no settings object."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from assistant import identifiers, policy
from assistant.errors import ValidationError
from bankfiles.rows import fiscal_code_problem as bank_file_problem

NOW = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)
PEC_DOMAINS = ("legalmail.it", "pec.it")


@pytest.mark.parametrize(("failed", "blocked"), [(1, False), (2, False), (3, True), (4, True)])
def test_the_third_wrong_password_blocks_the_login(failed: int, blocked: bool) -> None:
    assert policy.login_blocked(failed, max_attempts=3) is blocked


def test_the_attempts_are_a_setting() -> None:
    assert not policy.login_blocked(3, max_attempts=5)
    assert policy.login_blocked(1, max_attempts=1)


def test_a_temporary_password_works_until_its_hours_are_over() -> None:
    expires = policy.temporary_password_expires_at(NOW, 72)
    assert expires == NOW + timedelta(hours=72)
    assert not policy.temporary_password_expired(expires, NOW + timedelta(hours=71, minutes=59))
    assert policy.temporary_password_expired(expires, expires)
    assert policy.temporary_password_expired(None, NOW)  # no expiry recorded: not usable


def test_registering_again_waits_sixty_minutes() -> None:
    registered = NOW
    assert policy.registration_wait_until(registered, NOW + timedelta(minutes=59), 60) == (
        NOW + timedelta(minutes=60)
    )
    assert policy.registration_wait_until(registered, NOW + timedelta(minutes=60), 60) is None
    assert policy.registration_wait_until(registered, NOW, 0) is None


def test_a_company_is_known_by_its_kind_or_guessed_from_eleven_digits() -> None:
    assert policy.is_company("company") and not policy.is_company("person")
    assert policy.is_company("company", "RSSMRA85T10A562S")  # a sole proprietorship: the kind
    assert policy.is_company(None, "00743110157")
    assert not policy.is_company(None, "RSSMRA85T10A562S")
    assert not policy.is_company(None, "")


@pytest.mark.parametrize(
    ("address", "pec"),
    [
        ("amministrazione@legalmail.it", True),
        ("ufficio@studio.pec.it", True),  # a sub-domain of a provider
        ("ufficio@pec.azienda.it", True),  # the usual own-domain PEC
        ("info@pec.it", True),
        ("info@azienda.it", False),
        ("nome@gmail.com", False),
        ("nome@example.pec.com", False),
    ],
)
def test_what_counts_as_a_pec_address(address: str, pec: bool) -> None:
    assert policy.is_pec(address, PEC_DOMAINS) is pec


def test_only_a_company_needs_a_pec() -> None:
    assert policy.pec_missing("info@azienda.it", company=True, pec_domains=PEC_DOMAINS)
    assert not policy.pec_missing("info@azienda.it", company=False, pec_domains=PEC_DOMAINS)
    assert not policy.pec_missing("a@legalmail.it", company=True, pec_domains=PEC_DOMAINS)
    with pytest.raises(ValidationError) as refused:
        identifiers.email_for("info@azienda.it", company=True, pec_domains=PEC_DOMAINS)
    assert refused.value.reason == "email_not_pec"


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("corta1", "password_too_short"),
        ("soloLettereQui", "password_letters_digits"),
        ("1234567890", "password_letters_digits"),
        ("ac12345678x9", "password_contains_username"),
        ("Girasole2026", None),
    ],
)
def test_password_strength(password: str, problem: str | None) -> None:
    assert policy.password_problem(password, "ac12345678") == problem


def test_rate_limits_and_their_keys() -> None:
    login, registration = policy.LOGIN_PER_CHAT, policy.REGISTRATION_PER_CHAT
    assert (login.limit, login.window) == (10, timedelta(minutes=15))
    assert (registration.limit, registration.window) == (5, timedelta(hours=1))
    assert policy.RECOVERY_PER_CHAT.limit == 5 and policy.RECOVERY_PER_CUSTOMER.limit == 3
    assert policy.rate_key("login", "chat", "telegram", 42) == "login:chat:telegram:42"
    assert policy.rate_key("recovery", "customer", 7) == "recovery:customer:7"


def test_invoices_from_2008() -> None:
    assert policy.FIRST_INVOICE_YEAR == 2008


@pytest.mark.parametrize(
    ("code", "reason", "chat", "bank_file"),
    [
        ("RSSMRA85T10A562S", None, None, None),
        ("00743110157", None, None, None),
        ("1234567890", "length", "fiscal_code_length", "a company's number has 11 digits"),
        ("RSSMRA85T10A562X", "checksum", "fiscal_code_checksum", "wrong check character"),
        ("00743110158", "checksum", "fiscal_code_checksum", "wrong check character"),
        ("12345678903", "component", "fiscal_code_format", "impossible birth date or office"),
        ("RSSMRA85T1OA562S", "format", "fiscal_code_format", "wrong format"),
    ],
)
def test_one_fiscal_code_check_for_the_chat_and_the_bank_files(
    code: str, reason: str | None, chat: str | None, bank_file: str | None
) -> None:
    assert identifiers.fiscal_code_problem(code) == reason
    if chat is None:
        assert identifiers.fiscal_code(code) == code
    else:
        with pytest.raises(ValidationError) as refused:
            identifiers.fiscal_code(code)
        assert refused.value.reason == chat
    problem = bank_file_problem("company", code)
    assert problem is None if bank_file is None else bank_file in problem


def test_a_person_needs_sixteen_characters() -> None:
    assert identifiers.fiscal_code_problem("00743110157", person=True) == "person_length"
    assert bank_file_problem("person", "00743110157") == (
        "a person's codice fiscale has 16 characters"
    )
