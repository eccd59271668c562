#!/usr/bin/env bash
# Clients benchmark (a benchmark, never a test: it prints figures and asserts nothing).
# Seeds CLIENTS (100,000) realistic clients through POST /api/clients/import and loads
# GET /api/clients/{id}, a list page and a `q` search with wrk, on each backend set:
#   sqlite    SQLite database + SQLite key-value (the embedded defaults)
#   postgres  PostgreSQL + Redis (CRM_BENCH_POSTGRES_URL / CRM_BENCH_REDIS_URL)
# and the hello fixture on crm-host (bench/spin.toml) with the same wrk shape, for the ratio.
# Prints req/s, p50, p99 and non-2xx counts per backend set, and the issue's two targets as
# "met"/"missed" lines. See bench/README.md.
#
# Env: DURATION (10s), WARMUP (2s), THREADS (2), CONNECTIONS (16), CLIENTS (100000),
#      SEARCH_Q (lewand), SEED, SKIP_SQLITE=1 / SKIP_POSTGRES=1, CRM_HOST_ARGS (extra flags
#      for `crm-host up`), CRM_HOST (a crm-host binary to use instead of building
#      target/release/crm-host), NO_BUILD=1 (build nothing: use the binaries and wasm files
#      already built), MAX_BUSY (a percentage: before each set's seeding and each
#      measurement, wait up to QUIET_WAIT=600 s until the CPU, sampled for 2 s while this
#      script's servers idle, is less busy than that), KEEP_LOGS=1,
#      CRM_BENCH_POSTGRES_URL (postgres://postgres@127.0.0.1:5432/test?sslmode=disable: a
#      fresh database crm_bench_<random> is created on that server and dropped at exit,
#      unless KEEP_DB=1),
#      CRM_BENCH_REDIS_URL (redis://127.0.0.1:6379: databases CRM_BENCH_REDIS_DB (5) and
#      the next one (6) are flushed at start and at exit), ROUNDS (3: the hello fixture and
#      GET /api/clients/{id} are measured in that many alternating pairs; the ratio is the
#      median of the pairs' ratios, the table shows that pair; so are the response cache's
#      and the limiter's rows), HOT (100: ids in the cache rows' hot set), SKIP_CACHE=1.
# The rows above the cache rows measure the routes' database path: the response cache is
# off for them (response_cache_enabled=false); the cache rows restart the app on the same
# data with it on and off, and with the rate limiter off.
set -euo pipefail
CONNECTIONS=${CONNECTIONS:-16}
# shellcheck source=common.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

CLIENTS=${CLIENTS:-100000}
CHUNK=10000
SEARCH_Q=${SEARCH_Q:-lewand}
SEED=${SEED:-20261126}
PG_URL=${CRM_BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}
REDIS_URL=${CRM_BENCH_REDIS_URL:-redis://127.0.0.1:6379}
REDIS_DB=${CRM_BENCH_REDIS_DB:-5}
ROUNDS=${ROUNDS:-3}
HOT=${HOT:-100}
# Variables (as SPIN_VARIABLE_* env) of the next app_start: the cache rows change them.
APP_MODE_ENV=("SPIN_VARIABLE_RESPONSE_CACHE_ENABLED=false")
ADMIN_EMAIL=bench-admin@example.com
ADMIN_PASSWORD=bench-$(openssl rand -hex 16)
APP_MANIFEST=$ROOT/spin.toml

APP_PID=
HELLO_PID=
PG_DB=
REDIS_FLUSH=()

# Stop both servers, drop the PostgreSQL database, flush the Redis databases, remove $WORK.
# shellcheck disable=SC2317 # run by the EXIT trap
on_exit() {
    local pid
    for pid in "$HELLO_PID" "$APP_PID"; do
        [[ -n $pid ]] || continue
        SERVER_PID=$pid
        stop_server
    done
    HELLO_PID='' APP_PID=''
    if [[ -n $PG_DB && ${KEEP_DB:-0} == 1 ]]; then
        log "KEEP_DB=1: database $PG_DB kept (drop it with: DROP DATABASE $PG_DB)"
    elif [[ -n $PG_DB ]]; then
        if psql "$PG_URL" -qAt -v ON_ERROR_STOP=1 \
            -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null 2>&1; then
            log "dropped database $PG_DB"
        else
            log "could not drop database $PG_DB"
        fi
    fi
    local url
    for url in "${REDIS_FLUSH[@]}"; do
        redis-cli -u "$url" FLUSHDB >/dev/null 2>&1 || true
    done
    cleanup
}
trap on_exit EXIT

# to_ms VALUE: wrk latency ("812.00us", "1.20ms", "1.01s") in milliseconds (as bench/run.sh).
to_ms() {
    awk -v v="$1" 'BEGIN {
        n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
        if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000
        printf "%.2f", n }'
}

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# cpu_busy: percent of all cores busy over the next 2 s (from /proc/stat). Taken while none of
# this script's servers is loaded, it is what others (compilers, other agents) use.
cpu_busy() {
    local a b
    a=$(awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6}' /proc/stat)
    sleep 2
    b=$(awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6}' /proc/stat)
    awk -v a="$a" -v b="$b" 'BEGIN {
        split(a, x, " "); split(b, y, " ")
        busy = y[1] - x[1]; idle = y[2] - x[2]
        printf "%.0f", (busy + idle > 0) ? 100 * busy / (busy + idle) : 0 }'
}

