-- 0003 clients (PostgreSQL). Keep semantically identical to migrations/sqlite/0003.
--
-- One client book for the organisation (docs/clients.md): `clients` loses its owner and
-- is rebuilt, and the tables behind tag filters, search and idempotent creation are added.
--
-- `clients` is rebuilt as on SQLite (same column order on both): the mapped rows are
-- copied aside, the old table is dropped, the new one created and filled. Dropping the
-- old table first keeps the generated constraint names (clients_email_check, …) those
-- of a fresh CREATE TABLE. Nothing references `clients` before this migration, and no
-- version before this one reads it, so the rebuild is safe while the previous release
-- serves. Text that is compared or sorted is COLLATE "C" (byte order, as SQLite).
--
-- Data: owner_user_id becomes created_by; user_group becomes status when it is exactly
-- one of the four statuses, else 'lead'; tags '[]'; notes, source, erased_at null.
-- A live e-mail may now be live only once in the whole book: of the live clients sharing
-- an e-mail (several owners had it), the newest (created_at, then id) stays live and the
-- others are soft-deleted now (deleted_at and updated_at now, version + 1; no outbox row:
-- the contact stays in Loops through the client that keeps it).
-- Values over the new length limits (0001 had none) are cut to fit: first_name and
-- last_name to 100 characters, company to 200; a phone over 16 characters loses spaces,
-- dots, dashes and parentheses, and is dropped (null) if still too long.
-- Search-term rows are the component's to write; none are derived here.

CREATE TABLE clients_0003_copy AS
SELECT c.*,
       CASE WHEN c.deleted_at IS NULL
                 AND row_number() OVER (PARTITION BY c.deleted_at IS NULL, c.email
                                        ORDER BY c.created_at DESC, c.id DESC) > 1
            THEN TRUE ELSE FALSE END AS superseded,
       replace(replace(replace(replace(replace(c.phone, ' ', ''), '.', ''), '-', ''), '(', ''), ')', '')
           AS phone_compact
FROM clients c;

DROP TABLE clients;

