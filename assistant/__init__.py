"""The channel-neutral core: the dialog engine (``dialogs/``), one module per dialog (``flows/``),
the FAQ matcher (``faq/``), the guide's rules (``policy.py``) and the domain services (tickets,
notices, ownership checks, the account dialogs' e-mails).

May import ``store``; never ``bot``, ``mailbox``, ``staff``, ``telegram`` or ``sqlite3``. The
channels (``bot``, ``mailbox``), ``staff``, ``bankfiles`` and ``main.py`` import it.
"""
