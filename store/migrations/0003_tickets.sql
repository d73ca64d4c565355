-- 0003: support tickets (e-mail and chat), the support mailbox's processed mails,
-- addresses our mail bounced from, and the automatic-reply log of the loop guard.

CREATE TABLE tickets (
    id            INTEGER PRIMARY KEY,
    reference     TEXT NOT NULL UNIQUE,                -- AC-123456, quoted in every subject
    channel       TEXT NOT NULL CHECK (channel IN ('email', 'telegram', 'console')),
    contact       TEXT NOT NULL,                       -- e-mail address, or the chat id
    customer_id   INTEGER REFERENCES customers (id),   -- when the sender is a known customer
    subject       TEXT NOT NULL,
    language      TEXT NOT NULL DEFAULT 'it',
    status        TEXT NOT NULL CHECK (status IN ('open', 'answered', 'auto_answered', 'closed')),
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX tickets_status ON tickets (status, updated_at);
CREATE INDEX tickets_contact ON tickets (channel, contact);

-- The processed messages of the support mailbox. A row is written in the same transaction
-- as the ticket and outbox rows the message causes: its presence means "done".
CREATE TABLE inbound_mails (
    id            INTEGER PRIMARY KEY,
    folder        TEXT NOT NULL,
    uidvalidity   INTEGER NOT NULL,
    uid           INTEGER NOT NULL,
    message_id    TEXT,                                -- the Message-ID header, when it has one
    sha256        TEXT NOT NULL,                       -- of the raw bytes kept
    size          INTEGER NOT NULL,                    -- RFC822.SIZE on the server
    raw_path      TEXT NOT NULL,                       -- relative to the data folder
    outcome       TEXT NOT NULL,                       -- ticket, reply, faq, automatic, bounce, too_large, duplicate, quarantined
    ticket_id     INTEGER REFERENCES tickets (id),
    detail        TEXT NOT NULL DEFAULT '',            -- for staff; no personal data
    processed_at  TEXT NOT NULL,
    UNIQUE (folder, uidvalidity, uid)
);
CREATE INDEX inbound_mails_message_id ON inbound_mails (message_id);
CREATE INDEX inbound_mails_sha256 ON inbound_mails (sha256);
CREATE INDEX inbound_mails_outcome ON inbound_mails (outcome, processed_at);

-- Every message of a ticket, both ways, on any channel.
CREATE TABLE ticket_messages (
    id            INTEGER PRIMARY KEY,
    ticket_id     INTEGER NOT NULL REFERENCES tickets (id),
    direction     TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    author        TEXT NOT NULL CHECK (author IN ('customer', 'assistant', 'staff')),
    kind          TEXT NOT NULL DEFAULT 'message',     -- message, acknowledgement, faq, too_large, staff_reply
    body          TEXT NOT NULL,
    message_id    TEXT,                                -- e-mail Message-ID (theirs or ours)
    inbound_id    INTEGER REFERENCES inbound_mails (id),
    created_at    TEXT NOT NULL
);
CREATE INDEX ticket_messages_ticket ON ticket_messages (ticket_id, id);
CREATE INDEX ticket_messages_message_id ON ticket_messages (message_id);

-- Addresses our mail bounced from. Staff see them; the bot asks the customer to correct it.
CREATE TABLE address_failures (
    address       TEXT PRIMARY KEY,                    -- lower case
    failed_at     TEXT NOT NULL,
    message_id    TEXT NOT NULL,                       -- our bounced Message-ID
    status        TEXT NOT NULL DEFAULT '',            -- DSN status, e.g. 5.1.1
    cleared_at    TEXT                                 -- set when the address is corrected
);

-- One row per automatic reply, for the loop guard (N per sender per 24 h).
CREATE TABLE auto_replies (
    id            INTEGER PRIMARY KEY,
    address       TEXT NOT NULL,                       -- lower case
    sent_at       TEXT NOT NULL
);
CREATE INDEX auto_replies_address ON auto_replies (address, sent_at);
