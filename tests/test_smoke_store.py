from __future__ import annotations

from store.store import Store


async def test_new_database_has_every_migration(store: Store) -> None:
    assert await store.db.schema_version() >= 1
