"""The login lock tells nobody which usernames exist: an unknown one is locked the same way."""

from __future__ import annotations

from assistant.dialogs.core import Assistant
from store.store import Store
from tests.fixtures.customers import KnownCustomers
from tests.fixtures.dialogs import Chat, credentials_in, login_first_time, mails, register, text

NEW_PASSWORD = "Primavera2026"


async def answers(chat: Chat, username: str, passwords: list[str]) -> list[str]:
    """What the chat answers to each password typed for ``username``, one login each."""
    said = []
    for password in passwords:
        await chat.say("/accedi")
        await chat.say(username)
        said.append(text(await chat.say(password)))
    return said


async def test_an_unknown_username_is_blocked_like_a_real_one(
    assistant: Assistant, customers: KnownCustomers, store: Store
) -> None:
    chat = Chat(assistant)
    await register(chat, customers.person, "mario@example.it")
    username, temporary = credentials_in((await mails(store, "temp_password"))[-1].body_text)
    await login_first_time(chat, username, temporary, NEW_PASSWORD)
    await chat.say("/esci")

    wrong = ["Sbagliata1xx", "Sbagliata2xx", "Sbagliata3xx", NEW_PASSWORD, "Sbagliata4xx"]
    real = await answers(Chat(assistant, chat_id="301"), username, wrong)
    unknown = await answers(Chat(assistant, chat_id="302"), "ac99999999", wrong)
    assert "Login bloccata" in real[2] and "Login bloccata" in real[3]
    assert unknown == real  # word for word, attempt after attempt
    # only a digest of what was typed is kept
    [(digest,)] = await store.db.fetchall("SELECT digest FROM unknown_logins")
    assert "ac99999999" not in digest and len(digest) == 64
