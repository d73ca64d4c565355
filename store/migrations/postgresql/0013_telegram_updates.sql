-- 0013 (PostgreSQL): the Telegram updates already handled, by update_id, so that a delivery
-- Telegram repeats (no 200 in time, or sent to another replica) is answered once. Written after
-- the update was handled, inside the chat's turn; rows older than two days are pruned (Telegram
-- gives up on an update after 24 hours). Timestamps are ISO text, as in every other table.
CREATE TABLE telegram_updates (
    update_id   BIGINT PRIMARY KEY,
    handled_at  TEXT NOT NULL
);
CREATE INDEX telegram_updates_handled_at ON telegram_updates (handled_at);
