"""The dialog engine: ``Incoming`` in, ``Outcome`` out (``core.Assistant``), the ``Context`` a
handler sees, the registry built by ``load_flows()``, and pages that fit one message.

Flows import it through ``assistant.dialogs.conversation``; front-ends (``bot``) import
``core`` and ``messages``. It imports ``store`` and the core's services, never a channel.
"""
