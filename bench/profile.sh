#!/usr/bin/env bash
# CPU profile of crm-host under the bench/run.sh load: `perf record -g` on the crm-host process
# while wrk loads the hello fixture on 127.0.0.1, then the top of `perf report --stdio`.
#
# Env: DURATION (10s, the recording window), WARMUP (2s), THREADS, CONNECTIONS, TOP (40 lines),
#      PERF_CALL_GRAPH (fp; `dwarf` gives better Rust stacks but much bigger data),
#      CRM_HOST_ARGS, KEEP_LOGS=1 (keeps perf.data too).
# Frames inside JIT-compiled Wasm are named through the perf map crm-host writes with
# CRM_HOST_PERFMAP=1 (wasmtime's perfmap profiling strategy, /tmp/perf-<pid>.map).
set -euo pipefail
# shellcheck source=common.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
trap cleanup EXIT

TOP=${TOP:-40}
PERF_CALL_GRAPH=${PERF_CALL_GRAPH:-fp}

check_durations
ensure_apt wrk wrk
ensure_apt curl curl
ensure_apt perf linux-perf
ensure_toolchain
build_hello_wasm
build_crm_host

port=$(free_port)
url="http://$HOST:$port/"
export CRM_HOST_PERFMAP=1
# shellcheck disable=SC2086 # CRM_HOST_ARGS is a list of flags
start_server crm-host "$CRM_HOST_BIN" up --from "$ROOT/bench/spin.toml" --listen "$HOST:$port" \
    --state-dir "$WORK/crm-host/.spin" \
    ${CRM_HOST_ARGS:-}
wait_ready crm-host "$url" || die "crm-host did not start"
load "$url" "$WARMUP" "$WORK/warmup.wrk"

secs=$(seconds "$DURATION")
log "recording crm-host (pid $SERVER_PID) for ${secs}s under wrk -t$THREADS -c$CONNECTIONS"
timeout --kill-after=5 "$((secs + 30))" \
    perf record --call-graph "$PERF_CALL_GRAPH" -F 999 -p "$SERVER_PID" \
    -o "$WORK/perf.data" -- sleep "$secs" 2>"$WORK/perf-record.log" &
perf_pid=$!
load "$url" "$DURATION" "$WORK/profile.wrk"
wait "$perf_pid" || {
    cat "$WORK/perf-record.log" >&2
    die "perf record failed (perf_event_paranoid=$(cat /proc/sys/kernel/perf_event_paranoid))"
}
stop_server
grep -E '^Requests/sec|^ +(50|99)%' "$WORK/profile.wrk" || true

printf '\n== perf report (self time, top %s lines)\n' "$TOP"
perf report --stdio --no-children --fields overhead,dso,sym --percent-limit 0.5 -g none \
    -i "$WORK/perf.data" 2>/dev/null | grep -v -e '^#' -e '^$' | sed -E 's/ {2,}/  /g; s/ +$//' | head -n "$TOP"
printf '\n== perf report (by DSO)\n'
perf report --stdio --no-children --fields overhead,dso -g none -i "$WORK/perf.data" 2>/dev/null |
    grep -v -e '^#' -e '^$' | sed -E 's/ {2,}/  /g; s/ +$//' | head -n 15
