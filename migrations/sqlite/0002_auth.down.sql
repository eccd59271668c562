-- no-transaction
-- Reverts 0002 (SQLite): API keys lose tier and role; roles go back to admin | member |
-- viewer ('editor' becomes 'member'), rebuilding `users` as 0002 did.
PRAGMA foreign_keys = OFF;
BEGIN;

ALTER TABLE api_keys DROP COLUMN role;
ALTER TABLE api_keys DROP COLUMN tier;

CREATE TABLE users_old (
    id             TEXT NOT NULL PRIMARY KEY,
    email          TEXT NOT NULL CHECK (length(email) BETWEEN 3 AND 320),
    password_hash  TEXT NOT NULL,
    display_name   TEXT NOT NULL CHECK (length(display_name) BETWEEN 1 AND 200),
    role           TEXT NOT NULL DEFAULT 'member' CHECK (role IN ('admin', 'member', 'viewer')),
    status         TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    created_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
        CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9]Z'),
    updated_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
        CHECK (updated_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9]Z')
) STRICT;

INSERT INTO users_old (id, email, password_hash, display_name, role, status, created_at, updated_at)
SELECT id, email, password_hash, display_name,
       CASE role WHEN 'editor' THEN 'member' ELSE role END,
       status, created_at, updated_at
FROM users;

DROP TABLE users;
ALTER TABLE users_old RENAME TO users;
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

COMMIT;
PRAGMA foreign_keys = ON;
