"""The support mailbox's corpus: raw mails as clients send them, each with its expected outcome."""
