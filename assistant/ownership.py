"""Whose record is it: the ownership checks of the contracts, invoices and communications flows.

Every button and typed request names a record by id; the record is shown only when it belongs
to the logged-in customer. Anything else (another customer's record, an id that does not exist,
malformed button data) gets the same refusal, sends nothing, and is written to the audit log as
``forged_button`` with the ids only.
"""

from __future__ import annotations

import logging

from assistant.dialogs.context import Context
from store.records import Contract, Document

logger = logging.getLogger(__name__)


def customer_id(ctx: Context) -> int:
    """The logged-in customer (handlers are registered with ``login_required=True``)."""
    assert ctx.account is not None, "login_required handlers only"
    return int(ctx.account.customer_id)


def int_parts(data: str, count: int) -> list[int] | None:
    """The last ``count`` ``:``-separated fields of button data as ints, or None if malformed."""
    fields = data.split(":")[-count:]
    if len(fields) != count or not all(f.isdigit() and len(f) < 12 for f in fields):
        return None
    return [int(f) for f in fields]


async def refuse(ctx: Context, what: str, ident: object) -> None:
    """Refuse a request for a record that is not the customer's: answer, audit, send nothing."""
    ctx.say("contracts/not_available")
    await ctx.audit("forged_button", detail=f"{what} {str(ident)[:40]}")
    logger.warning("chat %s asked for %s %s, not its own", ctx.incoming.chat_id, what, ident)


async def owned_contract(ctx: Context, contract_id: int | None) -> Contract | None:
    """The contract when it is the logged-in customer's, else None (refused and audited)."""
    contract = await ctx.store.contracts.get(contract_id) if contract_id is not None else None
    if contract is None or contract.customer_id != customer_id(ctx):
        await refuse(ctx, "contract", contract_id)
        return None
    return contract


async def owned_document(
    ctx: Context, document_id: int | None, *, what: str = "document"
) -> tuple[Document, Contract] | None:
    """The published document and its contract when they are the customer's, else None."""
    document = await ctx.store.documents.get(document_id) if document_id is not None else None
    owned = await with_owned_contract(ctx, document)
    if owned is None:
        await refuse(ctx, what, document_id)
    return owned


async def with_owned_contract(
    ctx: Context, document: Document | None
) -> tuple[Document, Contract] | None:
    """The document and its contract when it is published and the customer's, else None."""
    contract = await ctx.store.contracts.get(document.contract_id) if document else None
    if document is None or contract is None or not shown_to(document, contract, customer_id(ctx)):
        return None
    return document, contract


def shown_to(document: Document, contract: Contract, customer: int) -> bool:
    """Whether ``document`` (of ``contract``) may be given to ``customer``: it is published and
    the contract is the customer's. The chat and the staff console's download both ask this."""
    return (
        document.contract_id == contract.id
        and contract.customer_id == customer
        and document.published_at is not None
    )
