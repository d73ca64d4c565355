"""Requests about the customer's own data, in the customer's own words (issue 15).

``model`` holds the plain values a request is made of; ``parse`` turns a line of text and the
customer's contracts into one of them, or nothing (pure: no I/O, no clock but the ``today`` given).
The flows in ``assistant/flows/requests.py`` answer them, with the same ownership checks as the
buttons. May import: ``assistant`` modules that do no I/O. Imported by: ``assistant/flows``,
``mailbox`` (to recognise a document request and point to the bot), ``bench``.
"""
