-- 0005 (PostgreSQL): what a logged-out customer asked for (run after the login), and Telegram's
-- file ids of files that are not customer documents (the operating guide).

-- The button data or command pressed without a session: plain JSON, never a secret.
ALTER TABLE chats ADD COLUMN pending_action TEXT;     -- {"kind": "button", "data": "doc:42"} | NULL
ALTER TABLE chats ADD COLUMN pending_at TEXT;         -- when it was asked; it expires after a while

-- Telegram's file_id of an uploaded file, by a key naming exactly one built file
-- (e.g. "guide:it-<content digest>"), so the next send needs no upload.
CREATE TABLE telegram_files (
    key             TEXT PRIMARY KEY,
    file_id         TEXT NOT NULL
);
