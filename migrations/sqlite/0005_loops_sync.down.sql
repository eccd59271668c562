-- Reverts 0005 (SQLite). Keep semantically identical to migrations/postgres/0005.
-- Loses the sync's bookkeeping (sent time, coalescing, backfill jobs, leases); the outbox
-- rows themselves stay.

DROP TABLE loops_backfill_jobs;
DROP TABLE loops_leases;
DROP INDEX loops_outbox_done_idx;
DROP INDEX loops_outbox_job_idx;
DROP INDEX loops_outbox_sent_idx;
DROP INDEX loops_outbox_client_created_idx;
ALTER TABLE loops_outbox DROP COLUMN job_id;
ALTER TABLE loops_outbox DROP COLUMN coalesced_into;
ALTER TABLE loops_outbox DROP COLUMN sent_at;
