"""Checks of what a customer types to identify themselves: contract, module, codice fiscale,
e-mail (the PEC rule itself is ``policy.pec_missing``). Each raises ``ValidationError(reason)``;
the reason names the template ``validation/<reason>`` that explains it to the customer.
``fiscal_code_problem`` is also the bank files' check of a fiscal code."""

from __future__ import annotations

import re

from stdnum import exceptions as stdnum_errors
from stdnum.it import codicefiscale, iva

from assistant.errors import ValidationError
from assistant.policy import pec_missing

_CONTRACT = re.compile(r"^[A-Z0-9][A-Z0-9.\-]{0,19}$")
_MODULE = re.compile(r"^[A-Z0-9]{1,10}$")
_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", text).upper()


def contract_number(text: str) -> str:
    """The contract number as stored (upper case, no spaces)."""
    value = _compact(text)
    if not _CONTRACT.match(value):
        raise ValidationError("contract_format")
    return value


def module_number(text: str) -> str:
    """The module number as stored (the part after "/" on the invoice)."""
    value = _compact(text)
    if not _MODULE.match(value):
        raise ValidationError("module_format")
    return value


def contract_and_module(text: str) -> tuple[str, str | None]:
    """``12345/01`` typed together → both; a bare contract number → (contract, None)."""
    contract, slash, module = text.partition("/")
    if slash:
        return contract_number(contract), module_number(module)
    return contract_number(contract), None


FISCAL_CODE_LENGTHS = (11, 16)  # a company's partita IVA; a codice fiscale
_STDNUM_REASONS: dict[type[stdnum_errors.ValidationError], str] = {
    stdnum_errors.InvalidLength: "wrong_length",
    stdnum_errors.InvalidFormat: "format",
    stdnum_errors.InvalidChecksum: "checksum",
    stdnum_errors.InvalidComponent: "component",
}


def fiscal_code_problem(code: str, *, person: bool = False) -> str | None:
    """Why a compact codice fiscale or partita IVA is not valid, or None when it is.

    The one check of a fiscal code, for what a customer types and for the bank's files (with
    python-stdnum): 16 characters (omocodia included) are a codice fiscale, 11 digits a
    partita IVA or a company's numeric codice fiscale; a person (``person=True``) needs the 16.
    Reasons: ``person_length``, ``length`` (neither 11 nor 16), ``format``, ``checksum``,
    ``component`` (an impossible birth date or office code), ``wrong_length``, ``invalid``.
    """
    if person and len(code) != 16:
        return "person_length"
    if len(code) not in FISCAL_CODE_LENGTHS:
        return "length"
    try:
        if len(code) == 11:
            iva.validate(code)
        else:
            codicefiscale.validate(code)
    except stdnum_errors.ValidationError as exc:
        return _STDNUM_REASONS.get(type(exc), "invalid")
    return None


def fiscal_code(text: str) -> str:
    """A codice fiscale (16 characters, omocodia included) or a company's 11 digits."""
    value = _compact(text).replace("-", "")
    problem = fiscal_code_problem(value)
    if problem == "length":
        raise ValidationError("fiscal_code_length")
    if problem == "checksum":
        raise ValidationError("fiscal_code_checksum")
    if problem is not None:
        raise ValidationError("fiscal_code_format")
    return value


def email_address(text: str) -> str:
    """A syntactically valid address; the domain lower-cased."""
    value = text.strip()
    local, at, domain = value.rpartition("@")
    domain = domain.lower().rstrip(".")
    labels = domain.split(".")
    if (
        not at
        or len(value) > 254
        or len(local) > 64
        or not _LOCAL.match(local)
        or len(labels) < 2
        or not all(_LABEL.match(label) for label in labels)
        or labels[-1].isdigit()
    ):
        raise ValidationError("email_syntax")
    return f"{local}@{domain}"


def email_for(text: str, *, company: bool, pec_domains: tuple[str, ...]) -> str:
    """The address a customer may register: a company needs a PEC (``policy.pec_missing``)."""
    address = email_address(text)
    if pec_missing(address, company=company, pec_domains=pec_domains):
        raise ValidationError("email_not_pec")
    return address


def store_contract_answer(data: dict[str, str], field: str, text: str) -> None:
    """Check one answer of the contract/module/codice-fiscale steps and keep it in ``data``.

    ``field`` is ``contract`` (a "contract/module" answer fills the module too), ``module`` or
    ``fiscal_code``; a bad answer raises ``ValidationError`` and changes nothing.
    """
    if field == "contract":
        contract, module = contract_and_module(text)
        data["contract"] = contract
        if module is not None:
            data["module"] = module
    elif field == "module":
        data["module"] = module_number(text)
    elif field == "fiscal_code":
        data["fiscal_code"] = fiscal_code(text)
    else:
        raise ValueError(f"not a contract-identifying field: {field}")
