"""The bank's files: CSV rows checked and streamed into the store, PDFs published, demo data.

May import ``assistant`` (settings, clock, identifiers) and ``store``; imported by ``staff`` and
``main.py`` only. Never imports ``bot`` or ``mailbox``.
"""
