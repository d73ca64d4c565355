"""The support mailbox sends no documents: a document request in a mail gets the way to the bot."""

from __future__ import annotations

from assistant.clock import ManualClock
from assistant.settings import Settings
from assistant.texts import Texts
from mailbox.inbound.parse import parse_mail
from mailbox.inbound.triage import triage
from store.store import Store
from tests.mailbox_support import mail
from tests.test_mailbox_ledger import prepared, record

OWN = ("areaclienti@localhost",)
BOT_LINE = "Nel bot può anche chiedere il documento con parole sue"


def test_the_parser_tells_a_document_request_in_a_mail() -> None:
    asked = triage(parse_mail(mail("Buongiorno, mi mandate la fattura di marzo 2024?")), OWN)
    other = triage(parse_mail(mail("Buongiorno, non riesco ad accedere al profilo.")), OWN)

    assert asked.asks_for_document and asked.asks_for_account_data
    assert not other.asks_for_document


async def test_the_acknowledgement_of_a_document_request_points_to_the_bot(
    store: Store, settings: Settings, clock: ManualClock
) -> None:
    texts = Texts(settings.templates_dir)
    batch = prepared(
        mail("Buongiorno, mi mandate la fattura di marzo 2024?", sender="a@example.it"),
        mail("Buongiorno, non riesco ad accedere al profilo.", sender="b@example.it"),
    )

    outcomes = await record(store, settings, texts, clock, batch)

    assert [r.outcome for r in outcomes] == ["ticket", "ticket"]
    replies = {r.recipient: r for r in await store.outbox.list()}
    assert BOT_LINE in replies["a@example.it"].body_text
    assert "non inviamo mai per e-mail" in replies["a@example.it"].body_text
    assert BOT_LINE not in replies["b@example.it"].body_text
