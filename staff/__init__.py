"""The staff's command lines (``main.py tickets|import|publish|announce|outbox|faq``).

Each command receives the open store and the services it needs from ``main.py``; it may import
``assistant``, ``bankfiles``, ``mailbox.outbound.compose``, ``mailbox.inbound.attachments``
(an attachment out of a kept mail) and ``store``, and never ``telegram``.
"""
