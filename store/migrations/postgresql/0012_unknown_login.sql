-- 0012 (PostgreSQL): wrong passwords typed for a username that names no account, counted like an
-- account's, so that "Login bloccata" answers the same whether or not the username exists. The
-- username is kept only as a SHA-256 digest of what was typed.
CREATE TABLE unknown_logins (
    digest       TEXT PRIMARY KEY,
    failures     INTEGER NOT NULL,
    blocked_at   TEXT,
    updated_at   TEXT NOT NULL
);
