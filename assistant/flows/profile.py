"""/profilo: the customer's data and settings; paper invoices, Telegram notices, language, and
the change of e-mail confirmed by a 6-digit code sent to the new address."""

from __future__ import annotations

import enum
import logging
from datetime import timedelta

from assistant import credentials, identifiers, policy
from assistant.account_mail import queue_mail
from assistant.dialogs.conversation import Button, Context, Flow, button, command, flow
from assistant.errors import ValidationError
from assistant.texts import LANGUAGES

logger = logging.getLogger(__name__)

CODE_MINUTES = 15  # a verification code's validity
MAX_WRONG_CODES = 5  # then the change is dropped


async def show_profile(ctx: Context) -> None:
    """The data and settings, with a button for each change."""
    account = ctx.account
    assert account is not None
    customer = await ctx.store.customers.get(account.customer_id)
    assert customer is not None  # an account belongs to a customer (foreign key)
    paper = bool(customer.paper_invoices)
    ctx.say(
        "profile/show",
        customer=customer,
        account=account,
        paper=paper,
        notices=account.telegram_notices,
        language=ctx.lang,
        buttons=[
            [ctx.button("change_email", "prof:email")],
            [ctx.button("paper_off" if paper else "paper_on", f"prof:paper:{int(not paper)}")],
            [
                ctx.button(
                    "notices_off" if account.telegram_notices else "notices_on",
                    f"prof:notices:{int(not account.telegram_notices)}",
                )
            ],
            [ctx.button("language", "prof:lang")],
        ],
    )


@command("profilo", login_required=True)
async def profile(ctx: Context) -> None:
    """Show the profile."""
    await show_profile(ctx)


@button("prof:", login_required=True)
async def profile_button(ctx: Context) -> None:
    """The profile's buttons."""
    account = ctx.account
    assert account is not None
    store, now = ctx.store, ctx.now
    action, _, value = (ctx.incoming.callback or "").removeprefix("prof:").partition(":")
    if action == "email":
        await ctx.start_flow("mail")
        return
    if action == "paper" and value in ("0", "1"):
        async with store.db.transaction():
            await store.customers.set_paper_invoices(account.customer_id, value == "1")
            await ctx.audit("paper_invoices_on" if value == "1" else "paper_invoices_off")
        ctx.toast(ctx.render("profile/saved"))
    elif action == "notices" and value in ("0", "1"):
        async with store.db.transaction():
            await store.accounts.set_telegram_notices(account.id, value == "1", now)
            await ctx.audit("telegram_notices_on" if value == "1" else "telegram_notices_off")
        ctx.account = await store.accounts.get(account.id)
        ctx.toast(ctx.render("profile/saved"))
    elif action == "lang" and value in LANGUAGES:
        await store.accounts.set_language(account.id, value, now)
        ctx.set_language(value)
        ctx.toast(ctx.render("profile/saved"))
    elif action == "lang":
        ctx.say(
            "profile/choose_language",
            buttons=[
                [Button(ctx.label(f"lang_{code}"), f"prof:lang:{code}") for code in LANGUAGES]
            ],
        )
        return
    else:
        ctx.say("errors/stale_button")
        return
    await show_profile(ctx)


class Step(enum.Enum):
    NEW_EMAIL = "new_email"  # waiting for the new address
    CODE = "code"  # code sent to the new address; waiting for it (message deleted)


