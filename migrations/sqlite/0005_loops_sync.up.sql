-- 0005 the Loops.so sync (components/loops-sync, docs/loops-sync.md) (SQLite). Keep
-- semantically identical to migrations/postgres/0005.
--
-- loops_outbox gains what the sync records: when a row was sent, the newer row of the same
-- client it was folded into (only a client's newest pending change is sent), and the
-- backfill job that enqueued it. Status 'failed' is a dead letter: it stays until replayed.
--
-- loops_leases: one row per client being delivered. A drain owns a client while
-- `expires_at` is in the future (claimed with one conditional upsert), so two drains never
-- send the same client's rows at once and a client's changes reach Loops in order. A
-- crashed drain's lease simply expires.
--
-- loops_backfill_jobs: POST /api/loops/backfill; its rows in loops_outbox carry job_id.

ALTER TABLE loops_outbox ADD COLUMN sent_at TEXT
    CHECK (sent_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9]Z');
ALTER TABLE loops_outbox ADD COLUMN coalesced_into TEXT;
ALTER TABLE loops_outbox ADD COLUMN job_id TEXT;

CREATE INDEX loops_outbox_client_created_idx ON loops_outbox (client_id, created_at, id);
CREATE INDEX loops_outbox_sent_idx ON loops_outbox (sent_at) WHERE sent_at IS NOT NULL;
CREATE INDEX loops_outbox_job_idx ON loops_outbox (job_id, status) WHERE job_id IS NOT NULL;
-- Pruning: done rows past `loops_retention_days`, oldest first.
CREATE INDEX loops_outbox_done_idx ON loops_outbox (updated_at) WHERE status = 'done';

CREATE TABLE loops_leases (
    client_id   TEXT NOT NULL PRIMARY KEY,
    holder      TEXT NOT NULL CHECK (length(holder) BETWEEN 1 AND 100),
    expires_at  TEXT NOT NULL
        CHECK (expires_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9]Z')
) STRICT;

CREATE TABLE loops_backfill_jobs (
    id          TEXT NOT NULL PRIMARY KEY,
    status      TEXT NOT NULL CHECK (status IN ('running', 'enqueued')),
    -- Live clients enqueued so far, and the last client id enqueued (the keyset cursor).
    total       INTEGER NOT NULL DEFAULT 0 CHECK (total >= 0),
    cursor      TEXT,
    created_by  TEXT,
    created_at  TEXT NOT NULL
        CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9]Z'),
    updated_at  TEXT NOT NULL
        CHECK (updated_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9]Z')
) STRICT;
