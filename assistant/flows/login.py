"""/accedi (username, password, forced change of a temporary password) and /esci.

Every message holding a password is deleted from the chat before the bot answers. After
MAX_LOGIN_ATTEMPTS wrong passwords in a row the account is blocked until /recupero
(``policy.login_blocked``).
"""

from __future__ import annotations

import enum
import hashlib
import logging
from datetime import timedelta

from assistant import credentials, policy
from assistant.clock import iso, parse_iso
from assistant.dialogs.conversation import Context, Flow, command, flow
from assistant.flows.menu import main_menu
from store.accounts import Account

logger = logging.getLogger(__name__)


class Step(enum.Enum):
    USERNAME = "username"  # waiting for the username
    PASSWORD = "password"  # waiting for the password (message deleted)
    NEW_PASSWORD = "new_password"  # temporary password accepted; waiting for the new one
    REPEAT_PASSWORD = "repeat_password"  # waiting for the new password a second time


SECRET_STEPS = frozenset({Step.PASSWORD, Step.NEW_PASSWORD, Step.REPEAT_PASSWORD})


@flow
class Login(Flow[Step]):
    name = "login"
    State = Step
    title = "login_flow"

    def holds_secret(self, state: Step) -> bool:
        """Passwords are typed in these steps."""
        return state in SECRET_STEPS

    async def begin(self, ctx: Context) -> None:
        """Ask the username."""
        ctx.goto(Step.USERNAME)
        await self.ask(ctx, Step.USERNAME)

    async def ask(self, ctx: Context, state: Step) -> None:
        """The question of each step."""
        ctx.say(f"login/ask_{state.value}", username=ctx.data.get("username", ""))

    async def on_input(self, ctx: Context, state: Step) -> None:
        """One answer."""
        if ctx.incoming.kind != "text":
            ctx.say("errors/stale_button")
            await self.ask(ctx, state)
        elif state is Step.USERNAME:
            ctx.data["username"] = ctx.text.strip().lower()[:64]
            ctx.goto(Step.PASSWORD)
            await self.ask(ctx, Step.PASSWORD)
        elif state is Step.PASSWORD:
            await self._password(ctx)
        elif state is Step.NEW_PASSWORD:
            await self._new_password(ctx)
        else:
            await self._repeat_password(ctx)

    async def _password(self, ctx: Context) -> None:
        store, now = ctx.store, ctx.now
        key = policy.rate_key("login", "chat", ctx.incoming.channel, ctx.incoming.chat_id)
        rate = policy.LOGIN_PER_CHAT
        if not await store.attempts.allow(key, limit=rate.limit, window=rate.window, now=now):
            await ctx.audit("login_rate_limited")
            ctx.end_flow()
            ctx.say("login/too_many")
            return
        username = ctx.data.get("username", "")
        account = await store.accounts.by_username(username)
        # argon2 runs whatever the username names (an account, a blocked one, nothing): the time
        # of the answer tells no more than its words, and the words are the same (see below)
        known_hash = account.password_hash if account is not None else None
        right = await credentials.verify_password(known_hash, ctx.text)
        if (account is not None and account.blocked) or (
            account is None and await store.attempts.unknown_login_blocked(_digest(username))
        ):
            await ctx.audit("login_refused_blocked", account=account)
            self._blocked(ctx)
            return
        if account is None or not right:
            await self._wrong_password(ctx, account)
            return
        if account.password_temporary and policy.temporary_password_expired(
            account.password_expires_at, now
        ):
            await ctx.audit("login_refused_expired", account=account)
            ctx.end_flow()
            ctx.say("login/temporary_expired", buttons=[[ctx.button("recover", "cmd:recupero")]])
            return
        await store.accounts.record_login(account.id, now)
        if account.password_temporary:
            await ctx.audit("login_temporary_ok", account=account)
            ctx.data.update(account_id=account.id, verified_at=iso(now))
            ctx.goto(Step.NEW_PASSWORD)
            ctx.say("login/choose_password")
            await self.ask(ctx, Step.NEW_PASSWORD)
            return
        await self._open_session(ctx, account, "login/welcome")

    async def _wrong_password(self, ctx: Context, account: Account | None) -> None:
        if account is None:
            # counted and blocked like an account: "Login bloccata" does not tell who exists
            digest = _digest(ctx.data.get("username", ""))
            async with ctx.store.db.transaction():
                failed = await ctx.store.attempts.count_unknown_login(digest, ctx.now)
                blocked = policy.login_blocked(failed, ctx.settings.max_login_attempts)
                if blocked:
                    await ctx.store.attempts.block_unknown_login(digest, ctx.now)
            await ctx.audit("login_failed", detail="unknown username")
            if blocked:
                await ctx.audit("login_blocked", detail="unknown username")
                self._blocked(ctx)
                return
        else:
            async with ctx.store.db.transaction():
                failed = await ctx.store.accounts.count_failed_login(account.id, ctx.now)
                blocked = policy.login_blocked(failed, ctx.settings.max_login_attempts)
                if blocked:
                    await ctx.store.accounts.block_login(account.id, ctx.now)
            await ctx.audit("login_failed", account=account)
            if blocked:
                await ctx.store.chats.end_sessions(account.id, ctx.now)
                await ctx.audit("login_blocked", account=account)
                self._blocked(ctx)
                return
        ctx.say("login/wrong", attempts=ctx.settings.max_login_attempts)

    def _blocked(self, ctx: Context) -> None:
        ctx.end_flow()
        ctx.say("login/blocked", buttons=[[ctx.button("recover", "cmd:recupero")]])

    async def _new_password(self, ctx: Context) -> None:
        account = await self._verified_account(ctx)
        if account is None:
            return
        password = ctx.text
        problem = policy.password_problem(password, account.username)
        if problem is None and await credentials.verify_password(account.password_hash, password):
            problem = "password_same_as_temporary"
        if problem is not None:
            ctx.say(f"validation/{problem}")
            await self.ask(ctx, Step.NEW_PASSWORD)
            return
        ctx.data["new_hash"] = await credentials.hash_password(password)
        ctx.goto(Step.REPEAT_PASSWORD)
        await self.ask(ctx, Step.REPEAT_PASSWORD)

    async def _repeat_password(self, ctx: Context) -> None:
        account = await self._verified_account(ctx)
        if account is None:
            return
        new_hash = ctx.data.pop("new_hash", "")
        if not await credentials.verify_password(new_hash, ctx.text):
            ctx.say("login/passwords_differ")
            ctx.goto(Step.NEW_PASSWORD)
            await self.ask(ctx, Step.NEW_PASSWORD)
            return
        async with ctx.store.db.transaction():
            await ctx.store.accounts.set_password(account.id, new_hash, ctx.now)
            await ctx.audit("password_changed", account=account)
            changed = await ctx.store.accounts.get(account.id)
            assert changed is not None  # the account was read a moment ago, in this transaction
            await self._open_session(ctx, changed, "login/password_changed")
            await ctx.save()

    async def _verified_account(self, ctx: Context) -> Account | None:
        """The account whose temporary password was just typed, if still fresh and valid."""
        account = await ctx.store.accounts.get(int(ctx.data.get("account_id", 0)))
        verified_at = ctx.data.get("verified_at", "")
        limit = timedelta(minutes=ctx.settings.session_idle_minutes)
        fresh = bool(verified_at) and ctx.now - parse_iso(verified_at) <= limit
        if account is None or account.blocked or not account.password_temporary or not fresh:
            ctx.end_flow()
            ctx.say("login/start_again", buttons=[[ctx.button("login", "cmd:accedi")]])
            return None
        return account

    async def _open_session(self, ctx: Context, account: Account, template: str) -> None:
        ctx.end_flow()
        await ctx.login(account)
        ctx.say(template, buttons=main_menu(ctx))
        if account.email_failed_at is not None:
            ctx.say("login/email_failing", email=account.email)


@command("accedi")
async def login(ctx: Context) -> None:
    """Start the login (or say the chat is already logged in)."""
    if ctx.account is not None:
        ctx.say("login/already", username=ctx.account.username, buttons=main_menu(ctx))
        return
    await ctx.start_flow("login")


@command("esci")
async def logout(ctx: Context) -> None:
    """End the session in this chat (and forget a request waiting for a login)."""
    ctx.forget_request()
    if ctx.account is None:
        ctx.say("login/not_logged_in", buttons=main_menu(ctx))
        return
    await ctx.logout("logout")
    ctx.say("login/bye", buttons=main_menu(ctx))


def _digest(username: str) -> str:
    """What is kept of a username that names no account: its SHA-256, never the text."""
    return hashlib.sha256(username.encode("utf-8")).hexdigest()