-- email is null only once erased; erased implies deleted. created_by is a user id or an
-- API key id (no foreign key: keys and users come and go, the book stays).
CREATE TABLE clients (
    id             TEXT NOT NULL PRIMARY KEY,
    email          TEXT COLLATE "C" CHECK (length(email) BETWEEN 3 AND 320),
    first_name     TEXT COLLATE "C" CHECK (length(first_name) <= 100),
    last_name      TEXT COLLATE "C" CHECK (length(last_name) <= 100),
    company        TEXT CHECK (length(company) <= 200),
    phone          TEXT CHECK (length(phone) <= 16),
    status         TEXT NOT NULL DEFAULT 'lead'
        CHECK (status IN ('lead', 'active', 'inactive', 'churned')),
    tags           JSONB NOT NULL DEFAULT '[]'
        CHECK (jsonb_typeof(tags) = 'array'),
    notes          TEXT CHECK (octet_length(notes) <= 10240),
    source         TEXT CHECK (length(source) <= 100),
    subscribed     BOOLEAN NOT NULL DEFAULT TRUE,
    properties     JSONB NOT NULL DEFAULT '{}'
        CHECK (jsonb_typeof(properties) = 'object'),
    created_at     TEXT COLLATE "C" NOT NULL DEFAULT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
        CHECK (created_at ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$'),
    updated_at     TEXT COLLATE "C" NOT NULL DEFAULT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
        CHECK (updated_at ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$'),
    created_by     TEXT NOT NULL,
    deleted_at     TEXT COLLATE "C"
        CHECK (deleted_at ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$'),
    erased_at      TEXT COLLATE "C"
        CHECK (erased_at ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$'),
    version        BIGINT NOT NULL DEFAULT 1 CHECK (version >= 1),
    CONSTRAINT clients_email_or_erased_check CHECK (email IS NOT NULL OR erased_at IS NOT NULL),
    CONSTRAINT clients_erased_is_deleted_check CHECK (erased_at IS NULL OR deleted_at IS NOT NULL)
);

INSERT INTO clients (id, email, first_name, last_name, company, phone, status, subscribed,
                     properties, created_at, updated_at, created_by, deleted_at, version)
SELECT id, email, substr(first_name, 1, 100), substr(last_name, 1, 100), substr(company, 1, 200),
       CASE WHEN length(phone) <= 16 THEN phone
            WHEN length(phone_compact) <= 16 THEN phone_compact END,
       CASE WHEN user_group IN ('lead', 'active', 'inactive', 'churned') THEN user_group
            ELSE 'lead' END,
       subscribed, properties, created_at,
       CASE WHEN superseded THEN to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') ELSE updated_at END,
       owner_user_id,
       CASE WHEN superseded THEN to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') ELSE deleted_at END,
       CASE WHEN superseded THEN version + 1 ELSE version END
FROM clients_0003_copy;

DROP TABLE clients_0003_copy;

-- Every index but the key serves live clients only (every read filters deleted_at IS NULL).
-- One live e-mail in the book (e-mails are stored trimmed and lowercased).
CREATE UNIQUE INDEX clients_live_email_key ON clients (email) WHERE deleted_at IS NULL;
-- Default order (created_at, id), -created_at, created_after/before, export.
CREATE INDEX clients_live_created_idx ON clients (created_at, id) WHERE deleted_at IS NULL;
-- ?status= with the default order.
CREATE INDEX clients_live_status_created_idx ON clients (status, created_at, id)
    WHERE deleted_at IS NULL;
-- sort=last_name: the query orders by exactly `coalesce(last_name, ''), id`.
CREATE INDEX clients_live_last_name_idx ON clients (coalesce(last_name, ''), id)
    WHERE deleted_at IS NULL;
-- sort=email.
CREATE INDEX clients_live_email_idx ON clients (email, id) WHERE deleted_at IS NULL;

-- The tag filter's index; clients.tags stays the representation. Rows exist only for
-- live clients (the component deletes them on soft delete and erasure).
CREATE TABLE client_tags (
    client_id  TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    tag        TEXT COLLATE "C" NOT NULL CHECK (length(tag) BETWEEN 1 AND 32),
    PRIMARY KEY (client_id, tag)
);

CREATE INDEX client_tags_tag_idx ON client_tags (tag, client_id);

-- Search: one row per word (and whole e-mail, and e-mail domain) of a live client;
-- a word prefix is the range `term >= $1 AND term < $2` on the key.
CREATE TABLE client_search_terms (
    term       TEXT COLLATE "C" NOT NULL CHECK (length(term) BETWEEN 1 AND 320),
    client_id  TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    PRIMARY KEY (term, client_id)
);

CREATE INDEX client_search_terms_client_idx ON client_search_terms (client_id);

-- POST /api/clients with Idempotency-Key: the first answer, kept per caller and key until
-- expires_at. client_id has no foreign key: the answer is kept (and replayed) as it was.
CREATE TABLE idempotency_keys (
    principal      TEXT NOT NULL,
    idem_key       TEXT NOT NULL CHECK (length(idem_key) BETWEEN 1 AND 255),
    request_hash   TEXT NOT NULL,
    status         BIGINT NOT NULL,
    response_body  TEXT NOT NULL,
    client_id      TEXT,
    created_at     TEXT COLLATE "C" NOT NULL DEFAULT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
        CHECK (created_at ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$'),
    expires_at     TEXT COLLATE "C" NOT NULL
        CHECK (expires_at ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$'),
    PRIMARY KEY (principal, idem_key)
);

CREATE INDEX idempotency_keys_expires_idx ON idempotency_keys (expires_at);
CREATE INDEX idempotency_keys_client_idx ON idempotency_keys (client_id);
