-- 0004: the durable queue of Telegram publication notices.
-- (A chat that blocked the bot is flagged in chats.notices_stopped_at, migration 0002.)

-- One row per notice message to one chat. Written in the same transaction that marks the
-- `notices` rows processed, so a process killed mid fan-out neither loses nor repeats one.
CREATE TABLE telegram_notices (
    id            INTEGER PRIMARY KEY,
    dedup_key     TEXT NOT NULL UNIQUE,                -- one notice group to one chat, once
    chat_id       TEXT NOT NULL,
    customer_id   INTEGER NOT NULL REFERENCES customers (id),
    body          TEXT NOT NULL,                       -- rendered in the customer's language
    buttons       TEXT NOT NULL DEFAULT '[]',          -- JSON: [[label, callback_data], ...]
    status        TEXT NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'sent', 'dropped')),
    attempts      INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error    TEXT,
    created_at    TEXT NOT NULL,
    sent_at       TEXT
);
CREATE INDEX telegram_notices_due ON telegram_notices (status, next_attempt_at);

CREATE INDEX communications_unread ON communications (customer_id, read_at);
