-- 0001: the bank's data, published documents, the outbox, notices, communications, audit log.

CREATE TABLE customers (
    id            INTEGER PRIMARY KEY,
    code          TEXT NOT NULL UNIQUE,                -- the bank's customer code
    kind          TEXT NOT NULL CHECK (kind IN ('person', 'company')),
    name          TEXT NOT NULL,
    fiscal_code   TEXT NOT NULL,                       -- codice fiscale or partita IVA, compact, upper case
    paper_invoices INTEGER NOT NULL DEFAULT 1,         -- 1 while invoices also go by post
    updated_at    TEXT NOT NULL
);
CREATE INDEX customers_fiscal_code ON customers (fiscal_code);

CREATE TABLE contracts (
    id              INTEGER PRIMARY KEY,
    contract_number TEXT NOT NULL,
    module_number   TEXT NOT NULL,
    customer_id     INTEGER NOT NULL REFERENCES customers (id),
    status          TEXT NOT NULL CHECK (status IN ('active', 'terminated')),
    description     TEXT NOT NULL,                     -- the leased asset
    start_date      TEXT NOT NULL,                     -- ISO date
    end_date        TEXT,                              -- ISO date, NULL for open-ended active contracts
    periodic_fee_cents INTEGER NOT NULL,
    updated_at      TEXT NOT NULL,
    UNIQUE (contract_number, module_number)
);
CREATE INDEX contracts_customer ON contracts (customer_id, status);

CREATE TABLE documents (
    id            INTEGER PRIMARY KEY,
    number        TEXT NOT NULL UNIQUE,                -- e.g. 2024/000123
    contract_id   INTEGER NOT NULL REFERENCES contracts (id),
    kind          TEXT NOT NULL CHECK (kind IN ('invoice', 'credit_note')),
    issue_date    TEXT NOT NULL,                       -- ISO date
    amount_cents  INTEGER NOT NULL,
    pdf_path      TEXT,                                -- relative to the data folder
    pdf_sha256    TEXT,
    published_at  TEXT,
    telegram_file_id TEXT                              -- Telegram's id of the uploaded PDF, for re-sending
);
CREATE INDEX documents_contract_date ON documents (contract_id, issue_date);

-- One row per e-mail to send. Written in the same transaction as the event that causes it.
CREATE TABLE outbox (
    id            INTEGER PRIMARY KEY,
    message_id    TEXT NOT NULL UNIQUE,                -- our Message-ID, generated when queued
    dedup_key     TEXT UNIQUE,                         -- the same event never queues two mails
    kind          TEXT NOT NULL,                       -- temp_password, verification_code, notice, ...
    recipient     TEXT NOT NULL,
    subject       TEXT NOT NULL,
    body_text     TEXT NOT NULL,
    body_html     TEXT,
    headers       TEXT NOT NULL DEFAULT '{}',          -- JSON: extra headers (In-Reply-To, References, Auto-Submitted)
    status        TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts      INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error    TEXT,
    created_at    TEXT NOT NULL,
    sent_at       TEXT
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);

-- The bank's communications to customers.
CREATE TABLE communications (
    id            INTEGER PRIMARY KEY,
    customer_id   INTEGER NOT NULL REFERENCES customers (id),
    subject       TEXT NOT NULL,
    body          TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    read_at       TEXT
);
CREATE INDEX communications_customer ON communications (customer_id, created_at);

-- Publication notices waiting for their fan-out (e-mail and Telegram) to customers.
CREATE TABLE notices (
    id            INTEGER PRIMARY KEY,
    customer_id   INTEGER NOT NULL REFERENCES customers (id),
    document_id   INTEGER UNIQUE REFERENCES documents (id),
    communication_id INTEGER UNIQUE REFERENCES communications (id),
    created_at    TEXT NOT NULL,
    processed_at  TEXT,                                -- set once the fan-out has queued everything
    CHECK ((document_id IS NULL) <> (communication_id IS NULL))
);
CREATE INDEX notices_pending ON notices (processed_at, customer_id);

-- Security and staff events. Never holds a secret or personal data.
CREATE TABLE audit_log (
    id            INTEGER PRIMARY KEY,
    at            TEXT NOT NULL,
    event         TEXT NOT NULL,
    customer_id   INTEGER,
    account_id    INTEGER,
    channel       TEXT,
    chat_id       TEXT,
    detail        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_event ON audit_log (event, at);