# cpu_jiffies: busy and total jiffies of the machine so far (/proc/stat).
cpu_jiffies() {
    awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9}' /proc/stat
}

# own_jiffies PID...: "pid jiffies" lines for the system under test and the load: the given
# processes (the server), every postgres and redis-server process, and ("self") the CPU of
# this script's waited-for children (wrk).
own_jiffies() {
    local pid
    for pid in "$@" $(pgrep -x postgres) $(pgrep -x redis-server); do
        awk -v pid="$pid" '{ sub(/^.*\) /, ""); print pid, $12 + $13 }' "/proc/$pid/stat" 2>/dev/null || true
    done
    echo "self $(awk '{ sub(/^.*\) /, ""); print $14 + $15 }' "/proc/$$/stat")"
}

# others_share CPU0 CPU1 OWN0 OWN1: percent of the machine used between the two samples by
# anything else (a process of ours that ended between them counts as others: an upper bound).
others_share() {
    awk -v a="$1" -v b="$2" -v f0="$3" -v f1="$4" 'BEGIN {
        while ((getline line < f0) > 0) { split(line, x, " "); before[x[1]] = x[2] }
        while ((getline line < f1) > 0) {
            split(line, x, " ")
            d = (x[1] in before) ? x[2] - before[x[1]] : x[2]
            if (d > 0) own += d
        }
        split(a, x, " "); split(b, y, " "); total = y[2] - x[2]
        others = (y[1] - x[1]) - own
        if (others < 0) others = 0
        pct = (total > 0) ? 100 * others / total : 0
        printf "%.0f", (pct > 100) ? 100 : pct }'
}

# wait_quiet: with MAX_BUSY set, wait (at most QUIET_WAIT s) until others use less than
# MAX_BUSY % of the CPU; sets BUSY to the last figure.
wait_quiet() {
    local waited=0 limit=${QUIET_WAIT:-600}
    BUSY=$(cpu_busy)
    [[ -n ${MAX_BUSY:-} ]] || return 0
    while ((BUSY >= MAX_BUSY)); do
        if ((waited >= limit)); then
            log "CPU still ${BUSY}% busy after ${limit}s of waiting: measuring anyway"
            return 0
        fi
        ((waited % 30 == 0)) && log "waiting for a quiet CPU (< ${MAX_BUSY}% busy; now ${BUSY}%, load $(loadavg))"
        sleep 3
        waited=$((waited + 5))
        BUSY=$(cpu_busy)
    done
}

