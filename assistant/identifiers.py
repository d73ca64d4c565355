"""Checks of what a customer types to identify themselves: contract, module, codice fiscale,
e-mail, and the PEC rule for companies. Each raises ``ValidationError(reason)``; the reason
names the template ``validation/<reason>`` that explains it to the customer."""

from __future__ import annotations

import re

from stdnum import exceptions as stdnum_errors
from stdnum.it import codicefiscale

from assistant.errors import ValidationError

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


def fiscal_code(text: str) -> str:
    """A codice fiscale (16 characters, omocodia included) or a company's 11 digits."""
    value = _compact(text).replace("-", "")
    if len(value) not in (11, 16):
        raise ValidationError("fiscal_code_length")
    try:
        return str(codicefiscale.validate(value))
    except stdnum_errors.InvalidChecksum:
        raise ValidationError("fiscal_code_checksum") from None
    except stdnum_errors.ValidationError:
        raise ValidationError("fiscal_code_format") from None


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


def is_pec(address: str, pec_domains: tuple[str, ...]) -> bool:
    """A PEC address: its domain is (a sub-domain of) a configured PEC provider's domain, or
    its first label is ``pec`` (``pec.company.it``, the usual own-domain PEC)."""
    domain = address.rpartition("@")[2].lower()
    if domain.split(".")[0] == "pec" and domain.count(".") >= 2:
        return True
    return any(domain == d or domain.endswith(f".{d}") for d in pec_domains)


def email_for(kind: str, text: str, pec_domains: tuple[str, ...]) -> str:
    """The address a customer of ``kind`` may register: companies need a PEC."""
    address = email_address(text)
    if kind == "company" and not is_pec(address, pec_domains):
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
