-- 0004 search terms carry their client's created_at (SQLite). Keep semantically identical
-- to migrations/postgres/0004.
--
-- A word search in the default order (`created_at, id`, either direction) looked up every
-- matching client to sort them; with the client's created_at beside each term, the page's
-- ids come from a covering range scan of client_search_terms_term_created_idx and only
-- those clients are read. A client's created_at never changes, and the rows of a
-- soft-deleted client are removed as before, so the copy cannot go stale.
--
-- SQLite cannot add a NOT NULL column without a default, so the table is rebuilt (nothing
-- references it, so foreign keys stay on and the migrator's transaction is enough).
--
-- A writer that gives no created_at (the previous release, during a rollout) gets the
-- client's, as on PostgreSQL. SQLite checks NOT NULL before AFTER triggers and a BEFORE
-- trigger cannot change NEW, so the BEFORE trigger inserts the completed row itself and
-- drops the original (RAISE(IGNORE)); the nested insert gives created_at, so it does not
-- fire the trigger again. Without such a client created_at stays NULL and the insert fails.

CREATE TABLE client_search_terms_0004 (
    term       TEXT NOT NULL CHECK (length(term) BETWEEN 1 AND 320),
    client_id  TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    PRIMARY KEY (term, client_id)
) STRICT;

INSERT INTO client_search_terms_0004 (term, client_id, created_at)
SELECT s.term, s.client_id, c.created_at
FROM client_search_terms s JOIN clients c ON c.id = s.client_id;

DROP TABLE client_search_terms;

ALTER TABLE client_search_terms_0004 RENAME TO client_search_terms;

CREATE INDEX client_search_terms_client_idx ON client_search_terms (client_id);

CREATE INDEX client_search_terms_term_created_idx
    ON client_search_terms (term, created_at, client_id);

CREATE TRIGGER client_search_terms_fill_created_at
BEFORE INSERT ON client_search_terms
FOR EACH ROW WHEN NEW.created_at IS NULL
BEGIN
    INSERT INTO client_search_terms (term, client_id, created_at)
    VALUES (NEW.term, NEW.client_id,
            (SELECT c.created_at FROM clients c WHERE c.id = NEW.client_id));
    SELECT RAISE(IGNORE);
END;
