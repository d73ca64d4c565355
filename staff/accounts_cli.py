"""The web console's staff accounts from the shell: ``python main.py staff add|list|...``.

    staff add USER --role agent|admin [--type-password]   the password is shown once (or typed)
    staff list                                            accounts, roles, second factor, state
    staff disable USER                                    no more logins; sessions end
    staff reset USER [--type-password]                    new password, TOTP enrolled again,
                                                          lock lifted, sessions end

The password goes to the terminal only, never to the log. The second factor (TOTP) is enrolled
in the browser at the first login.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable
from typing import TextIO

from assistant.clock import Clock
from staff.accounts import StaffAccounts
from store.staff import StaffAccount, UsernameTaken
from store.store import Store

PasswordPrompt = Callable[[str], str]


async def run_staff(
    store: Store,
    args: argparse.Namespace,
    *,
    clock: Clock,
    out: TextIO | None = None,
    prompt: PasswordPrompt = getpass.getpass,
) -> int:
    """Run one ``staff`` command; return the exit status."""
    out = out or sys.stdout
    accounts = StaffAccounts(store, clock)
    if args.action == "list":
        _list(await store.staff.all(), out)
        return 0
    if args.action == "add":
        password = _typed(prompt) if args.type_password else None
        if args.type_password and password is None:
            return 1
        try:
            _, password = await accounts.add(args.username, args.role, password, by=None)
        except UsernameTaken:
            print(f"a staff account {args.username!r} exists already", file=sys.stderr)
            return 1
        except ValueError as exc:
            print(f"not added: {exc}", file=sys.stderr)
            return 1
        _shown(args.username.lower(), password, typed=args.type_password, out=out)
        return 0
    account = await store.staff.by_username(args.username)
    if account is None:
        print(f"no staff account {args.username!r}", file=sys.stderr)
        return 1
    if args.action == "disable":
        await accounts.disable(account, by=None)
        print(f"{account.username}: disabled, sessions ended", file=out)
        return 0
    password = _typed(prompt) if args.type_password else None
    if args.type_password and password is None:
        return 1
    try:
        password = await accounts.reset(account, password, by=None)
    except ValueError as exc:
        print(f"not reset: {exc}", file=sys.stderr)
        return 1
    _shown(account.username, password, typed=args.type_password, out=out)
    return 0


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    """The ``staff`` command's arguments (``main.py`` sets what runs it)."""
    p = sub.add_parser("staff", help="staff accounts of the web console")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    a = actions.add_parser("add", help="a new staff account (password shown once)")
    a.add_argument("username")
    a.add_argument("--role", choices=["agent", "admin"], required=True)
    a.add_argument("--type-password", action="store_true", help="type it instead")
    actions.add_parser("list", help="every staff account")
    a = actions.add_parser("disable", help="no more logins for this account")
    a.add_argument("username")
    a = actions.add_parser("reset", help="new password, TOTP to enrol again, lock lifted")
    a.add_argument("username")
    a.add_argument("--type-password", action="store_true", help="type it instead")
    return p


def _typed(prompt: PasswordPrompt) -> str | None:
    first = prompt("Password: ")
    if prompt("Again: ") != first:
        print("the two passwords differ", file=sys.stderr)
        return None
    return first


def _shown(username: str, password: str, *, typed: bool, out: TextIO) -> None:
    if typed:
        print(f"{username}: password set; TOTP is enrolled at the first login", file=out)
        return
    print(f"{username}: password {password}", file=out)
    print("  (shown only now; TOTP is enrolled in the browser at the first login)", file=out)


def _list(accounts: list[StaffAccount], out: TextIO) -> None:
    print(f"{'username':<24} {'role':<6} {'totp':<9} state", file=out)
    for a in accounts:
        state = "disabled" if a.disabled_at else "locked" if a.locked_at else "active"
        totp = "enrolled" if a.totp_confirmed else "pending"
        print(f"{a.username:<24} {a.role:<6} {totp:<9} {state}", file=out)
    if not accounts:
        print("(no staff accounts: python main.py staff add USER --role admin)", file=out)
