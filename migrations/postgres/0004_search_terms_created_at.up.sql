-- 0004 search terms carry their client's created_at (PostgreSQL). Keep semantically
-- identical to migrations/sqlite/0004.
--
-- A word search in the default order (`created_at, id`, either direction) looked up every
-- matching client to sort them: 342 primary-key probes for `q=lewand` in a 100,000-client
-- book, most of the query's time. With the client's created_at beside each term, the page's
-- ids come from an index-only range scan of client_search_terms_term_created_idx and only
-- those clients are read (pgbench, same query: 640 → 1,400 searches/s on 2 cores).
-- A client's created_at never changes, and the rows of a soft-deleted client are removed
-- as before, so the copy cannot go stale.
--
-- The previous release inserts terms without created_at while it still serves during a
-- rollout: a trigger fills a missing value from `clients` (the new component always
-- gives it, so the trigger does not fire for it).

ALTER TABLE client_search_terms ADD COLUMN created_at TEXT COLLATE "C";

UPDATE client_search_terms s SET created_at = c.created_at
FROM clients c WHERE c.id = s.client_id;

ALTER TABLE client_search_terms ALTER COLUMN created_at SET NOT NULL;

CREATE INDEX client_search_terms_term_created_idx
    ON client_search_terms (term, created_at, client_id);

CREATE FUNCTION client_search_terms_fill_created_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    SELECT c.created_at INTO NEW.created_at FROM clients c WHERE c.id = NEW.client_id;
    RETURN NEW;
END
$$;

CREATE TRIGGER client_search_terms_fill_created_at
    BEFORE INSERT ON client_search_terms
    FOR EACH ROW WHEN (NEW.created_at IS NULL)
    EXECUTE FUNCTION client_search_terms_fill_created_at();
