-- 0007 (PostgreSQL): a queued row is claimed before it is sent; a mail's secret is kept apart
-- from its body.

-- A sender claims due rows in one statement before sending them; the other senders skip a row
-- while its claim lasts, so a mail goes out once however many senders share the table. A claim
-- whose time has passed (its sender was killed) is taken over. Outbox claims live in a table of
-- their own (a claim rewrites a small row, not the mail's page); a sender drops its claims when
-- it takes its next batch or stops. Telegram notices are claimed in their own (small) rows.
CREATE TABLE outbox_claims (
    outbox_id     BIGINT PRIMARY KEY REFERENCES outbox (id),
    claimed_by    TEXT NOT NULL,                       -- the sender holding the row
    claimed_until TEXT NOT NULL                        -- when that claim lapses
);
CREATE INDEX outbox_claims_by ON outbox_claims (claimed_by);
ALTER TABLE telegram_notices ADD COLUMN claimed_by TEXT;
ALTER TABLE telegram_notices ADD COLUMN claimed_until TEXT;
-- The notices claimed right now (a few): a sender's own, and the chats being written to.
CREATE INDEX telegram_notices_claimed ON telegram_notices (claimed_until)
    WHERE claimed_until IS NOT NULL;

-- The temporary password or verification code of a mail: body_text holds "[secret]" where it
-- goes. Kept only until the server accepts the mail or refuses it for good, then NULL.
ALTER TABLE outbox ADD COLUMN secret TEXT;
ALTER TABLE outbox ADD COLUMN secret_dropped_at TEXT;     -- when the secret was deleted

-- Mails queued before this migration carry the secret inside body_text: it moves to its column
-- (the rest of the line after the label; the SQLite file's substr/instr arithmetic).
UPDATE outbox SET secret = split_part(
        substr(body_text, strpos(body_text, 'Password temporanea: ') + 21), chr(10), 1)
    WHERE kind = 'temp_password' AND strpos(body_text, 'Password temporanea: ') > 0;
UPDATE outbox SET secret = split_part(
        substr(body_text, strpos(body_text, 'Temporary password: ') + 20), chr(10), 1)
    WHERE kind = 'temp_password' AND strpos(body_text, 'Temporary password: ') > 0;
UPDATE outbox SET secret = split_part(
        substr(body_text, strpos(body_text, 'Codice di verifica: ') + 20), chr(10), 1)
    WHERE kind = 'verification_code' AND strpos(body_text, 'Codice di verifica: ') > 0;
UPDATE outbox SET secret = split_part(
        substr(body_text, strpos(body_text, 'Verification code: ') + 19), chr(10), 1)
    WHERE kind = 'verification_code' AND strpos(body_text, 'Verification code: ') > 0;
UPDATE outbox SET secret = NULL WHERE secret = '';
UPDATE outbox SET body_text = replace(body_text, ': ' || secret || chr(10), ': [secret]' || chr(10))
    WHERE secret IS NOT NULL;
-- ... and is deleted at once from the mails already delivered or refused for good.
UPDATE outbox SET secret = NULL,
        secret_dropped_at = to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"')
    WHERE secret IS NOT NULL AND status IN ('sent', 'failed');
