"""The project's error tree.

    AreaClientiError                  base of everything raised on purpose
    ├── SettingsError                 a bad environment variable; names the variable
    ├── ValidationError               user or file input rejected; carries a reason code
    ├── NotFound                      a record the caller named does not exist
    ├── NotAllowed                    ownership/session check failed (forged button, ended session)
    ├── DeliveryError                 outgoing message could not be delivered
    │   └── PermanentDeliveryError    ... and retrying will not help (SMTP 5xx, Telegram Forbidden)
    └── FaqUnavailable                the FAQ matcher's process cannot answer now

Add a subclass only when a caller handles it differently.
"""

from __future__ import annotations


class AreaClientiError(Exception):
    """Base of every error the project raises on purpose."""


class SettingsError(AreaClientiError):
    """A configuration variable has a bad value."""

    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"{variable}: {problem}")
        self.variable = variable
        self.problem = problem


class ValidationError(AreaClientiError):
    """Input rejected; ``reason`` is a short machine-readable code, ``detail`` for humans."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(detail or reason)
        self.reason = reason
        self.detail = detail or reason


class NotFound(AreaClientiError):
    """A record the caller named does not exist."""


class NotAllowed(AreaClientiError):
    """The caller may not see or change this record."""


class DeliveryError(AreaClientiError):
    """A message could not be delivered now; try again later."""


class PermanentDeliveryError(DeliveryError):
    """A message can never be delivered as it is; do not retry."""


class FaqUnavailable(AreaClientiError):
    """The FAQ matcher cannot answer now (its process died twice): mails become tickets."""
