"""The dialogs. Every module here registers its commands, buttons and flows when imported."""
