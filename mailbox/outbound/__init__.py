"""The outbox sender: composes queued outbox rows into messages and hands them to SMTP
(aiosmtplib) or to ``.eml`` files.

Imports assistant/ and store/; main.py runs the sender, staff/ reads ``compose`` for its views.
"""
