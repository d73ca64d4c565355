"""The one definition of each identifier: contract and module numbers, codice fiscale, e-mail,
customer codes and document numbers. The chat checks what a customer types with the functions
that raise ``ValidationError(reason)`` (the reason names the template ``validation/<reason>``
that explains it to the customer; the PEC rule itself is ``policy.pec_missing``); the bank's
files are checked against the same patterns (``CONTRACT_PATTERN``, ``MODULE_PATTERN``,
``CODE_PATTERN`` and ``fiscal_code_problem``; ``bankfiles.fast`` builds its pattern from them),
so the bank can never load an identifier a customer could not type, and ``hidden_character``
refuses control and invisible characters (``T1`` and ``T1`` + U+200B are not two customers).
"""

from __future__ import annotations

import re
import unicodedata

from stdnum import exceptions as stdnum_errors
from stdnum.it import codicefiscale, iva

from assistant.errors import ValidationError
from assistant.policy import pec_missing

# The shapes of the compact, upper-case forms (whitespace removed), without anchors.
CONTRACT_PATTERN = r"[A-Z0-9][A-Z0-9.\-]{0,19}"  # as printed on the invoice, before the "/"
MODULE_PATTERN = r"[A-Z0-9]{1,10}"  # the part after the "/"
CODE_PATTERN = r"[A-Z0-9][A-Z0-9./_\-]{0,39}"  # a customer code, a document number (the bank's)
HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})  # control, invisible

_CONTRACT = re.compile(CONTRACT_PATTERN)
_MODULE = re.compile(MODULE_PATTERN)
_CODE = re.compile(CODE_PATTERN)
_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", text).upper()


def hidden_character(text: str) -> str | None:
    """The first control or invisible character of ``text`` (a zero-width space, a byte-order
    mark, a bidirectional override, a line separator...), or None."""
    if text.isascii() and text.isprintable():
        return None
    return next((c for c in text if unicodedata.category(c) in HIDDEN_CATEGORIES), None)


def is_contract_number(value: str) -> bool:
    """Whether a compact value is a contract number."""
    return _CONTRACT.fullmatch(value) is not None


def is_module_number(value: str) -> bool:
    """Whether a compact value is a module number."""
    return _MODULE.fullmatch(value) is not None


def is_code(value: str) -> bool:
    """Whether a compact value is a customer code or a document number."""
    return _CODE.fullmatch(value) is not None


def contract_number(text: str) -> str:
    """The contract number as stored (upper case, no spaces)."""
    value = _compact(text)
    if not is_contract_number(value):
        raise ValidationError("contract_format")
    return value


def module_number(text: str) -> str:
    """The module number as stored (the part after "/" on the invoice)."""
    value = _compact(text)
    if not is_module_number(value):
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
