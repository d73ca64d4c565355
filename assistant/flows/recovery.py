"""/recupero: contract, module, codice fiscale → new temporary password and username by e-mail.

The answer is the same whether or not the data matched a registered customer, so the dialog
cannot be used to find out who is registered. Attempts are limited per chat and per customer.
"""

from __future__ import annotations

import enum
import logging
from datetime import timedelta

from assistant import credentials, identifiers
from assistant.account_mail import queue_mail
from assistant.dialogs.conversation import Context, Flow, command, flow
from assistant.errors import ValidationError

logger = logging.getLogger(__name__)

CHAT_LIMIT = 5  # recovery requests per chat ...
CUSTOMER_LIMIT = 3  # ... and per customer ...
WINDOW = timedelta(hours=1)  # ... in this window


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
        chat_key = f"recovery:chat:{ctx.incoming.channel}:{ctx.incoming.chat_id}"
        if not await store.attempts.allow(chat_key, limit=CHAT_LIMIT, window=WINDOW, now=now):
            await ctx.audit("recovery_rate_limited", detail="chat")
            ctx.say("recovery/too_many")
            return
        found = await store.customers.find_by_identifiers(contract, module, fiscal_code)
        account = await store.accounts.by_customer(found[0].id) if found else None
        if account is None:
            await ctx.audit("recovery_no_match")
        elif not await store.attempts.allow(
            f"recovery:customer:{account.customer_id}", limit=CUSTOMER_LIMIT, window=WINDOW, now=now
        ):
            await ctx.audit("recovery_rate_limited", account=account, detail="customer")
        else:
            password = credentials.new_temporary_password()
            password_hash = await credentials.hash_password(password)
            hours = ctx.settings.temp_password_hours
            if ctx.account is not None and ctx.account.id == account.id:
                await ctx.logout("session_ended")  # every session ends, this one too
            async with store.db.transaction():
                await store.accounts.reset_password(
                    account.id, password_hash, now + timedelta(hours=hours), now
                )
                await store.chats.end_sessions(account.id, now)
                await queue_mail(
                    store,
                    ctx.assistant.texts,
                    kind="temp_password",
                    template="credentials",
                    lang=account.language or ctx.lang,
                    recipient=account.email,
                    now=now,
                    username=account.username,
                    password=password,
                    hours=hours,
                    reason="recovery",
                )
                await ctx.audit("recovery", account=account, detail="block lifted")
                await ctx.save()
            ctx.assistant.mail_queued()
        ctx.say("recovery/done", buttons=[[ctx.button("login", "cmd:accedi")]])


@command("recupero")
async def recover(ctx: Context) -> None:
    """Start the recovery of username and password."""
    await ctx.start_flow("rec")
