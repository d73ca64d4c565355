"""The IMAP worker: connection and fetch, parse, ``triage`` (what a mail alone tells), ``decide``
(pure rules), and the ledger that records a batch in one transaction; the FAQ child process.

Imports assistant/, store/ and imap_tools; main.py builds the worker (``main.mailbox_worker``).
"""
