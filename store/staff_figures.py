"""The staff console's operations page and dashboard: the figures, read-only, computed on the
database thread (``StaffViewRepo.operations`` and ``ticket_figures`` run them).

Every count is a range of one index (migration 0011): open tickets by status, the overdue ones
by receipt among those still without a first reply (``tickets_waiting``), tickets by creation
moment, first replies by moment, FAQ answers by moment. What an overdue ticket is (the cut-off
moment) and what the figures mean (shares, medians, local days) is decided outside the store:
``assistant.service_levels`` and ``web.dashboard``.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta

from store.import_runs import BadRowRecord, ImportRun, run_from_row
from store.values import iso, parse_iso

LISTED = 50  # rows per list on the operations page
_POSIX = "(julianday({}) - 2440587.5) * 86400.0"  # an ISO moment as POSIX seconds, in SQL
BAD_ROWS_SHOWN = 20  # bad rows shown per import run


@dataclass(frozen=True)
class FailedMail:
    """An e-mail the outbox gave up on (never its body: it may hold a temporary password)."""

    id: int
    kind: str
    recipient: str
    subject: str
    attempts: int
    last_error: str
    created_at: datetime


@dataclass(frozen=True)
class QuarantinedMail:
    id: int
    uid: int
    size: int
    detail: str
    processed_at: datetime


@dataclass(frozen=True)
class NoticeInProgress:
    """A publication notice whose fan-out has not finished."""

    id: int
    customer_code: str
    what: str  # the document number, or the communication's subject
    created_at: datetime


@dataclass(frozen=True)
class Operations:
    failed_mails: tuple[FailedMail, ...]
    failed_total: int
    pending_mails: int  # still to send (first try or retry)
    quarantined: tuple[QuarantinedMail, ...]
    notices: tuple[NoticeInProgress, ...]  # the oldest unprocessed
    notices_total: int
    telegram_pending: int  # notice messages queued for chats
    imports: tuple[tuple[ImportRun, tuple[BadRowRecord, ...]], ...]


@dataclass(frozen=True)
class TicketFigures:
    """The dashboard's counts; the caller turns them into shares, medians and days."""

    open: int  # waiting for a person
    overdue: int | None  # of those, received by the cut-off and still without a first reply
    unassigned: int  # of the open ones
    faq_answers: dict[int, int]  # days → chat questions answered from the FAQ
    auto_answered: dict[int, int]  # days → tickets the mailbox answered from the FAQ (settled)
    tickets: dict[int, int]  # days → tickets opened in all
    hourly: tuple[tuple[str, int], ...]  # ("YYYY-MM-DDTHH", tickets opened in that UTC hour)
    first_replies: tuple[tuple[float, float], ...]  # (received, first reply), POSIX seconds


def operations(conn: sqlite3.Connection) -> Operations:
    """Failed and pending mail, quarantine, notices in progress, the latest imports."""
    failed = conn.execute(
        "SELECT id, kind, recipient, subject, attempts, last_error, created_at FROM outbox"
        " WHERE status = 'failed' ORDER BY id DESC LIMIT ?",
        (LISTED,),
    ).fetchall()
    quarantined = conn.execute(
        "SELECT id, uid, size, detail, processed_at FROM inbound_mails"
        " WHERE outcome = 'quarantined' ORDER BY processed_at DESC, id DESC LIMIT ?",
        (LISTED,),
    ).fetchall()
    notices = conn.execute(
        "SELECT n.id, cu.code, coalesce(d.number, m.subject), n.created_at FROM notices n"
        " JOIN customers cu ON cu.id = n.customer_id"
        " LEFT JOIN documents d ON d.id = n.document_id"
        " LEFT JOIN communications m ON m.id = n.communication_id"
        " WHERE n.processed_at IS NULL ORDER BY n.id LIMIT ?",
        (LISTED,),
    ).fetchall()
    runs = [
        run_from_row(r)
        for r in conn.execute("SELECT * FROM import_runs ORDER BY at DESC, id DESC LIMIT 10")
    ]
    imports = []
    for run in runs:
        bad = conn.execute(
            "SELECT line, reason, detail FROM import_bad_rows WHERE run_id = ?"
            " ORDER BY line, id LIMIT ?",
            (run.id, BAD_ROWS_SHOWN),
        ).fetchall()
        imports.append((run, tuple(BadRowRecord(b[0], b[1], b[2]) for b in bad)))
    return Operations(
        failed_mails=tuple(
            FailedMail(r[0], r[1], r[2], r[3], r[4], r[5] or "", parse_iso(r[6])) for r in failed
        ),
        failed_total=_count(conn, "SELECT count(*) FROM outbox WHERE status = 'failed'"),
        pending_mails=_count(conn, "SELECT count(*) FROM outbox WHERE status = 'pending'"),
        quarantined=tuple(
            QuarantinedMail(r[0], r[1], r[2], r[3], parse_iso(r[4])) for r in quarantined
        ),
        notices=tuple(NoticeInProgress(r[0], r[1], r[2] or "", parse_iso(r[3])) for r in notices),
        notices_total=_count(conn, "SELECT count(*) FROM notices WHERE processed_at IS NULL"),
        telegram_pending=_count(
            conn, "SELECT count(*) FROM telegram_notices WHERE status = 'pending'"
        ),
        imports=tuple(imports),
    )


def ticket_figures(
    conn: sqlite3.Connection, now: datetime, cutoff: datetime | None, windows: tuple[int, ...]
) -> TicketFigures:
    """The dashboard's counts at ``now``; each window is a number of days back. Without a
    cut-off (no service level) the overdue tickets are not counted."""
    since = {days: iso(now - timedelta(days=days)) for days in windows}
    start = min(since.values())
    faq = {d: _count(conn, "SELECT count(*) FROM faq_answers WHERE at >= ?", s)
           for d, s in since.items()}  # fmt: skip
    auto, total = {}, {}
    for days, moment in since.items():
        counts = dict(
            conn.execute(
                "SELECT status = 'auto_answered', count(*) FROM tickets WHERE created_at >= ?"
                " GROUP BY 1",
                (moment,),
            ).fetchall()
        )
        auto[days], total[days] = counts.get(1, 0), counts.get(0, 0) + counts.get(1, 0)
    hourly = conn.execute(
        "SELECT substr(created_at, 1, 13), count(*) FROM tickets WHERE created_at >= ?"
        " GROUP BY 1 ORDER BY 1",
        (start,),
    ).fetchall()
    replies = conn.execute(  # as POSIX seconds: thousands of rows, no datetime for each
        f"SELECT {_POSIX.format('created_at')}, {_POSIX.format('first_response_at')}"
        " FROM tickets WHERE first_response_at >= ?",
        (start,),
    ).fetchall()
    return TicketFigures(
        open=_count(conn, "SELECT count(*) FROM tickets WHERE status = 'open'"),
        overdue=None
        if cutoff is None
        else _count(
            conn,
            "SELECT count(*) FROM tickets WHERE status = 'open' AND first_response_at IS NULL"
            " AND created_at <= ?",
            iso(cutoff),
        ),
        unassigned=_count(
            conn,
            "SELECT count(*) FROM tickets WHERE status = 'open' AND assigned_staff_id IS NULL",
        ),
        faq_answers=faq,
        auto_answered=auto,
        tickets=total,
        hourly=tuple((str(h), int(n)) for h, n in hourly),
        first_replies=tuple((float(a), float(b)) for a, b in replies),
    )


def _count(conn: sqlite3.Connection, sql: str, *params: object) -> int:
    row = conn.execute(sql, params).fetchone()
    return int(row[0]) if row else 0
