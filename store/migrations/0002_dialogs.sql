-- 0002: customer accounts, chats and their dialog state, attempt counters, e-mail change codes.

-- One account per registered customer.
CREATE TABLE accounts (
    id              INTEGER PRIMARY KEY,
    customer_id     INTEGER NOT NULL UNIQUE REFERENCES customers (id),
    username        TEXT NOT NULL UNIQUE,
    email           TEXT NOT NULL,                     -- the registered address (a PEC for companies)
    status          TEXT NOT NULL CHECK (status IN ('pending', 'active')),  -- active once the first password was chosen
    password_hash   TEXT NOT NULL,                     -- argon2
    password_temporary INTEGER NOT NULL DEFAULT 1,     -- 1: must be replaced at the next login
    password_expires_at TEXT,                          -- when a temporary password stops working
    failed_logins   INTEGER NOT NULL DEFAULT 0,        -- wrong passwords in a row
    blocked_at      TEXT,                              -- "Login bloccata" until recovery
    language        TEXT,                              -- it | en, NULL until chosen
    telegram_notices INTEGER NOT NULL DEFAULT 1,       -- publication notices on Telegram
    email_failed_at TEXT,                              -- our mail to the address bounced (mailbox worker)
    registered_at   TEXT NOT NULL,                     -- last (re-)registration, for the 60-minute rule
    activated_at    TEXT,
    updated_at      TEXT NOT NULL
);

-- One row per chat (Telegram chat id, or "console"): session and dialog state.
CREATE TABLE chats (
    channel         TEXT NOT NULL,                     -- telegram | console
    chat_id         TEXT NOT NULL,
    language        TEXT,                              -- from the client's language_code or chosen
    account_id      INTEGER REFERENCES accounts (id),  -- linked by the last login (notices go here)
    logged_in       INTEGER NOT NULL DEFAULT 0,        -- 1 while the session of account_id is open
    last_seen_at    TEXT,                              -- last message, for SESSION_IDLE_MINUTES
    flow            TEXT,                              -- the dialog in progress, NULL outside one
    step            TEXT,                              -- the flow's state (an enum value)
    data            TEXT NOT NULL DEFAULT '{}',        -- the flow's answers so far (JSON)
    notices_stopped_at TEXT,                           -- Telegram refused (bot blocked): no notices
    updated_at      TEXT NOT NULL,
    PRIMARY KEY (channel, chat_id)
);
CREATE INDEX chats_account ON chats (account_id);

-- Attempts counted for rate limits (registration, recovery, login, e-mail codes).
CREATE TABLE attempts (
    id              INTEGER PRIMARY KEY,
    key             TEXT NOT NULL,                     -- e.g. recovery:chat:telegram:42
    at              TEXT NOT NULL
);
CREATE INDEX attempts_key_at ON attempts (key, at);

-- A pending change of e-mail address, confirmed by a code sent to the new address.
CREATE TABLE email_changes (
    account_id      INTEGER PRIMARY KEY REFERENCES accounts (id),
    new_email       TEXT NOT NULL,
    code_hash       TEXT NOT NULL,                     -- sha256 of salt + code
    salt            TEXT NOT NULL,
    expires_at      TEXT NOT NULL,
    wrong_codes     INTEGER NOT NULL DEFAULT 0,
    created_at      TEXT NOT NULL
);
