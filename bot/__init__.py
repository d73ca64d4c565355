"""The chat channels: Telegram (python-telegram-bot) and the console, thin adapters over
``assistant.dialogs``. Every Telegram limit lives here: text and caption length in UTF-16 units,
splitting and a button's data in bytes (``telegram_text``), the pace of notices
(``TELEGRAM_PACING`` in ``telegram_render``). Webhook mode's receiver and the Bot API's
readiness probe: ``webhook``.

Only ``bot`` imports ``telegram``; only ``main.py`` imports ``bot`` (tests aside), and
``assistant`` never does.
"""
