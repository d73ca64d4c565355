"""Free text outside a step goes to the FAQ matcher; its choices come back as buttons."""

from __future__ import annotations

import pytest

from assistant.clock import ManualClock
from assistant.dialogs.core import Assistant
from assistant.faq import FaqMatcher
from assistant.settings import Settings
from store.store import Store
from tests.fixtures.dialogs import Chat, make_assistant, text


@pytest.fixture(scope="module")
def matcher() -> FaqMatcher:
    """The real matcher, loaded once for the module."""
    return FaqMatcher.load()


@pytest.fixture
def faq_assistant(
    store: Store, settings: Settings, clock: ManualClock, matcher: FaqMatcher
) -> Assistant:
    return make_assistant(store, settings, clock, faq=matcher)


async def test_a_question_gets_the_faq_answer_and_buttons_open_answers(
    faq_assistant: Assistant,
) -> None:
    chat = Chat(faq_assistant)
    out = await chat.say("ricevo ancora la fattura cartacea dopo la registrazione?")
    assert text(out)
    for reply in out.replies:
        for row in reply.buttons:
            for b in row:
                assert b.data.startswith("faq:")
                assert text(await chat.press(b.data))
    assert "non è più valido" in text(await chat.press("faq:nonexistent"))


async def test_a_question_in_the_middle_of_a_step_is_an_answer_to_the_step(
    faq_assistant: Assistant,
) -> None:
    chat = Chat(faq_assistant)
    await chat.say("/registrazione")
    out = await chat.say("come mi registro?")
    assert "non sembra un numero di contratto" in text(out)
