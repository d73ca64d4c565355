"""The inbox's query on a real SQLite file: keyset pages, filters, the trigram search."""

from __future__ import annotations

from datetime import timedelta

from assistant.clock import ManualClock
from store.inbox import InboxQuery
from store.store import Store


async def _tickets(store: Store, clock: ManualClock, count: int) -> list[int]:
    ids = []
    for i in range(count):
        clock.advance(minutes=1)
        ticket = await store.tickets.create(
            channel="email" if i % 2 else "telegram",
            contact=f"cliente{i}@example.it" if i % 2 else str(1000 + i),
            customer_id=None,
            subject=f"Richiesta numero {i}",
            language="it",
            status="closed" if i % 5 == 0 else "open",
            now=clock.now(),
        )
        ids.append(ticket.id)
    return ids


async def test_keyset_pages_cover_every_ticket_once_newest_first(
    store: Store, clock: ManualClock
) -> None:
    ids = await _tickets(store, clock, 23)
    seen: list[int] = []
    query = InboxQuery(status="all", limit=5)
    while True:
        page = await store.inbox.page(query)
        if not page:
            break
        seen += [row.id for row in page]
        query = InboxQuery(status="all", limit=5, after=page[-1].cursor)
    assert seen == sorted(ids, reverse=True)


async def test_filters_and_search(store: Store, clock: ManualClock) -> None:
    ids = await _tickets(store, clock, 10)
    await store.staff.db.execute_alone(
        "INSERT INTO staff_accounts (username, role, password_hash, created_at, updated_at)"
        " VALUES ('anna', 'agent', 'x', '2026-01-01', '2026-01-01')"
    )
    await store.inbox.assign(ids[3], 1, by=1, reference="AC-1", now=clock.now())

    async def found(**filters: object) -> set[int]:
        return {row.id for row in await store.inbox.page(InboxQuery(**filters))}  # type: ignore[arg-type]

    assert await found(status="closed") == {ids[0], ids[5]}
    assert len(await found(status="active")) == 8
    assert await found(status="all", channel="email") == {ids[i] for i in (1, 3, 5, 7, 9)}
    assert await found(status="all", assigned="me", staff_id=1) == {ids[3]}
    assert len(await found(status="all", assigned="unassigned")) == 9
    ticket = await store.tickets.get(ids[7])
    assert ticket is not None
    assert await found(status="all", search=ticket.reference) == {ids[7]}
    assert await found(status="all", search=ticket.reference[3:]) == {ids[7]}  # six digits
    assert await found(status="all", search="cliente7@exa") == {ids[7]}  # part of a contact
    assert await found(status="all", search="numero 4") == {ids[4]}  # part of a subject
    assert await found(status="open", search="numero 5") == set()  # and the filters hold
    assert await found(status="all", search="ro 6") == {ids[6]}
    assert await found(status="all", search='"; DROP') == set()  # a phrase, never syntax
    assert await found(status="all", created_before=clock.now() - timedelta(minutes=7)) == {
        ids[0],
        ids[1],
    }
