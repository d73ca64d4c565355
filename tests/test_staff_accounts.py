"""``main.py staff add|list|disable|reset`` on a real store: passwords shown once, not logged."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator

import pytest

from assistant.clock import ManualClock
from assistant.credentials import verify_password
from main import build_parser
from staff.accounts_cli import run_staff
from store.store import Store


async def staff(
    store: Store, clock: ManualClock, *argv: str, typed: Iterator[str] | None = None
) -> tuple[int, str]:
    args = build_parser().parse_args(["staff", *argv])
    out = io.StringIO()

    def prompt(_: str) -> str:
        assert typed is not None, "no password was to be typed"
        return next(typed)

    status = await run_staff(store, args, clock=clock, out=out, prompt=prompt)
    return status, out.getvalue()


async def test_add_shows_the_password_once_and_list_disable_reset_work(
    store: Store, clock: ManualClock, caplog_all: pytest.LogCaptureFixture
) -> None:
    status, printed = await staff(store, clock, "add", "Anna", "--role", "admin")
    assert status == 0
    password = re.search(r"anna: password (\S+)", printed).group(1)  # type: ignore[union-attr]
    account = await store.staff.by_username("anna")
    assert account is not None and account.role == "admin" and not account.totp_confirmed
    assert await verify_password(account.password_hash, password)
    assert (await staff(store, clock, "add", "anna", "--role", "agent"))[0] == 1  # taken

    await store.staff.start_enrolment(account.id, "JBSWY3DPEHPK3PXP", clock.now())
    await store.staff.lock(account.id, "totp", clock.now())
    status, printed = await staff(store, clock, "list")
    assert re.search(r"anna\s+admin\s+pending\s+locked", printed)

    status, printed = await staff(store, clock, "reset", "anna")
    new_password = re.search(r"anna: password (\S+)", printed).group(1)  # type: ignore[union-attr]
    account = await store.staff.by_username("anna")
    assert account is not None and account.locked_at is None and account.totp_secret is None
    assert await verify_password(account.password_hash, new_password)
    assert not await verify_password(account.password_hash, password)

    assert (await staff(store, clock, "disable", "anna"))[0] == 0
    account = await store.staff.by_username("anna")
    assert account is not None and account.disabled_at is not None
    assert (await staff(store, clock, "disable", "nobody"))[0] == 1
    assert password not in caplog_all.text and new_password not in caplog_all.text
    events = [e.event for e in await store.staff.audit_log()]
    assert events[:3] == ["staff_disabled", "staff_reset", "staff_locked"]


async def test_a_typed_password_must_match_and_be_strong(store: Store, clock: ManualClock) -> None:
    typed = iter(["short1", "short1"])
    assert (
        await staff(store, clock, "add", "bruno", "--role", "agent", "--type-password", typed=typed)
    )[0] == 1
    typed = iter(["una-password-lunga-1", "un'altra"])
    assert (
        await staff(store, clock, "add", "bruno", "--role", "agent", "--type-password", typed=typed)
    )[0] == 1
    typed = iter(["una-password-lunga-1", "una-password-lunga-1"])
    status, printed = await staff(
        store, clock, "add", "bruno", "--role", "agent", "--type-password", typed=typed
    )
    assert status == 0 and "una-password-lunga-1" not in printed
    account = await store.staff.by_username("bruno")
    assert account is not None and await verify_password(
        account.password_hash, "una-password-lunga-1"
    )
    assert (await staff(store, clock, "add", "1x", "--role", "agent"))[0] == 1  # bad username
