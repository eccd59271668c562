-- Reverts 0004 (PostgreSQL). Keep semantically identical to migrations/sqlite/0004.
-- Loses only the copied created_at (it stays in `clients`).

DROP TRIGGER client_search_terms_fill_created_at ON client_search_terms;
DROP FUNCTION client_search_terms_fill_created_at();
DROP INDEX client_search_terms_term_created_idx;
ALTER TABLE client_search_terms DROP COLUMN created_at;