@flow
class EmailChange(Flow[Step]):
    name = "mail"
    State = Step
    title = "profile_flow"
    login_required = True

    def holds_secret(self, state: Step) -> bool:
        """The verification code is a secret."""
        return state is Step.CODE

    async def begin(self, ctx: Context) -> None:
        """Ask the new address."""
        ctx.goto(Step.NEW_EMAIL)
        await self.ask(ctx, Step.NEW_EMAIL)

    async def ask(self, ctx: Context, state: Step) -> None:
        """The question of each step."""
        ctx.say(f"profile/ask_{state.value}", minutes=CODE_MINUTES)

    async def on_cancel(self, ctx: Context, state: Step) -> None:
        """Forget the pending code."""
        if ctx.account is not None:
            await ctx.store.accounts.drop_email_change(ctx.account.id)

    async def on_input(self, ctx: Context, state: Step) -> None:
        """One answer."""
        if ctx.incoming.kind != "text":
            ctx.say("errors/stale_button")
            await self.ask(ctx, state)
        elif state is Step.NEW_EMAIL:
            await self._new_email(ctx)
        else:
            await self._code(ctx)

    async def _new_email(self, ctx: Context) -> None:
        account, store, now = ctx.account, ctx.store, ctx.now
        assert account is not None
        customer = await store.customers.get(account.customer_id)
        assert customer is not None  # an account belongs to a customer (foreign key)
        try:
            address = identifiers.email_for(
                ctx.text,
                company=policy.is_company(customer.kind),
                pec_domains=ctx.settings.pec_domains,
            )
        except ValidationError as error:
            ctx.say(f"validation/{error.reason}")
            await self.ask(ctx, Step.NEW_EMAIL)
            return
        if address.lower() == account.email.lower():
            ctx.say("profile/same_email")
            await self.ask(ctx, Step.NEW_EMAIL)
            return
        key = policy.rate_key("email_code", "account", account.id)
        rate = policy.EMAIL_CODES_PER_ACCOUNT
        if not await store.attempts.allow(key, limit=rate.limit, window=rate.window, now=now):
            ctx.end_flow()
            ctx.say("profile/too_many_codes")
            return
        code, salt = credentials.new_code(), credentials.new_salt()
        async with store.db.transaction():
            await store.accounts.start_email_change(
                account.id,
                new_email=address,
                code_hash=credentials.hash_code(code, salt),
                salt=salt,
                expires_at=now + timedelta(minutes=CODE_MINUTES),
                now=now,
            )
            await queue_mail(
                store, ctx.assistant.texts, kind="verification_code", template="verification_code",
                lang=ctx.lang, recipient=address, now=now, code=code, minutes=CODE_MINUTES,
            )  # fmt: skip
            await ctx.audit("email_change_requested")
            ctx.goto(Step.CODE)
            await ctx.save()
        ctx.assistant.mail_queued()
        ctx.say("profile/code_sent", email=address, minutes=CODE_MINUTES)

    async def _code(self, ctx: Context) -> None:
        account, store, now = ctx.account, ctx.store, ctx.now
        assert account is not None
        change = await store.accounts.email_change(account.id)
        if change is None or now > change.expires_at:
            await store.accounts.drop_email_change(account.id)
            ctx.end_flow()
            ctx.say("profile/code_expired", buttons=[[ctx.button("change_email", "prof:email")]])
            return
        if not credentials.code_matches(ctx.text, change.salt, change.code_hash):
            if await store.accounts.count_wrong_code(account.id) >= MAX_WRONG_CODES:
                await store.accounts.drop_email_change(account.id)
                await ctx.audit("email_change_failed", detail="too many wrong codes")
                ctx.end_flow()
                ctx.say("profile/code_too_many")
                return
            ctx.say("profile/code_wrong")
            return
        old_address = account.email
        async with store.db.transaction():
            await store.accounts.set_email(account.id, change.new_email, now)
            await store.accounts.drop_email_change(account.id)
            # staff's list of bouncing addresses: the old one is corrected, the new one proven
            await store.inbound.clear_failing(old_address, now)
            await store.inbound.clear_failing(change.new_email, now)
            await queue_mail(
                store, ctx.assistant.texts, kind="email_changed", template="email_changed",
                lang=ctx.lang, recipient=old_address, now=now, new_email=change.new_email,
            )  # fmt: skip
            await ctx.audit("email_changed")
            ctx.end_flow()
            await ctx.save()
        ctx.assistant.mail_queued()
        ctx.account = await store.accounts.get(account.id)
        ctx.say("profile/email_changed", email=change.new_email)
        await show_profile(ctx)
