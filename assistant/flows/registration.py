"""/registrazione: contract, module, codice fiscale, e-mail, summary, then a pending account.

Every state and transition of the registration is here. Nothing is written before Conferma:
/annulla at any step leaves no trace but the chat's own state.
"""

from __future__ import annotations

import enum
import logging

from assistant import credentials, identifiers, policy
from assistant.account_mail import local_time, queue_mail
from assistant.dialogs.conversation import Context, Flow, command, flow
from assistant.errors import ValidationError
from store.accounts import Account
from store.records import Customer
from store.store import Store

logger = logging.getLogger(__name__)

FIELDS = ("contract", "module", "fiscal_code", "email")


class Step(enum.Enum):
    CONTRACT = "contract"  # waiting for the contract number (or "contract/module")
    MODULE = "module"  # waiting for the module number
    FISCAL_CODE = "fiscal_code"  # waiting for the codice fiscale / partita IVA
    EMAIL = "email"  # waiting for the e-mail address
    CONFIRM = "confirm"  # summary shown, waiting for Conferma / Modifica
    EDIT = "edit"  # waiting for the choice of the field to correct


@flow
class Registration(Flow[Step]):
    name = "reg"
    State = Step
    title = "registration"

    async def begin(self, ctx: Context) -> None:
        """Explain what is needed, then ask the contract number."""
        ctx.say("registration/intro")
        ctx.goto(Step.CONTRACT)
        await self.ask(ctx, Step.CONTRACT)

    async def ask(self, ctx: Context, state: Step) -> None:
        """The question of each step."""
        if state is Step.CONFIRM:
            self._summary(ctx)
        elif state is Step.EDIT:
            ctx.say(
                "registration/which_field",
                buttons=[[ctx.button(f"edit_{f}", f"reg:edit:{f}")] for f in FIELDS],
            )
        else:
            ctx.say(f"registration/ask_{state.value}")

    async def on_input(self, ctx: Context, state: Step) -> None:
        """One answer or button."""
        data = ctx.incoming.callback
        if state is Step.CONFIRM and data == "reg:confirm":
            await self._confirm(ctx)
        elif state is Step.CONFIRM and data == "reg:edit":
            ctx.goto(Step.EDIT)
            await self.ask(ctx, Step.EDIT)
        elif state is Step.EDIT and data and data.removeprefix("reg:edit:") in FIELDS:
            target = Step(data.removeprefix("reg:edit:"))
            ctx.data["editing"] = True
            ctx.goto(target)
            await self.ask(ctx, target)
        elif data is not None or state in (Step.CONFIRM, Step.EDIT):
            ctx.say("registration/use_buttons")
            await self.ask(ctx, state)
        else:
            await self._answer(ctx, state, ctx.text)

    async def _answer(self, ctx: Context, state: Step, text: str) -> None:
        try:
            if state is not Step.EMAIL:
                identifiers.store_contract_answer(ctx.data, state.value, text)
            else:
                company = policy.is_company(None, ctx.data.get("fiscal_code", ""))
                ctx.data["email"] = identifiers.email_for(
                    text, company=company, pec_domains=ctx.settings.pec_domains
                )
        except ValidationError as error:
            ctx.say(f"validation/{error.reason}")
            await self.ask(ctx, state)
            return
        following = self._next(ctx, state)
        ctx.goto(following)
        await self.ask(ctx, following)

    def _next(self, ctx: Context, state: Step) -> Step:
        if ctx.data.get("editing") and all(f in ctx.data for f in FIELDS):
            return Step.CONFIRM
        for field in FIELDS[FIELDS.index(state.value) + 1 :]:
            if field not in ctx.data:
                return Step(field)
        return Step.CONFIRM

    def _summary(self, ctx: Context) -> None:
        ctx.say(
            "registration/summary",
            contract=ctx.data["contract"],
            module=ctx.data["module"],
            fiscal_code=ctx.data["fiscal_code"],
            email=ctx.data["email"],
            buttons=[[ctx.button("confirm", "reg:confirm"), ctx.button("edit", "reg:edit")]],
        )

    async def _confirm(self, ctx: Context) -> None:
        store, settings, now = ctx.store, ctx.settings, ctx.now
        key = policy.rate_key("registration", "chat", ctx.incoming.channel, ctx.incoming.chat_id)
        rate = policy.REGISTRATION_PER_CHAT
        if not await store.attempts.allow(key, limit=rate.limit, window=rate.window, now=now):
            await ctx.audit("registration_rate_limited")
            ctx.end_flow()
            ctx.say("registration/too_many")
            return
        found = await store.customers.find_by_identifiers(
            ctx.data["contract"], ctx.data["module"], ctx.data["fiscal_code"]
        )
        # No equal-time work here, unlike /recupero and /accedi: every outcome below has its own
        # answer (the guide's form says when the data match no contract, or the customer is
        # registered already), so the time tells nothing the words do not.
        if found is None:
            await ctx.audit("registration_mismatch")
            ctx.say(
                "registration/mismatch",
                buttons=[[ctx.button("edit", "reg:edit"), ctx.button("cancel", "cmd:annulla")]],
            )
            return
        customer = found[0]
        if policy.pec_missing(
            ctx.data["email"],
            company=policy.is_company(customer.kind),
            pec_domains=settings.pec_domains,
        ):
            ctx.say("validation/email_not_pec")
            ctx.data["editing"] = True
            ctx.goto(Step.EMAIL)
            await self.ask(ctx, Step.EMAIL)
            return
        account = await store.accounts.by_customer(customer.id)
        if account is not None and account.status == "active":
            await ctx.audit("registration_already_active", account=account)
            ctx.end_flow()
            ctx.say(
                "registration/already_active", buttons=[[ctx.button("recover", "cmd:recupero")]]
            )
            return
        retry_at = (
            policy.registration_wait_until(
                account.registered_at, now, settings.registration_retry_minutes
            )
            if account is not None
            else None
        )
        if retry_at is not None:
            await ctx.audit("registration_too_soon", account=account)
            ctx.end_flow()
            ctx.say("registration/too_soon", retry_at=local_time(retry_at))
            return
        await self._register(ctx, customer, account)

    async def _register(self, ctx: Context, customer: Customer, account: Account | None) -> None:
        store, now = ctx.store, ctx.now
        password = credentials.new_temporary_password()
        password_hash = await credentials.hash_password(password)
        expires_at = policy.temporary_password_expires_at(now, ctx.settings.temp_password_hours)
        email = ctx.data["email"]
        async with store.db.transaction():
            if account is None:
                username = await _free_username(store)
                account_id = await store.accounts.create_pending(
                    customer_id=customer.id,
                    username=username,
                    email=email,
                    password_hash=password_hash,
                    expires_at=expires_at,
                    language=ctx.lang,
                    now=now,
                )
                event = "registration"
            else:
                username, account_id = account.username, account.id
                await store.accounts.replace_pending(
                    account.id, email=email, password_hash=password_hash,
                    expires_at=expires_at, now=now,
                )  # fmt: skip
                event = "registration_repeated"
            await queue_mail(
                store,
                ctx.assistant.texts,
                kind="temp_password",
                template="credentials",
                lang=ctx.lang,
                recipient=email,
                now=now,
                username=username,
                password=password,
                hours=ctx.settings.temp_password_hours,
                reason="registration",
            )
            if customer.paper_invoices and policy.REGISTRATION_REVOKES_PAPER_INVOICES:
                await store.customers.set_paper_invoices(customer.id, False)
                await ctx.audit(
                    "paper_invoices_off", customer_id=customer.id, detail="registration"
                )
            await ctx.audit(event, customer_id=customer.id, detail=f"account={account_id}")
            ctx.end_flow()
            await ctx.save()
        ctx.assistant.mail_queued()
        ctx.say(
            "registration/done",
            email=email,
            hours=ctx.settings.temp_password_hours,
            buttons=[[ctx.button("login", "cmd:accedi")]],
        )


async def _free_username(store: Store) -> str:
    while True:
        username = credentials.new_username()
        if await store.accounts.by_username(username) is None:
            return username


@command("registrazione")
async def register(ctx: Context) -> None:
    """Start the registration (a logged-in customer is already registered)."""
    if ctx.account is not None:
        ctx.say("registration/logged_in")
        return
    await ctx.start_flow("reg")
