"""/recupero: contract, module, codice fiscale → new temporary password and username by e-mail.

The answer is the same whether or not the data matched a registered customer, and so is its
time (the new password is hashed and one transaction written in every case), so the dialog
cannot be used to find out who is registered. Attempts are limited per chat and per customer.
"""

from __future__ import annotations

import enum
import logging
from datetime import datetime

from assistant import credentials, identifiers, policy
from assistant.account_mail import queue_mail
from assistant.dialogs.conversation import Context, Flow, command, flow
from assistant.errors import ValidationError
from assistant.texts import Texts
from store.accounts import Account
from store.store import Store

logger = logging.getLogger(__name__)


class Step(enum.Enum):
    CONTRACT = "contract"  # waiting for the contract number (or "contract/module")
    MODULE = "module"  # waiting for the module number
    FISCAL_CODE = "fiscal_code"  # waiting for the codice fiscale / partita IVA


@flow
class Recovery(Flow[Step]):
    name = "rec"
    State = Step
    title = "recovery"

    async def begin(self, ctx: Context) -> None:
        """Explain, then ask the contract number."""
        ctx.say("recovery/intro")
        ctx.goto(Step.CONTRACT)
        await self.ask(ctx, Step.CONTRACT)

    async def ask(self, ctx: Context, state: Step) -> None:
        """The question of each step (the registration's wording)."""
        ctx.say(f"registration/ask_{state.value}")

    async def on_input(self, ctx: Context, state: Step) -> None:
        """One answer."""
        if ctx.incoming.kind != "text":
            ctx.say("errors/stale_button")
            await self.ask(ctx, state)
            return
        try:
            identifiers.store_contract_answer(ctx.data, state.value, ctx.text)
        except ValidationError as error:
            ctx.say(f"validation/{error.reason}")
            await self.ask(ctx, state)
            return
        if "module" not in ctx.data:
            ctx.goto(Step.MODULE)
            await self.ask(ctx, Step.MODULE)
        elif "fiscal_code" not in ctx.data:
            ctx.goto(Step.FISCAL_CODE)
            await self.ask(ctx, Step.FISCAL_CODE)
        else:
            await self._recover(ctx)

    async def _recover(self, ctx: Context) -> None:
        store, now = ctx.store, ctx.now
        contract, module, fiscal_code = (
            ctx.data["contract"],
            ctx.data["module"],
            ctx.data["fiscal_code"],
        )
        ctx.end_flow()
        chat_key = policy.rate_key("recovery", "chat", ctx.incoming.channel, ctx.incoming.chat_id)
        per_chat, per_customer = policy.RECOVERY_PER_CHAT, policy.RECOVERY_PER_CUSTOMER
        if not await store.attempts.allow(
            chat_key, limit=per_chat.limit, window=per_chat.window, now=now
        ):
            await ctx.audit("recovery_rate_limited", detail="chat")
            ctx.say("recovery/too_many")
            return
        # The expensive step runs whether or not the data match, and the store work has the same
        # shape (one transaction): the answer's time must not tell a registered customer.
        password = credentials.new_temporary_password()
        password_hash = await credentials.hash_password(password)
        queued = False
        async with store.db.transaction():
            found = await store.customers.find_by_identifiers(contract, module, fiscal_code)
            account = await store.accounts.by_customer(found[0].id) if found else None
            if account is None:
                await ctx.audit("recovery_no_match")
            elif not await store.attempts.allow(
                policy.rate_key("recovery", "customer", account.customer_id),
                limit=per_customer.limit,
                window=per_customer.window,
                now=now,
            ):
                await ctx.audit("recovery_rate_limited", account=account, detail="customer")
            else:
                await self._reset(ctx, account, password, password_hash)
                queued = True
            await ctx.save()
        if queued:
            ctx.assistant.mail_queued()
        ctx.say("recovery/done", buttons=[[ctx.button("login", "cmd:accedi")]])

    async def _reset(
        self, ctx: Context, account: Account, password: str, password_hash: str
    ) -> None:
        """New temporary password, block lifted, every session ended, the e-mail queued."""
        if ctx.account is not None and ctx.account.id == account.id:
            await ctx.logout("session_ended")  # every session ends, this one too
        await reset_credentials(
            ctx.store,
            ctx.assistant.texts,
            account,
            password=password,
            password_hash=password_hash,
            hours=ctx.settings.temp_password_hours,
            lang=ctx.lang,
            now=ctx.now,
        )
        await ctx.audit("recovery", account=account, detail="block lifted")


async def reset_credentials(
    store: Store,
    texts: Texts,
    account: Account,
    *,
    password: str,
    password_hash: str,
    hours: int,
    lang: str,
    now: datetime,
) -> None:
    """The recovery itself, for the chat and for staff (the console's "send the recovery
    e-mail"): a new temporary password valid ``hours``, the block lifted, every session ended,
    the username and password queued to the registered address. Call it inside a transaction;
    ``password`` exists nowhere else than in that e-mail."""
    await store.accounts.reset_password(
        account.id, password_hash, policy.temporary_password_expires_at(now, hours), now
    )
    await store.chats.end_sessions(account.id, now)
    await queue_mail(
        store,
        texts,
        kind="temp_password",
        template="credentials",
        lang=account.language or lang,
        recipient=account.email,
        now=now,
        username=account.username,
        password=password,
        hours=hours,
        reason="recovery",
    )


@command("recupero")
async def recover(ctx: Context) -> None:
    """Start the recovery of username and password."""
    await ctx.start_flow("rec")
