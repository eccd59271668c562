-- no-transaction
-- 0002 auth (SQLite). Keep semantically identical to migrations/postgres/0002.
--
-- Roles become admin | editor | viewer ('member' is now 'editor'); API keys get a tier and
-- a role. SQLite cannot change a CHECK constraint, so `users` is rebuilt by SQLite's
-- documented procedure (https://sqlite.org/lang_altertable.html#otheralter): foreign keys
-- off, outside the migrator's transaction, inside this script's own.
PRAGMA foreign_keys = OFF;
BEGIN;

CREATE TABLE users_new (
    id             TEXT NOT NULL PRIMARY KEY,
    email          TEXT NOT NULL CHECK (length(email) BETWEEN 3 AND 320),
    password_hash  TEXT NOT NULL,
    display_name   TEXT NOT NULL CHECK (length(display_name) BETWEEN 1 AND 200),
    role           TEXT NOT NULL DEFAULT 'viewer' CHECK (role IN ('admin', 'editor', 'viewer')),
    status         TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    created_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
        CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9]Z'),
    updated_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
        CHECK (updated_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9]Z')
) STRICT;

INSERT INTO users_new (id, email, password_hash, display_name, role, status, created_at, updated_at)
SELECT id, email, password_hash, display_name,
       CASE role WHEN 'member' THEN 'editor' ELSE role END,
       status, created_at, updated_at
FROM users;

DROP TABLE users;
ALTER TABLE users_new RENAME TO users;
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

ALTER TABLE api_keys ADD COLUMN tier TEXT NOT NULL DEFAULT 'free'
    CHECK (tier IN ('free', 'standard', 'premium'));
-- API keys are for machines: never admin.
ALTER TABLE api_keys ADD COLUMN role TEXT NOT NULL DEFAULT 'editor'
    CHECK (role IN ('editor', 'viewer'));

COMMIT;
PRAGMA foreign_keys = ON;
