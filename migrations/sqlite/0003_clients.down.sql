-- Reverts 0003 (SQLite). Keep semantically identical to migrations/postgres/0003.
--
-- `clients` goes back to 0001's table (owned by a user), rebuilt as 0003 rebuilt it, with
-- 0001's exact definition. What this loses: client_tags, client_search_terms and
-- idempotency_keys (dropped); the clients' tags, notes, source and erased_at. Kept:
-- created_by becomes owner_user_id when it is a user's id, else (an API key's id) the
-- oldest admin's id; status is kept in user_group (so a later up restores it). An erased
-- client (e-mail null) gets the placeholder e-mail '<id>@erased.invalid' and stays
-- soft-deleted. The down fails (and changes nothing) when a client needs an owner and
-- there is no admin, or when one owner would hold two live e-mails differing only in case.

DROP TABLE idempotency_keys;
DROP TABLE client_search_terms;
DROP TABLE client_tags;

CREATE TABLE clients_0002_copy AS
SELECT c.*,
       CASE WHEN EXISTS (SELECT 1 FROM users u WHERE u.id = c.created_by) THEN c.created_by
            ELSE (SELECT a.id FROM users a WHERE a.role = 'admin'
                  ORDER BY a.created_at, a.id LIMIT 1) END AS owner_user_id
FROM clients c;

DROP TABLE clients;

CREATE TABLE clients (
    id             TEXT NOT NULL PRIMARY KEY,
    owner_user_id  TEXT NOT NULL REFERENCES users (id),
    email          TEXT NOT NULL CHECK (length(email) BETWEEN 3 AND 320),
    first_name     TEXT,
    last_name      TEXT,
    company        TEXT,
    phone          TEXT,
    subscribed     INTEGER NOT NULL CHECK (subscribed IN (0, 1)),
    user_group     TEXT,
    properties     TEXT NOT NULL DEFAULT '{}'
        CHECK (json_valid(properties) AND json_type(properties) = 'object'),
    created_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
        CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9]Z'),
    updated_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
        CHECK (updated_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9]Z'),
    deleted_at     TEXT
        CHECK (deleted_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9]Z'),
    version        INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1)
) STRICT;

INSERT INTO clients (id, owner_user_id, email, first_name, last_name, company, phone,
                     subscribed, user_group, properties, created_at, updated_at, deleted_at,
                     version)
SELECT id, owner_user_id, coalesce(email, id || '@erased.invalid'), first_name, last_name,
       company, phone, subscribed, status, properties, created_at, updated_at, deleted_at,
       version
FROM clients_0002_copy;

DROP TABLE clients_0002_copy;

-- One live client per owner and email; a soft-deleted one does not block re-creation.
CREATE UNIQUE INDEX clients_owner_email_key ON clients (owner_user_id, lower(email))
    WHERE deleted_at IS NULL;
-- Listing an owner's clients, newest first, with keyset pagination on (created_at, id).
CREATE INDEX clients_owner_created_idx ON clients (owner_user_id, created_at, id);
