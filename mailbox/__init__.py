"""E-mail, the support mailbox's channel: ``inbound/`` reads it (IMAP), ``outbound/`` sends (SMTP).

mailbox/ may import assistant/ and store/; only mailbox/ imports imap_tools and aiosmtplib.
main.py wires it; staff/ and bench/ may use its outbound helpers, and staff/ reads attachments
out of kept mail with ``inbound.attachments``.
"""
