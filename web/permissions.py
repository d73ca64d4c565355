"""Who may open what: the console's permission rules, pure and in one place.

Agents work on tickets and customers (and see the operations page); admins do all that and
also manage staff accounts and ready answers, and read the audit log.
"""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    AGENT = "agent"  # support staff: tickets, customers, operations
    ADMIN = "admin"  # and staff accounts, snippets, the audit log


class Area(enum.StrEnum):
    TICKETS = "tickets"  # inbox, a ticket, reply, notes, assignment
    CUSTOMERS = "customers"  # a customer's page and its actions
    OPERATIONS = "operations"  # outbox failures, quarantine, imports, dashboard
    STAFF = "staff"  # staff accounts
    SNIPPETS = "snippets"  # writing ready answers (every agent may use them)
    AUDIT = "audit"  # the audit log


_AREAS = {
    Role.AGENT: frozenset({Area.TICKETS, Area.CUSTOMERS, Area.OPERATIONS}),
    Role.ADMIN: frozenset(Area),
}


def may(role: str, area: Area) -> bool:
    """Whether a staff user of ``role`` may open ``area`` (an unknown role may open nothing)."""
    try:
        return area in _AREAS[Role(role)]
    except ValueError:
        return False


def areas(role: str) -> frozenset[Area]:
    """Every area ``role`` may open (for the navigation)."""
    return frozenset(a for a in Area if may(role, a))
