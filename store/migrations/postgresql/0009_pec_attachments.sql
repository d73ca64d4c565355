-- 0009 (PostgreSQL): what the support mailbox reads inside a mail, kept with its record: the PEC
-- certificate (of an envelope around a customer's mail, or of a receipt about a mail we sent)
-- and the description of each attachment (the bytes stay in inbound_raw, found again by sha256).

CREATE TABLE pec_certificates (
    inbound_id    BIGINT PRIMARY KEY REFERENCES inbound_mails (id),
    kind          TEXT NOT NULL,                       -- posta-certificata, errore (envelopes); accettazione, avvenuta-consegna, errore-consegna, ... (receipts)
    sender        TEXT NOT NULL DEFAULT '',            -- daticert.xml <mittente>
    delivered_to  TEXT NOT NULL DEFAULT '',            -- <consegna> of a receipt, comma-separated
    provider      TEXT NOT NULL DEFAULT '',            -- <gestore-emittente>
    certified_at  TEXT,                                -- <data>: when the provider certified it (ISO, the provider's offset)
    identifier    TEXT NOT NULL DEFAULT '',            -- <identificativo>
    message_id    TEXT,                                -- <msgid>: the certified mail's Message-ID
    refers_to     TEXT,                                -- the mail a receipt certifies (X-Riferimento-Message-ID)
    outbox_id     BIGINT REFERENCES outbox (id),       -- that mail, when we sent it
    error         TEXT NOT NULL DEFAULT ''             -- <postacert errore> and <errore-esteso>
);
CREATE INDEX pec_certificates_refers_to ON pec_certificates (refers_to);

CREATE TABLE inbound_attachments (
    inbound_id    BIGINT NOT NULL REFERENCES inbound_mails (id),
    number        INTEGER NOT NULL,                    -- 1, 2, ... in the mail's order
    filename      TEXT NOT NULL,                       -- made safe: no folders, no control characters
    content_type  TEXT NOT NULL,                       -- as declared, never trusted
    size          BIGINT NOT NULL,                     -- decoded bytes
    sha256        TEXT NOT NULL,                       -- of the decoded bytes
    refused       TEXT NOT NULL DEFAULT '',            -- '' (accepted), too_large, too_many
    PRIMARY KEY (inbound_id, number)
);
