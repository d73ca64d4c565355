"""The dialog framework: channel-neutral conversations. Import everything a flow needs from here.

How to add a flow
=================

The pieces
----------
* ``Incoming`` — what the customer did (``kind``: ``text`` | ``command`` | ``button`` |
  ``other``). ``command`` is the canonical Italian name (``/invoices`` arrives as ``fatture``);
  ``callback`` is a pressed button's data. Front-ends (``bot/telegram_app.py``,
  ``bot/console.py``) build it with ``Incoming.from_text`` / ``from_button`` / ``other``.
* ``Assistant.handle(incoming) -> Outcome`` (``assistant/dialogs/core.py``) — the dispatcher.
  It loads the chat's state from the store, checks the session, routes, saves the state, and
  never lets an exception out (the customer reads ``errors/unexpected``). One chat's updates are
  handled in order (a per-chat lock); different chats concurrently.
* ``Context`` (``assistant/dialogs/context.py``) — what a handler gets: ``ctx.incoming``,
  ``ctx.text``, ``ctx.store``, ``ctx.settings``, ``ctx.now``, ``ctx.lang``, ``ctx.account`` (the
  logged-in ``store.accounts.Account`` or None; ``ctx.account.customer_id`` is the customer), and
  ``ctx.say("template/name", buttons=[[ctx.button("label_key", "data")]], document=..., **vars)``,
  ``ctx.send(Reply(...))``, ``ctx.delete_incoming()`` (a message that held a secret),
  ``ctx.toast(text)`` (answer to a button press), ``await ctx.audit("event", detail=...)``,
  ``await ctx.run_command("menu")``.
* ``Outcome`` — replies (``Reply(text, buttons, document=Attachment(...))``), message ids to
  delete first, and the button-press answer. Buttons are rows of ``Button(label, data)``; data is
  a short token, a prefix and ids (the channel limits its size).

A single-step command or button
-------------------------------
Put a module in ``assistant/flows/``: ``load_flows()`` imports every module there and registers
what its decorators marked (the decorators themselves register nothing)::

    from assistant.dialogs.conversation import Context, button, command

    @command("contratti", login_required=True)
    async def show_contracts(ctx: Context) -> None:
        \"\"\"List the customer's contracts.\"\"\"
        contracts = await ctx.store.contracts.for_customer(ctx.account.customer_id)
        ctx.say("contracts/list", contracts=contracts,
                buttons=[[ctx.button("next", "ctr:page:2")]])

    @button("ctr:", login_required=True)
    async def contracts_button(ctx: Context) -> None:
        \"\"\"Page through the contracts.\"\"\"
        ...  # ctx.incoming.callback == "ctr:page:2"

* ``login_required=True``: without an open session the dispatcher answers "accedi" (or "la
  sessione è scaduta") and the handler is not called — this holds for buttons of an ended
  session too. The refused button, command or claimed text is remembered in the chat's row
  and runs once, through the normal routing, right after the login (for 15 minutes; /annulla
  and /esci forget it).
  Ownership checks (this document belongs to ``ctx.account.customer_id``) are the handler's
  job; refuse a forged button with a template and ``await ctx.audit("forged_button")``.
* The button prefix with the longest match wins. Menu buttons use ``"cmd:<command>"`` and behave
  exactly like the typed command. FAQ buttons are ``"faq:<id>"``.
* A later registration of the same command/prefix wins over an earlier one, and a real one
  always wins over a placeholder: ``contratti``, ``fatture`` and ``comunicazioni`` are
  registered with ``placeholder=True`` in ``assistant/flows/menu.py`` ("coming soon"), so
  registering your own replaces them whatever the import order. No need to edit menu.py.

A multi-step flow (a state machine)
-----------------------------------
All states and transitions of one flow live in one module::

    class Step(enum.Enum):
        CONTRACT = "contract"  # waiting for the contract number
        CONFIRM = "confirm"    # summary shown, waiting for Conferma / Modifica

    @flow
    class Registration(Flow[Step]):
        name = "reg"            # persisted in chats.flow; its buttons are "reg:..."
        State = Step
        title = "registration"  # key in templates/<lang>/labels.j2
        login_required = False  # True: the flow ends when the session does

        async def begin(self, ctx): ctx.goto(Step.CONTRACT); await self.ask(ctx, Step.CONTRACT)
        async def ask(self, ctx, state): ctx.say(f"registration/ask_{state.value}")
        async def on_input(self, ctx, state): ...  # ctx.text, or ctx.incoming.callback
        async def on_cancel(self, ctx, state): ...  # optional: undo what lives outside ctx.data

    @command("registrazione")
    async def start(ctx): await ctx.start_flow("reg", source="command")

* ``ctx.data`` is the flow's plain-JSON scratch pad and ``ctx.goto(Step.X)`` its state; both are
  saved in the ``chats`` row after each update, so a restart continues the dialog. Never put a
  password or a code in ``ctx.data`` (keep a hash, or keep it in its own table).
* ``ctx.end_flow()`` when done. To commit a change and the end of the flow atomically, do both in
  one ``async with ctx.store.db.transaction():`` and call ``await ctx.save()`` inside it.
* The dispatcher, in every step: /annulla calls ``on_cancel``, ends the flow, says nothing was
  saved and shows the menu; any other known command interrupts the flow (``on_cancel``, "ho
  interrotto ...") and runs; /menu too. Photos and stickers, over-long text and unknown commands
  get a polite answer and ``ask`` repeats the question. A button of the flow pressed after the
  flow ended answers "questo pulsante non è più valido".
* Free text outside any flow goes to the first ``@text_route(recognises, login_required=...)``
  whose ``recognises(text)`` is true (``assistant/flows/invoices.py`` claims typed document
  numbers), else to the one ``@text_handler`` (``assistant/flows/faq_chat.py``: a request in
  the customer's own words, ``assistant/flows/requests.py``, else the FAQ). A handler that needs
  a session it does not have calls ``ctx.assistant.ask_login(ctx)``: the request runs after it.
* E-mails: queue them with ``store.outbox.enqueue`` inside the transaction of the change that
  causes them (``assistant/account_mail.queue_mail`` renders ``mail/<name>`` templates), then
  call ``ctx.assistant.mail_queued()`` so the sender wakes up at once.

Files for Telegram
------------------
A ``Reply`` can carry ``Attachment(filename, path=..., caption=..., document_id=...,
file_id=...)``. The Telegram front-end sends by ``file_id`` when given and falls back to
uploading ``path`` when Telegram refuses it; after an upload it calls
``registry.document_delivered(attachment, new_file_id)``, which runs the ``document_sent`` hooks
the composition root gave ``load_flows(document_sent=...)`` (they store the id: on the document,
or under ``cache_key`` for a file that is none). A file made for one answer alone (a year's ZIP,
``assistant/flows/bundles.py``) is ``temporary=True``: the core removes it once the front-end
delivered it, or failed to.

Texts
-----
Every sentence is ``templates/it/<name>.j2`` with ``templates/en/<name>.j2`` beside it. Button
labels are keys of the dict in ``templates/<lang>/labels.j2`` (add yours there, or render your
own template and build ``Button(text, data)`` directly).
"""

from __future__ import annotations

from assistant.dialogs.context import Context
from assistant.dialogs.core import Assistant
from assistant.dialogs.messages import (
    ALIASES,
    COMMANDS,
    Attachment,
    Button,
    Incoming,
    Outcome,
    Reply,
    canonical_command,
)
from assistant.dialogs.registry import (
    DocumentSentHook,
    Flow,
    Registry,
    button,
    command,
    flow,
    load_flows,
    text_handler,
    text_route,
)

__all__ = [
    "ALIASES",
    "COMMANDS",
    "Assistant",
    "Attachment",
    "Button",
    "Context",
    "DocumentSentHook",
    "Flow",
    "Incoming",
    "Outcome",
    "Registry",
    "Reply",
    "button",
    "canonical_command",
    "command",
    "flow",
    "load_flows",
    "text_handler",
    "text_route",
]
