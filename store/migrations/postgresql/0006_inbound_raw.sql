-- 0006 (PostgreSQL): the raw bytes of every processed support-mailbox message, kept for audit
-- and reprocessing. They are written in the same transaction as the message's inbound_mails row
-- (earlier rows kept them as files under the data folder: inbound_mails.raw_path, empty from now on).
CREATE TABLE inbound_raw (
    inbound_id    BIGINT PRIMARY KEY REFERENCES inbound_mails (id),
    raw           BYTEA NOT NULL
);
