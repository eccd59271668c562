-- Reverts 0004 (SQLite). Keep semantically identical to migrations/postgres/0004.
-- Loses only the copied created_at (it stays in `clients`). The table is rebuilt as 0003
-- defined it.

DROP TRIGGER client_search_terms_fill_created_at;

CREATE TABLE client_search_terms_0003 (
    term       TEXT NOT NULL CHECK (length(term) BETWEEN 1 AND 320),
    client_id  TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    PRIMARY KEY (term, client_id)
) STRICT;

INSERT INTO client_search_terms_0003 (term, client_id)
SELECT term, client_id FROM client_search_terms;

DROP TABLE client_search_terms;

ALTER TABLE client_search_terms_0003 RENAME TO client_search_terms;

CREATE INDEX client_search_terms_client_idx ON client_search_terms (client_id);