# url_host_port URL: host:port of a postgres:// URL (5432 when it names no port).
url_host_port() {
    local rest=${1#*://}
    rest=${rest%%[/?]*}
    rest=${rest##*@}
    [[ $rest == *:* ]] || rest=$rest:5432
    echo "$rest"
}

# url_with_path URL PATH: URL with its path (a PostgreSQL database, a Redis database
# number) replaced, its query kept.
url_with_path() {
    local url=$1 path=$2 base query=''
    base=${url%%\?*}
    [[ $url == *\?* ]] && query="?${url#*\?}"
    local rest=${base#*://}
    echo "${base%%://*}://${rest%%/*}/${path}${query}"
}

check_durations
[[ $CLIENTS =~ ^[0-9]+$ && $CLIENTS -ge 1 ]] || die "CLIENTS must be a positive number"
ensure_apt wrk wrk
ensure_apt curl curl
ensure_apt jq jq
ensure_apt python3 python3
[[ -z ${CRM_HOST:-} ]] || CRM_HOST_BIN=$(realpath "$CRM_HOST")
if [[ ${NO_BUILD:-0} == 1 ]]; then
    log "NO_BUILD=1: using $CRM_HOST_BIN and the wasm files already built"
else
    ensure_toolchain
    build_hello_wasm
    [[ -n ${CRM_HOST:-} ]] || build_crm_host
    log "building the app's components (crm-host build: release wasm)"
    if ! "$CRM_HOST_BIN" build --from "$APP_MANIFEST" >"$WORK/build.log" 2>&1; then
        tail -n 30 "$WORK/build.log" >&2
        die "crm-host build failed"
    fi
fi
[[ -x $CRM_HOST_BIN ]] || die "$CRM_HOST_BIN is missing"

log "generating $CLIENTS clients (seed $SEED)"
GEN=$(python3 "$ROOT/bench/clients-gen.py" --count "$CLIENTS" --chunk "$CHUNK" --seed "$SEED" \
    --query "$SEARCH_Q" --out "$WORK/seed")
Q_MATCHES=$(jq -r .query_matches <<<"$GEN")
log "generated: $GEN"

declare -A RPS P50 P99 NON2XX ERRS NOTE SEED_RATE SEED_NOTE LOADS BUSIES OTHERS ROUND_RATIOS
declare -A SEARCH_RATIOS LIMITER_COSTS SEARCH_RATIO LIMITER_COST METRICS_COSTS METRICS_COST
BUSY=
SETS=()
FAILED=0

# app_start SET: start the app on SET's backends (fresh state dir), wait until ready.
app_start() {
    local set=$1 dir=$WORK/$1 port
    mkdir -p "$dir/.spin"
    # The rate limits are raised out of reach unless RATE_LIMITED=1: these figures measure
    # the routes (the limiter's own cost is measured with RATE_LIMITED=1).
    local -a app_env=(
        "SPIN_VARIABLE_BOOTSTRAP_ADMIN_EMAIL=$ADMIN_EMAIL"
        "SPIN_VARIABLE_BOOTSTRAP_ADMIN_PASSWORD=$ADMIN_PASSWORD"
    )
    app_env+=("${APP_MODE_ENV[@]}")
    if [[ ${RATE_LIMITED:-0} != 1 ]]; then
        app_env+=(
            "SPIN_VARIABLE_RATE_LIMIT_IP_LIMIT=1000000000"
            "SPIN_VARIABLE_RATE_LIMIT_TIER_FREE=1000000000"
            "SPIN_VARIABLE_RATE_LIMIT_TIER_STANDARD=1000000000"
            "SPIN_VARIABLE_RATE_LIMIT_TIER_PREMIUM=1000000000"
        )
    fi
    if [[ $set == sqlite ]]; then
        cat >"$dir/runtime-config.toml" <<EOF
[key_value_store.default]
type = "spin"
path = "$dir/.spin/sqlite_key_value.db"

[key_value_store.auth]
type = "spin"
path = "$dir/.spin/auth_key_value.db"

[sqlite_database.default]
type = "spin"
path = "$dir/.spin/sqlite_db.db"
EOF
    else
        local kv auth_kv
        kv=$(url_with_path "$REDIS_URL" "$REDIS_DB")
        auth_kv=$(url_with_path "$REDIS_URL" "$((REDIS_DB + 1))")
        cat >"$dir/runtime-config.toml" <<EOF
[key_value_store.default]
type = "redis"
url = "$kv"

[key_value_store.auth]
type = "redis"
url = "$auth_kv"
EOF
        app_env+=(
            "SPIN_VARIABLE_DATABASE_URL=$APP_PG_URL"
            "SPIN_VARIABLE_DATABASE_HOST=$(url_host_port "$APP_PG_URL")"
            "SPIN_VARIABLE_KEY_VALUE_BACKEND=redis"
        )
    fi
    port=$(free_port)
    BASE=http://$HOST:$port
    # shellcheck disable=SC2086 # CRM_HOST_ARGS is a list of flags
    start_server "$set" env "${app_env[@]}" "$CRM_HOST_BIN" up --from "$APP_MANIFEST" \
        --runtime-config-file "$dir/runtime-config.toml" --state-dir "$dir/.spin" \
        --listen "$HOST:$port" ${CRM_HOST_ARGS:-}
    APP_PID=$SERVER_PID
    wait_ready "$set" "$BASE/health/ready" || return 1
    log "$set: /health: $(curl -sS -m 5 "$BASE/health" | head -c 400)"
}

# token: a fresh admin access token (also creates the bootstrap admin on the first call).
token() {
    curl -fsS -m 30 "$BASE/api/auth/token" -H 'content-type: application/json' \
        -d "{\"email\":\"$ADMIN_EMAIL\",\"password\":\"$ADMIN_PASSWORD\"}" | jq -er .access_token
}

# seed SET TOKEN: import the generated files; prints the rate; writes $WORK/SET.ids. An
# import that runs out of its time budget (import_time_budget_ms) reports the rows it did
# not reach as not_processed: those lines are sent again until none is left.
seed() {
    local set=$1 tok=$2 file part out code t start end c u n r p round
    local created=0 updated=0 unchanged=0 rejected=0 requests=0
    : >"$WORK/$set.ids"
    start=$(date +%s.%N)
    for file in "$WORK"/seed/chunk-*.ndjson; do
        part=$file
        for ((round = 1; ; round++)); do
            out=$WORK/$set.import.json
            read -r code t < <(curl -sS -m 900 -o "$out" -w '%{http_code} %{time_total}\n' \
                -X POST "$BASE/api/clients/import" -H "authorization: Bearer $tok" \
                -H 'content-type: application/x-ndjson' --data-binary "@$part" || echo "000 0")
            requests=$((requests + 1))
            if [[ $code != 200 ]]; then
                log "$set: import of $(basename "$file") answered $code after ${t}s: $(head -c 300 "$out" 2>/dev/null)"
                SEED_NOTE[$set]="import answered $code"
                return 1
            fi
            read -r c u n r p < <(jq -r '"\(.created) \(.updated) \(.unchanged) \(.rejected) \(.not_processed)"' "$out")
            created=$((created + c)) updated=$((updated + u)) unchanged=$((unchanged + n)) rejected=$((rejected + r))
            jq -r '.rows[] | select(.status == "created") | .id' "$out" >>"$WORK/$set.ids"
            if ((r > 0)); then
                log "$set: $(basename "$file"): $r rejected, e.g. $(jq -c '[.rows[] | select(.status == "rejected")][0]' "$out")"
            fi
            log "$set: $(basename "$file") (round $round): $c created, $p not reached in ${t}s ($(awk -v n="$c" -v t="$t" 'BEGIN { printf "%.0f", n / t }') rows/s)"
            ((p > 0)) || break
            if ((round >= 100)); then
                SEED_NOTE[$set]="$(basename "$file"): rows still not processed after $round imports"
                return 1
            fi
            # The unreached lines of this part, as the next part.
            jq -r '.rows[] | select(.status == "not_processed") | .line' "$out" >"$WORK/$set.lines"
            awk 'NR == FNR { want[$1]; next } FNR in want' "$WORK/$set.lines" "$part" >"$WORK/$set.part.ndjson.next"
            mv "$WORK/$set.part.ndjson.next" "$WORK/$set.part.ndjson"
            part=$WORK/$set.part.ndjson
        done
    done
    end=$(date +%s.%N)
    SEED_RATE[$set]=$(awk -v n="$created" -v a="$start" -v b="$end" 'BEGIN { printf "%.0f", n / (b - a) }')
    SEED_NOTE[$set]="$created created, $updated updated, $unchanged unchanged, $rejected rejected in $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }') s, $requests requests"
    printf '\n== %s: seeded %s\n   seeding rate: %s clients/s (%s rows per file)\n' \
        "$set" "${SEED_NOTE[$set]}" "${SEED_RATE[$set]}" "$CHUNK"
}

# measure KEY LOG PID URL [WRK ARGS...]: warm-up, then the measured wrk run; keeps the
# figures, the statuses the server's access log (LOG) shows for the measured run, and the CPU
# share others (not the server PID, the database servers or wrk) used during it.
measure() {
    local key=$1 server_log=$2 server_pid=$3 url=$4 secs mark cpu0 cpu1
    shift 4
    local out=$WORK/${key//\//.}.wrk
    secs=$(seconds "$DURATION")
    wait_quiet
    BUSIES[$key]=$BUSY
    printf '\n-- %s: wrk -t%s -c%s -d%s --latency %s %s (before: CPU %s%% busy, load %s)\n' \
        "$key" "$THREADS" "$CONNECTIONS" "$DURATION" "$(redact "$*")" "$url" "$BUSY" "$(loadavg)"
    timeout --kill-after=5 "$(($(seconds "$WARMUP") + 30))" \
        wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" "$@" "$url" >/dev/null || true
    mark=$(stat -c %s "$server_log")
    cpu0=$(cpu_jiffies)
    own_jiffies "$server_pid" >"$WORK/own0"
    if ! timeout --kill-after=5 "$((secs + 30))" \
        wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$@" "$url" >"$out"; then
        NOTE[$key]="wrk failed"
        cat "$out" || true
        return 0
    fi
    cpu1=$(cpu_jiffies)
    own_jiffies "$server_pid" >"$WORK/own1"
    OTHERS[$key]=$(others_share "$cpu0" "$cpu1" "$WORK/own0" "$WORK/own1")
    cat "$out"
    printf 'CPU used by others during the run: %s%% of the machine\n' "${OTHERS[$key]}"
    RPS[$key]=$(awk '/^Requests\/sec:/ {print $2}' "$out")
    P50[$key]=$(to_ms "$(awk '$1 == "50%" {print $2}' "$out")")
    P99[$key]=$(to_ms "$(awk '$1 == "99%" {print $2}' "$out")")
    NON2XX[$key]=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' "$out")
    NON2XX[$key]=${NON2XX[$key]:-0}
    ERRS[$key]=$(awk '/Socket errors:/ {sub(/^ *Socket errors: */, ""); print}' "$out")
    NOTE[$key]="statuses: $(access_statuses "$server_log" "$mark")"
}

# redact TEXT: TEXT without API key secrets.
redact() { sed -E 's/(crm_[A-Za-z0-9]{8})_[A-Za-z0-9]+/\1_<secret>/g' <<<"$1"; }

# access_statuses LOG FROM_BYTE: HTTP status counts in LOG's access lines from FROM_BYTE on.
access_statuses() {
    tail -c +"$(($2 + 1))" "$1" | grep -F '"log":"access"' |
        grep -o '"status":[0-9]*' | cut -d: -f2 |
        sort | uniq -c | awk '{printf "%s%s x%s", sep, $2, $1; sep = ", "}'
}

# ratio A B: A / B to two decimals, or empty.
ratio() {
    [[ -n $1 && -n $2 ]] || return 0
    awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b }'
}

# hello_start SET: start the hello fixture on crm-host (bench/spin.toml); sets HELLO_URL.
hello_start() {
    local port name=$1-hello
    port=$(free_port)
    start_server "$name" "$CRM_HOST_BIN" up --from "$ROOT/bench/spin.toml" \
        --listen "$HOST:$port" --state-dir "$WORK/$name/.spin"
    HELLO_PID=$SERVER_PID
    SERVER_PID=$APP_PID
    HELLO_URL=http://$HOST:$port/
    wait_ready "$name" "$HELLO_URL"
}

hello_stop() {
    [[ -n $HELLO_PID ]] || return 0
    SERVER_PID=$HELLO_PID
    stop_server
    HELLO_PID=
    SERVER_PID=$APP_PID
}

# hello_and_get SET KEY: ROUNDS alternating pairs (hello fixture, then GET by id with the
# API key KEY), so that each pair sees the same machine; keeps the pair with the median
# ratio as SET/hello and SET/get, and every pair's ratio in ROUND_RATIOS[SET].
hello_and_get() {
    local set=$1 key=$2 r ratios=() k
    if ! hello_start "$set"; then
        NOTE[$set/hello]="failed to start"
        hello_stop
        return 0
    fi
    for ((r = 1; r <= ROUNDS; r++)); do
        measure "$set/hello#$r" "$WORK/$set-hello.log" "$HELLO_PID" "$HELLO_URL"
        CRM_BENCH_IDS=$WORK/$set.ids CRM_BENCH_HEADER="X-API-Key: $key" \
            measure "$set/get#$r" "$WORK/$set.log" "$APP_PID" "$BASE" -s "$ROOT/bench/clients-get.lua"
        ratios+=("$(ratio "${RPS[$set/get#$r]:-}" "${RPS[$set/hello#$r]:-}") $r")
    done
    hello_stop
    ROUND_RATIOS[$set]=$(printf '%s\n' "${ratios[@]}" | awk '{print $1}' | paste -sd' ')
    # The median pair (the middle one by ratio; pairs without figures sort first).
    r=$(printf '%s\n' "${ratios[@]}" | sort -n | awk -v n="${#ratios[@]}" 'NR == int((n + 1) / 2) {print $2}')
    for k in RPS P50 P99 NON2XX ERRS NOTE BUSIES OTHERS; do
        declare -n field=$k
        field[$set/hello]=${field[$set/hello#$r]:-}
        field[$set/get]=${field[$set/get#$r]:-}
        unset -n field
    done
}

# app_restart SET MODE: the app again on SET's data (same state dir or database) with the
# response cache off, on, on with the rate limiter off, or on with the /metrics counters off
# (MODE off | on | nolimit | nometrics).
app_restart() {
    local set=$1 mode=$2
    if [[ -n $APP_PID ]]; then
        SERVER_PID=$APP_PID
        stop_server
        APP_PID=''
    fi
    case $mode in
        off) APP_MODE_ENV=("SPIN_VARIABLE_RESPONSE_CACHE_ENABLED=false") ;;
        on) APP_MODE_ENV=("SPIN_VARIABLE_RESPONSE_CACHE_ENABLED=true") ;;
        nolimit) APP_MODE_ENV=("SPIN_VARIABLE_RESPONSE_CACHE_ENABLED=true" "SPIN_VARIABLE_RATE_LIMIT_ENABLED=false") ;;
        nometrics) APP_MODE_ENV=("SPIN_VARIABLE_RESPONSE_CACHE_ENABLED=true" "SPIN_VARIABLE_METRICS_NAMESPACE=") ;;
    esac
    app_start "$set" >/dev/null
}

# median_round SET ROW: the round of SET/ROW#r whose req/s is the median, copied to SET/ROW.
median_round() {
    local set=$1 row=$2 r k
    r=$(for ((n = 1; n <= ROUNDS; n++)); do echo "${RPS[$set/$row#$n]:-0} $n"; done |
        sort -n | awk -v n="$ROUNDS" 'NR == int((n + 1) / 2) {print $2}')
    for k in RPS P50 P99 NON2XX ERRS NOTE BUSIES OTHERS; do
        declare -n field=$k
        field[$set/$row]=${field[$set/$row#$r]:-}
        unset -n field
    done
}

# median_of VALUES...: the middle value (numerically); empty without values.
median_of() {
    printf '%s\n' "$@" | grep -v '^$' | sort -n | awk '{v[NR] = $1} END { if (NR) print v[int((NR + 1) / 2)] }'
}

# cache_rows SET KEY: the response cache and the rate limiter on SET's seeded data (issue
# 10). ROUNDS rounds, each: the cache off (GET by id over the HOT ids, the search), on (the
# same), and on with the limiter off (the GET). The ratios (cached / uncached search, the
# limiter's share of a cached GET) are the medians of the rounds' ratios.
cache_rows() {
    local set=$1 key=$2 r mode
    head -n "$HOT" "$WORK/$set.ids" >"$WORK/$set.hot"
    local search_url="$BASE/api/clients?q=$SEARCH_Q&limit=25"
    local search_ratios=() limiter_costs=() metrics_costs=()
    for ((r = 1; r <= ROUNDS; r++)); do
        for mode in off on nolimit nometrics; do
            app_restart "$set" "$mode" || {
                NOTE[$set/cache]="the app failed to restart ($mode)"
                return 0
            }
            search_url="$BASE/api/clients?q=$SEARCH_Q&limit=25"
            CRM_BENCH_IDS=$WORK/$set.hot CRM_BENCH_HEADER="X-API-Key: $key" \
                measure "$set/hot-$mode#$r" "$WORK/$set.log" "$APP_PID" "$BASE" -s "$ROOT/bench/clients-get.lua"
            [[ $mode == nolimit || $mode == nometrics ]] ||
                measure "$set/search-$mode#$r" "$WORK/$set.log" "$APP_PID" "$search_url" -H "X-API-Key: $key"
        done
        search_ratios+=("$(ratio "${RPS[$set/search-on#$r]:-}" "${RPS[$set/search-off#$r]:-}")")
        # The limiter's share of a cached GET: the time per request it adds over the time
        # per request with it (1/on - 1/nolimit) / (1/on) = 1 - on/nolimit.
        limiter_costs+=("$(awk -v on="${RPS[$set/hot-on#$r]:-0}" -v off="${RPS[$set/hot-nolimit#$r]:-0}" \
            'BEGIN { if (off > 0 && on > 0) printf "%.1f", 100 * (1 - on / off) }')")
        # The same for the request counters of /metrics (two KV increments per request).
        metrics_costs+=("$(awk -v on="${RPS[$set/hot-on#$r]:-0}" -v off="${RPS[$set/hot-nometrics#$r]:-0}" \
            'BEGIN { if (off > 0 && on > 0) printf "%.1f", 100 * (1 - on / off) }')")
    done
    for row in hot-off hot-on hot-nolimit hot-nometrics search-off search-on; do
        median_round "$set" "$row"
    done
    SEARCH_RATIOS[$set]="${search_ratios[*]}"
    LIMITER_COSTS[$set]="${limiter_costs[*]}"
    SEARCH_RATIO[$set]=$(median_of "${search_ratios[@]}")
    LIMITER_COST[$set]=$(median_of "${limiter_costs[@]}")
    METRICS_COSTS[$set]="${metrics_costs[*]}"
    METRICS_COST[$set]=$(median_of "${metrics_costs[@]}")
}

# run_set SET: start, seed, measure, and always stop the app (also when a step failed).
run_set() {
    SETS+=("$1")
    printf '\n==== backend set: %s\n' "$1"
    measure_set "$1" || true
    if [[ -n $APP_PID ]]; then
        SERVER_PID=$APP_PID
        stop_server
        APP_PID=''
    fi
}

measure_set() {
    local set=$1 tok key
    # The rows before the cache rows: the database path (the cache off), the limiter on.
    APP_MODE_ENV=("SPIN_VARIABLE_RESPONSE_CACHE_ENABLED=false")
    if ! app_start "$set"; then
        NOTE[$set]="the app failed to start"
        FAILED=1
        return 0
    fi
    tok=$(token) || {
        NOTE[$set]="sign-in failed"
        FAILED=1
        return 0
    }
    wait_quiet
    if ! seed "$set" "$tok"; then
        NOTE[$set]="seeding failed: ${SEED_NOTE[$set]:-}"
        FAILED=1
        return 0
    fi
    key=$(curl -fsS -m 30 "$BASE/api/api-keys" -H "authorization: Bearer $tok" \
        -H 'content-type: application/json' \
        -d '{"name":"bench","tier":"premium","role":"viewer"}' | jq -er .key) || {
        NOTE[$set]="creating an API key failed"
        FAILED=1
        return 0
    }
    local first_id
    first_id=$(head -n 1 "$WORK/$set.ids")
    log "$set: check: GET /api/clients/{id} with the API key -> $(curl -s -o /dev/null -w '%{http_code}' -H "X-API-Key: $key" "$BASE/api/clients/$first_id"); q=$SEARCH_Q first page: $(curl -fsS -H "X-API-Key: $key" "$BASE/api/clients?q=$SEARCH_Q&limit=100" | jq '.data | length') rows (the generator counts $Q_MATCHES matches)"

    LOADS[$set]=$(loadavg)
    if [[ $set == postgres ]]; then
        # Right after a bulk import PostgreSQL has no statistics for the new rows until
        # autovacuum's ANALYZE (or none at all where autovacuum is off): the search once
        # so, then ANALYZE as autovacuum would, and everything after it.
        measure "$set/search-nostats" "$WORK/$set.log" "$APP_PID" \
            "$BASE/api/clients?q=$SEARCH_Q&limit=25" -H "X-API-Key: $key"
        local t0
        t0=$(date +%s.%N)
        psql "$APP_PG_URL" -qAt -v ON_ERROR_STOP=1 -c 'ANALYZE' >/dev/null
        log "$set: ANALYZE took $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s (autovacuum on this server: $(psql "$APP_PG_URL" -qAt -c 'SHOW autovacuum'))"
    fi
    hello_and_get "$set" "$key"
    local app_log=$WORK/$set.log
    # A fresh access token (its TTL is 900 s; this run takes well under that).
    tok=$(token) || tok=none
    CRM_BENCH_IDS=$WORK/$set.ids CRM_BENCH_HEADER="Authorization: Bearer $tok" \
        measure "$set/get-bearer" "$app_log" "$APP_PID" "$BASE" -s "$ROOT/bench/clients-get.lua"
    measure "$set/list" "$app_log" "$APP_PID" "$BASE/api/clients?limit=25" -H "X-API-Key: $key"
    measure "$set/search" "$app_log" "$APP_PID" "$BASE/api/clients?q=$SEARCH_Q&limit=25" \
        -H "X-API-Key: $key"
    if [[ ${SKIP_CACHE:-0} == 1 ]]; then
        log "$set: cache rows skipped (SKIP_CACHE=1)"
    else
        cache_rows "$set" "$key"
    fi
    LOADS[$set]="${LOADS[$set]} -> $(loadavg)"
}

if [[ ${SKIP_SQLITE:-0} == 1 ]]; then
    log "sqlite: skipped (SKIP_SQLITE=1)"
else
    run_set sqlite
fi

if [[ ${SKIP_POSTGRES:-0} == 1 ]]; then
    log "postgres: skipped (SKIP_POSTGRES=1)"
else
    ensure_apt psql postgresql-client
    ensure_apt redis-cli redis-tools
    [[ $PG_URL == *sslmode=* ]] || PG_URL="$PG_URL$([[ $PG_URL == *\?* ]] && echo '&' || echo '?')sslmode=disable"
    if ! psql "$PG_URL" -qAt -c 'SELECT 1' >/dev/null 2>&1; then
        log "postgres: skipped: no PostgreSQL answers at $(url_host_port "$PG_URL")"
        SETS+=(postgres)
        NOTE[postgres]="skipped: PostgreSQL unreachable"
    elif ! redis-cli -u "$REDIS_URL" PING >/dev/null 2>&1; then
        log "postgres: skipped: no Redis answers at $REDIS_URL"
        SETS+=(postgres)
        NOTE[postgres]="skipped: Redis unreachable"
    else
        PG_DB=crm_bench_$(openssl rand -hex 6)
        psql "$PG_URL" -qAt -v ON_ERROR_STOP=1 -c "CREATE DATABASE $PG_DB" >/dev/null
        APP_PG_URL=$(url_with_path "$PG_URL" "$PG_DB")
        log "postgres: database $PG_DB; migrating"
        "$CRM_HOST_BIN" migrate up --database-url "$APP_PG_URL" --from "$APP_MANIFEST" \
            >"$WORK/migrate.log" 2>&1 || {
            tail -n 20 "$WORK/migrate.log" >&2
            die "crm-host migrate up failed"
        }
        for n in "$REDIS_DB" "$((REDIS_DB + 1))"; do
            REDIS_FLUSH+=("$(url_with_path "$REDIS_URL" "$n")")
            redis-cli -u "$(url_with_path "$REDIS_URL" "$n")" FLUSHDB >/dev/null
        done
        run_set postgres
    fi
fi


DIRTY=$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null | wc -l)
printf '\n== results: %s clients, wrk -t%s -c%s -d%s --latency (after a %s warm-up), %s cores, %s, git %s%s\n' \
    "$CLIENTS" "$THREADS" "$CONNECTIONS" "$DURATION" "$WARMUP" "$(nproc)" \
    "$(date -u +%Y-%m-%dT%H:%MZ)" "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo none)" \
    "$( ((DIRTY == 0)) || echo " + $DIRTY modified files")"
printf 'search: q=%s (the generator counts %s matching clients)\n' "$SEARCH_Q" "$Q_MATCHES"
declare -A LABEL=(
    [hello]='hello fixture (crm-host)'
    [get]='GET /api/clients/{id} (X-API-Key)'
    [get-bearer]='GET /api/clients/{id} (Bearer)'
    [list]='GET /api/clients?limit=25'
    [search]="GET /api/clients?q=$SEARCH_Q&limit=25"
    [search-nostats]="  the same before ANALYZE"
    [hot-off]="GET /api/clients/{id}, $HOT hot ids, cache off"
    [hot-on]="  the same, cache on"
    [hot-nolimit]="  the same, cache on, limiter off"
    [hot-nometrics]="  the same, cache on, /metrics counters off"
    [search-off]="GET ?q=$SEARCH_Q&limit=25, cache off"
    [search-on]="  the same, cache on"
)
for set in "${SETS[@]}"; do
    case $set in
        sqlite) title='SQLite + SQLite KV' ;;
        *) title='PostgreSQL + Redis' ;;
    esac
    printf '\n%s' "$title"
    [[ -n ${NOTE[$set]:-} ]] && printf ': %s' "${NOTE[$set]}"
    printf '\n'
    [[ -n ${SEED_RATE[$set]:-} ]] || continue
    printf '  seeding: %s clients/s (%s)\n' "${SEED_RATE[$set]}" "${SEED_NOTE[$set]}"
    printf '  load average (1/5/15 min) before -> after: %s\n' "${LOADS[$set]:-?}"
    printf '  busy%%: CPU in use in the 2 s before a run (nothing of ours loaded); others%%: CPU used\n'
    printf '  during the run by anything but crm-host, wrk, postgres and redis-server\n'
    printf '  %-40s %10s %9s %9s %8s %6s %7s  %s\n' endpoint 'req/s' 'p50 ms' 'p99 ms' 'non-2xx' \
        'busy%' 'others%' notes
    for row in hello get get-bearer list search search-nostats hot-off hot-on hot-nolimit hot-nometrics search-off search-on; do
        k=$set/$row
        [[ ($row != search-nostats && $row != hot-* && $row != search-*) || -n ${RPS[$k]:-} ]] || continue
        note=${NOTE[$k]:-}
        [[ -n ${ERRS[$k]:-} ]] && note="socket errors: ${ERRS[$k]}; $note"
        printf '  %-40s %10s %9s %9s %8s %6s %7s  %s\n' "${LABEL[$row]}" "${RPS[$k]:--}" \
            "${P50[$k]:--}" "${P99[$k]:--}" "${NON2XX[$k]:--}" "${BUSIES[$k]:--}" \
            "${OTHERS[$k]:--}" "$note"
    done
    p99=${P99[$set/search]:-}
    if [[ -n $p99 ]]; then
        verdict=$(awk -v p="$p99" 'BEGIN { print (p < 50) ? "met" : "missed" }')
        printf '  target search p99 < 50 ms: %s (%s ms)\n' "$verdict" "$p99"
    else
        printf '  target search p99 < 50 ms: not measured\n'
    fi
    r=$(ratio "${RPS[$set/get]:-}" "${RPS[$set/hello]:-}")
    if [[ -n $r ]]; then
        verdict=$(awk -v r="$r" 'BEGIN { print (r >= 0.5) ? "met" : "missed" }')
        printf '  target GET /api/clients/{id} >= 0.5x hello req/s: %s (%sx, the median of %s alternating pairs: %s)\n' \
            "$verdict" "$r" "$ROUNDS" "${ROUND_RATIOS[$set]:-}"
    else
        printf '  target GET /api/clients/{id} >= 0.5x hello req/s: not measured\n'
    fi
    [[ -n ${NOTE[$set/cache]:-} ]] && printf '  cache rows: %s\n' "${NOTE[$set/cache]}"
    r=${SEARCH_RATIO[$set]:-}
    if [[ -n $r ]]; then
        verdict=$(awk -v r="$r" 'BEGIN { print (r >= 2) ? "met" : "missed" }')
        printf '  target cached search >= 2x uncached req/s: %s (%sx, median of rounds: %s)\n' \
            "$verdict" "$r" "${SEARCH_RATIOS[$set]}"
    fi
    c=${LIMITER_COST[$set]:-}
    if [[ -n $c ]]; then
        verdict=$(awk -v c="$c" 'BEGIN { print (c <= 10) ? "met" : "missed" }')
        printf '  target limiter <= 10%% of a cached GET: %s (%s%%, median of rounds: %s)\n' \
            "$verdict" "$c" "${LIMITER_COSTS[$set]}"
    fi
    c=${METRICS_COST[$set]:-}
    if [[ -n $c ]]; then
        printf '  /metrics request counters: %s%% of a cached GET (median of rounds: %s)\n' \
            "$c" "${METRICS_COSTS[$set]}"
    fi
done

exit "$FAILED"
