-- 0011: what the staff console's customer, operations and dashboard pages read (issue #12):
-- a ticket's first staff reply, the chat's FAQ answers, the bank-file imports with their bad
-- rows, and the indexes that keep each page fast at 100,000 tickets.

-- The moment of a ticket's first reply by a person (service levels, median first response).
-- Kept by the trigger below for every writer of ticket_messages; earlier tickets are filled in.
ALTER TABLE tickets ADD COLUMN first_response_at TEXT;

UPDATE tickets SET first_response_at = (
    SELECT MIN(m.created_at) FROM ticket_messages m
    WHERE m.ticket_id = tickets.id AND m.author = 'staff' AND m.direction = 'out'
);

CREATE TRIGGER tickets_first_response AFTER INSERT ON ticket_messages
WHEN NEW.author = 'staff' AND NEW.direction = 'out'
BEGIN
    UPDATE tickets SET first_response_at = NEW.created_at
    WHERE id = NEW.ticket_id AND first_response_at IS NULL;
END;

-- Tickets still waiting for their first reply: the inbox's overdue filter walks them newest
-- first (keyset on updated_at, id) and checks the receipt in the index; the dashboard counts them.
CREATE INDEX tickets_waiting ON tickets (status, updated_at, id, created_at)
    WHERE first_response_at IS NULL;
-- Tickets by day and outcome (dashboard), and first replies by moment (median first response).
CREATE INDEX tickets_created ON tickets (created_at, status);
CREATE INDEX tickets_first_response ON tickets (first_response_at, created_at)
    WHERE first_response_at IS NOT NULL;
-- Unassigned tickets of a status (dashboard).
CREATE INDEX tickets_status_assigned ON tickets (status, assigned_staff_id);
-- A customer found by the address registered (customer search).
CREATE INDEX accounts_email ON accounts (email COLLATE NOCASE);

-- One row per question the chat answered from the FAQ (no chat id, no text: a count by moment).
CREATE TABLE faq_answers (
    id            INTEGER PRIMARY KEY,
    at            TEXT NOT NULL,
    channel       TEXT NOT NULL,                       -- telegram | console
    faq_id        TEXT NOT NULL
);
CREATE INDEX faq_answers_at ON faq_answers (at);

-- One row per bank file applied or refused (import customers|contracts, publish).
CREATE TABLE import_runs (
    id            INTEGER PRIMARY KEY,
    kind          TEXT NOT NULL,                       -- customers | contracts | publish
    file_name     TEXT NOT NULL,                       -- the file's name, without its folder
    at            TEXT NOT NULL,
    rows          INTEGER NOT NULL,                    -- data rows read
    bad           INTEGER NOT NULL,                    -- bad rows, all of them
    new           INTEGER NOT NULL,                    -- rows inserted
    changed       INTEGER NOT NULL,                    -- rows inserted or updated
    notices       INTEGER NOT NULL,                    -- publication notices queued
    written       INTEGER NOT NULL,                    -- 1: applied (committed)
    unusable      TEXT                                 -- why the file could not be read at all
);
CREATE INDEX import_runs_at ON import_runs (at);

-- The bad rows of an import run as its report lists them (the first 1,000 of a run).
CREATE TABLE import_bad_rows (
    id            INTEGER PRIMARY KEY,
    run_id        INTEGER NOT NULL REFERENCES import_runs (id),
    line          INTEGER NOT NULL,
    reason        TEXT NOT NULL,
    detail        TEXT NOT NULL
);
CREATE INDEX import_bad_rows_run ON import_bad_rows (run_id, line);
