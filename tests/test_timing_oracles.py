"""No timing oracle: where the answer is the same whether or not the data named a customer, so
is the time it takes (issue #14, point 9).

Argon2 dominates every path measured here, so the medians of interleaved tries agree within a
tolerance that a missing argon2 run (160 ms against 1 ms) breaks by two orders of magnitude.
The production argon2 parameters are used: the property is that the work is the same.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Awaitable

from assistant import policy
from assistant.clock import ManualClock
from assistant.dialogs.core import Assistant
from store.store import Store
from tests.fixtures.customers import KnownCustomer, KnownCustomers
from tests.fixtures.dialogs import Chat, credentials_in, mails, register, text

TRIES = 11  # interleaved tries of each case, after one untimed round
TOLERANCE = (0.67, 1.5)  # accepted ratio of two medians
UNKNOWN_CONTRACT = "7777777"  # well-formed, in no bank file


async def timed(action: Awaitable[str]) -> tuple[float, str]:
    """Seconds one chat turn took, and its answer."""
    started = time.perf_counter()
    answer = await action
    return time.perf_counter() - started, answer


def assert_same_time(reference: list[float], other: list[float], what: str) -> None:
    """The medians of two series agree within ``TOLERANCE``."""
    ratio = statistics.median(other) / statistics.median(reference)
    low, high = TOLERANCE
    assert low <= ratio <= high, (
        f"{what}: median {statistics.median(other) * 1000:.1f} ms against "
        f"{statistics.median(reference) * 1000:.1f} ms (ratio {ratio:.2f})"
    )


async def test_a_wrong_password_takes_as_long_for_an_unknown_username(
    assistant: Assistant, customers: KnownCustomers, store: Store
) -> None:
    await register(Chat(assistant, chat_id="reg"), customers.person, "mario@example.it")
    username, _ = credentials_in((await mails(store, "temp_password"))[-1].body_text)
    account = await store.accounts.by_username(username)
    assert account is not None
    serial = iter(range(10_000))

    async def wrong_password(name: str) -> str:
        chat = Chat(assistant, chat_id=f"login{next(serial)}")  # under the per-chat limit
        await chat.say("/accedi")
        await chat.say(name)
        return text(await chat.say("Sbagliata123"))

    known: list[float] = []
    unknown: list[float] = []
    for _ in range(1 + TRIES):
        seconds, known_answer = await timed(wrong_password(username))
        known.append(seconds)
        # a right password elsewhere starts the count again: the lock must not end the series
        await store.accounts.record_login(account.id, assistant.clock.now())
        # each a new unknown username: an unknown one is locked after three, like an account
        seconds, unknown_answer = await timed(wrong_password(f"ac9{next(serial):07d}"))
        unknown.append(seconds)
        assert unknown_answer == known_answer
    del known[0], unknown[0]  # the first check of a process also makes the stand-in hash
    assert_same_time(known, unknown, "unknown username against a wrong password")


async def test_recovery_takes_as_long_whether_or_not_the_data_match(
    assistant: Assistant, customers: KnownCustomers, store: Store, clock: ManualClock
) -> None:
    await register(Chat(assistant, chat_id="reg1"), customers.person, "mario@example.it")
    await register(Chat(assistant, chat_id="reg2"), customers.omocodia, "maria@example.it")
    limited = await store.accounts.by_username(
        credentials_in((await mails(store, "temp_password"))[-1].body_text)[0]
    )
    assert limited is not None
    serial = iter(range(10_000))

    async def recover(customer: KnownCustomer, contract: str) -> str:
        chat = Chat(assistant, chat_id=f"rec{next(serial)}")  # under the per-chat limit
        await chat.say("/recupero")
        await chat.say(f"{contract}/{customer.module}")
        return text(await chat.say(customer.fiscal_code))

    matched: list[float] = []
    unmatched: list[float] = []
    over_limit: list[float] = []
    for _ in range(1 + TRIES):
        clock.advance(minutes=61)  # a fresh hour for the per-customer limit
        customer_key = policy.rate_key("recovery", "customer", limited.customer_id)
        for _ in range(policy.RECOVERY_PER_CUSTOMER.limit):
            await store.attempts.add(customer_key, clock.now())
        seconds, matched_answer = await timed(recover(customers.person, customers.person.contract))
        matched.append(seconds)
        seconds, unmatched_answer = await timed(recover(customers.person, UNKNOWN_CONTRACT))
        unmatched.append(seconds)
        omocodia = customers.omocodia
        seconds, limited_answer = await timed(recover(omocodia, omocodia.contract))
        over_limit.append(seconds)
        assert matched_answer == unmatched_answer == limited_answer
    assert len(await mails(store, "temp_password")) == 2 + 1 + TRIES  # only the matches got one
    del matched[0], unmatched[0], over_limit[0]  # an untimed first round, as for the login
    assert_same_time(matched, unmatched, "recovery with data matching no customer")
    assert_same_time(matched, over_limit, "recovery of a customer over the hourly limit")
