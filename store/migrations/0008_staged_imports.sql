-- 0008: a bank file is staged in a file of its own beside the database, then applied to the live
-- tables in short transactions (store.imports). The row below exists from the moment a good file
-- is committed to being applied until its last slice is: it is how an import interrupted while
-- being applied (a crash, kill -9) is finished by the next one. At most one row at a time.

CREATE TABLE staged_imports (
    id          INTEGER PRIMARY KEY,
    target      TEXT NOT NULL CHECK (target IN ('customers', 'contracts', 'documents')),
    source      TEXT NOT NULL,                     -- the file's name, for the staff's messages
    at          TEXT NOT NULL,                     -- the import's time: updated_at, published_at
    notify      INTEGER NOT NULL DEFAULT 0,        -- 1: a notice for each document first published
    staged      INTEGER NOT NULL,                  -- rows in the staging file
    applied     INTEGER NOT NULL DEFAULT 0,        -- staged rows applied so far, in their order
    before_id   INTEGER NOT NULL,                  -- the target's highest id when applying began
    changed     INTEGER NOT NULL DEFAULT 0,        -- rows inserted or updated so far
    notices     INTEGER NOT NULL DEFAULT 0         -- publication notices queued so far
);
