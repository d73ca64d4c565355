"""The dialogs, one module per feature; ``load_flows()`` imports each and registers what its
decorators marked (nothing registers itself on import).

Flows import ``assistant.dialogs.conversation``, ``assistant.policy`` and the core's services;
nothing imports a flow but the loader, ``main.py`` (its ``document_sent`` hooks) and tests.
"""
