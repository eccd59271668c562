#!/usr/bin/env bash
# What PostgreSQL itself costs a GET /api/clients/{id} on Spin's terms (a benchmark: it
# prints figures and asserts nothing). pgbench, on the same machine as the server, runs
# each statement a request sends, one script at a time:
#   select-1   SELECT 1 (the round trip and protocol alone)
#   get        the GET's statement, as the clients component writes it
#   get-wrapped  the same inside crm_platform::db's row wrapper (Spin 4.0/4.1 never answer
#              a query without rows, docs/crm-host.md), as the app sends it
#   clean      deadpool's `Clean` reset, which Spin runs on every connection it lends
#              (factor-outbound-pg: `RecyclingMethod::Clean`, one lend per Connection::open)
#   rollback+clean  the same after a `ROLLBACK` (what crm-host ran before it tracked
#              transactions; outside a transaction a server WARNING)
# The extended protocol (-M extended: parse, bind, execute every time, no statement kept)
# is how tokio-postgres runs a statement given as text, on Spin and on crm-host alike.
#
# Env: CRM_BENCH_POSTGRES_URL (postgres://postgres@127.0.0.1:5432/test?sslmode=disable; a
#      database crm_floor_<random> is created there and dropped at exit), CLIENTS (10000
#      rows in a table shaped like `clients`), DURATION (5 s a script), CONNECTIONS (4),
#      THREADS (2).
set -euo pipefail
PG_URL=${CRM_BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}
CLIENTS=${CLIENTS:-10000}
DURATION=${DURATION:-5}
CONNECTIONS=${CONNECTIONS:-4}
THREADS=${THREADS:-2}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/crm-floor.XXXXXX")
DB=crm_floor_$(openssl rand -hex 6)

log() { printf '[pg-floor] %s\n' "$*" >&2; }
command -v pgbench >/dev/null || {
    log "pgbench not found: apt-get install -y postgresql-contrib (or postgresql-client)"
    apt-get install -y -qq postgresql-contrib >/dev/null 2>&1 || apt-get install -y -qq postgresql-client >/dev/null
}
cleanup() {
    psql "$PG_URL" -qAt -c "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT

psql "$PG_URL" -qAt -v ON_ERROR_STOP=1 -c "CREATE DATABASE $DB" >/dev/null
DB_URL=$(python3 -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/" + sys.argv[2])))' "$PG_URL" "$DB")
# The clients table and its primary key, as migrations/postgres/0003_clients creates them.
psql "$DB_URL" -qAt -v ON_ERROR_STOP=1 >/dev/null <<SQL
CREATE TABLE clients (
    id text PRIMARY KEY, email text NOT NULL, first_name text, last_name text, company text,
    phone text, status text NOT NULL, tags jsonb NOT NULL, notes text, source text,
    subscribed boolean NOT NULL, properties jsonb NOT NULL, created_at text NOT NULL,
    updated_at text NOT NULL, created_by text NOT NULL, version bigint NOT NULL,
    deleted_at text, erased_at text);
INSERT INTO clients
SELECT md5(n::text), 'c' || n || '@example.com', 'First', 'Last ' || n, 'Acme', '+4420712345' || (n % 100),
       'active', '["vip","beta"]', 'notes', 'import', true, '{"plan":"pro","seats":5}',
       '2026-11-26T10:00:00.000Z', '2026-11-26T10:00:00.000Z', 'user:1', 1, NULL, NULL
FROM generate_series(1, $CLIENTS) AS n;
ANALYZE clients;
SQL
ID=$(psql "$DB_URL" -qAt -c "SELECT id FROM clients ORDER BY id LIMIT 1 OFFSET $((CLIENTS / 2))")
# The statement of components/clients/src/store/mod.rs `find_live` (CLIENT_COLUMNS).
GET="SELECT c.id, c.email, c.first_name, c.last_name, c.company, c.phone, c.status, CAST(c.tags AS TEXT) AS tags, c.notes, c.source, c.subscribed, CAST(c.properties AS TEXT) AS properties, c.created_at, c.updated_at, c.created_by, c.version FROM clients c WHERE c.id = '$ID' AND c.deleted_at IS NULL"
# crates/platform/src/db/one_row.rs `wrap`.
WRAPPED="WITH __crm_q AS ($GET) SELECT __crm_n.* FROM (SELECT 1) AS __crm_one LEFT JOIN (SELECT __crm_q.*, true AS __crm_present FROM __crm_q) AS __crm_n ON true"
# deadpool-postgres `RecyclingMethod::Clean.query()`.
CLEAN="CLOSE ALL; SET SESSION AUTHORIZATION DEFAULT; RESET ALL; UNLISTEN *; SELECT pg_advisory_unlock_all(); DISCARD TEMP; DISCARD SEQUENCES;"
echo "SELECT 1;" >"$WORK/select-1.sql"
echo "$GET;" >"$WORK/get.sql"
echo "$WRAPPED;" >"$WORK/get-wrapped.sql"
echo "$CLEAN" >"$WORK/clean.sql"
echo "ROLLBACK; $CLEAN" >"$WORK/rollback+clean.sql"

printf '== pgbench -c%s -j%s -T%s, %s cores, %s, server %s\n' "$CONNECTIONS" "$THREADS" "$DURATION" \
    "$(nproc)" "$(date -u +%Y-%m-%dT%H:%MZ)" "$(psql "$DB_URL" -qAt -c 'SHOW server_version')"
printf '%-16s %10s %12s\n' script 'per s' 'µs (2 cores)'
for script in select-1 get get-wrapped clean rollback+clean; do
    mode=extended
    [[ $script == *clean ]] && mode=simple # a multi-statement reset is one simple query
    tps=$(pgbench "$DB_URL" -n -M "$mode" -c "$CONNECTIONS" -j "$THREADS" -T "$DURATION" \
        -f "$WORK/$script.sql" 2>/dev/null | awk '/^tps/ {print $3}')
    # Machine time per run: both cores' worth of a second over the rate (pgbench included).
    printf '%-16s %10.0f %12.0f\n' "$script" "$tps" "$(awk -v t="$tps" -v n="$(nproc)" 'BEGIN { print n * 1e6 / t }')"
done
log "the figures include pgbench's own CPU on the same cores (an upper bound per statement)"
