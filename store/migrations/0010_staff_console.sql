-- 0010: the staff web console (issue #12): staff accounts with a mandatory TOTP second factor,
-- their server-side sessions, internal notes, ticket assignment, ready-answer snippets, who is
-- looking at a ticket, and the staff user's id on audit events. Indexes for the inbox's
-- filters with keyset pagination on (updated_at, id), and a trigram index for its search.

CREATE TABLE staff_accounts (
    id                 INTEGER PRIMARY KEY,
    username           TEXT NOT NULL UNIQUE,              -- lower case
    role               TEXT NOT NULL CHECK (role IN ('agent', 'admin')),
    password_hash      TEXT NOT NULL,                     -- argon2
    totp_secret        TEXT,                              -- base32; NULL until enrolment starts
    totp_confirmed     INTEGER NOT NULL DEFAULT 0,        -- 1 once a first code was typed back
    totp_last_step     INTEGER NOT NULL DEFAULT 0,        -- the last 30-second step used (no replay)
    password_failures  INTEGER NOT NULL DEFAULT 0,        -- wrong passwords in a row
    totp_failures      INTEGER NOT NULL DEFAULT 0,        -- wrong codes in a row
    locked_at          TEXT,                              -- set by too many failures; `staff reset` lifts it
    disabled_at        TEXT,                              -- `staff disable`
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL
);

-- A browser's session: the cookie holds a random id, the table only its SHA-256.
CREATE TABLE staff_sessions (
    token_hash    TEXT PRIMARY KEY,
    staff_id      INTEGER NOT NULL REFERENCES staff_accounts (id),
    stage         TEXT NOT NULL CHECK (stage IN ('totp', 'enrol', 'active')),
    created_at    TEXT NOT NULL,
    last_seen_at  TEXT NOT NULL
);
CREATE INDEX staff_sessions_staff ON staff_sessions (staff_id);

-- Internal notes on a ticket: staff only, never sent to the customer.
CREATE TABLE ticket_notes (
    id            INTEGER PRIMARY KEY,
    ticket_id     INTEGER NOT NULL REFERENCES tickets (id),
    staff_id      INTEGER NOT NULL REFERENCES staff_accounts (id),
    body          TEXT NOT NULL,
    created_at    TEXT NOT NULL
);
CREATE INDEX ticket_notes_ticket ON ticket_notes (ticket_id, id);

-- Ready answers written by admins (beside the FAQ's answers).
CREATE TABLE reply_snippets (
    id            INTEGER PRIMARY KEY,
    title         TEXT NOT NULL,
    language      TEXT NOT NULL CHECK (language IN ('it', 'en')),
    body          TEXT NOT NULL,
    staff_id      INTEGER NOT NULL REFERENCES staff_accounts (id),
    created_at    TEXT NOT NULL,
    deleted_at    TEXT
);

-- Who opened a ticket lately: two agents on one ticket see each other.
CREATE TABLE ticket_viewers (
    ticket_id     INTEGER NOT NULL REFERENCES tickets (id),
    staff_id      INTEGER NOT NULL REFERENCES staff_accounts (id),
    seen_at       TEXT NOT NULL,
    PRIMARY KEY (ticket_id, staff_id)
) WITHOUT ROWID;

ALTER TABLE tickets ADD COLUMN assigned_staff_id INTEGER REFERENCES staff_accounts (id);
ALTER TABLE audit_log ADD COLUMN staff_id INTEGER;

-- The inbox: newest first, keyset pagination on (updated_at, id), per filter.
CREATE INDEX tickets_updated ON tickets (updated_at, id);
CREATE INDEX tickets_status_updated ON tickets (status, updated_at, id);
CREATE INDEX tickets_channel_updated ON tickets (channel, updated_at, id);
CREATE INDEX tickets_assigned_updated ON tickets (assigned_staff_id, updated_at, id);
CREATE INDEX tickets_customer ON tickets (customer_id, updated_at);
CREATE INDEX audit_log_staff ON audit_log (staff_id, id);

-- The inbox's search: any part (3 characters or more) of a subject or a contact, through a
-- trigram full-text index kept by triggers for every writer of tickets.
CREATE VIRTUAL TABLE tickets_search USING fts5(
    subject, contact, content = 'tickets', content_rowid = 'id', tokenize = 'trigram'
);
INSERT INTO tickets_search (rowid, subject, contact) SELECT id, subject, contact FROM tickets;
CREATE TRIGGER tickets_search_insert AFTER INSERT ON tickets BEGIN
    INSERT INTO tickets_search (rowid, subject, contact) VALUES (NEW.id, NEW.subject, NEW.contact);
END;
CREATE TRIGGER tickets_search_update AFTER UPDATE OF subject, contact ON tickets BEGIN
    INSERT INTO tickets_search (tickets_search, rowid, subject, contact)
        VALUES ('delete', OLD.id, OLD.subject, OLD.contact);
    INSERT INTO tickets_search (rowid, subject, contact) VALUES (NEW.id, NEW.subject, NEW.contact);
END;
CREATE TRIGGER tickets_search_delete AFTER DELETE ON tickets BEGIN
    INSERT INTO tickets_search (tickets_search, rowid, subject, contact)
        VALUES ('delete', OLD.id, OLD.subject, OLD.contact);
END;
