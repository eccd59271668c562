#!/usr/bin/env bash
# Load benchmark: one hello-world component served by crm-host and by `wasmtime serve`, and a
# native hyper server, each loaded in turn with the same wrk run on 127.0.0.1. Prints req/s,
# p50, p99 and ratios; it never asserts on them. See bench/README.md.
#
# Env: DURATION (10s), WARMUP (2s), THREADS (2), CONNECTIONS (32), CRM_BENCH_CACHE,
#      SKIP_CRM_HOST=1 / SKIP_WASMTIME=1 / SKIP_NATIVE=1, CRM_HOST_ARGS / WASMTIME_ARGS (extra
#      flags), WASMTIME (a wasmtime 48.0.8 binary to use), KEEP_LOGS=1.
set -euo pipefail
# shellcheck source=common.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
trap cleanup EXIT

check_durations
ensure_apt wrk wrk
ensure_apt curl curl
ensure_toolchain

[[ ${SKIP_CRM_HOST:-0} == 1 && ${SKIP_WASMTIME:-0} == 1 ]] || build_hello_wasm
[[ ${SKIP_CRM_HOST:-0} == 1 ]] || build_crm_host
[[ ${SKIP_WASMTIME:-0} == 1 ]] || ensure_wasmtime
[[ ${SKIP_NATIVE:-0} == 1 ]] || build_native

declare -A RPS P50 P99 NOTE
FAILED=0

# to_ms VALUE: wrk latency ("812.00us", "1.20ms", "1.01s") in milliseconds.
to_ms() {
    awk -v v="$1" 'BEGIN {
        n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
        if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000
        printf "%.2f", n }'
}

# bench NAME URL COMMAND...: start, wait, warm up, measure, stop.
bench() {
    local name=$1 url=$2
    shift 2
    printf '\n== %s: %s\n' "$name" "$*"
    start_server "$name" "$@"
    if ! wait_ready "$name" "$url"; then
        NOTE[$name]="failed to start"
        FAILED=1
        stop_server
        return 0
    fi
    load "$url" "$WARMUP" "$WORK/$name.warmup"
    load "$url" "$DURATION" "$WORK/$name.wrk"
    stop_server
    cat "$WORK/$name.wrk"
    local out=$WORK/$name.wrk
    RPS[$name]=$(awk '/^Requests\/sec:/ {print $2}' "$out")
    P50[$name]=$(to_ms "$(awk '$1 == "50%" {print $2}' "$out")")
    P99[$name]=$(to_ms "$(awk '$1 == "99%" {print $2}' "$out")")
    NOTE[$name]=$(grep -E 'Non-2xx|Socket errors' "$out" | tr -s ' ' | paste -sd ';' - || true)
}

[[ ${SKIP_CRM_HOST:-0} == 1 ]] && NOTE[crm-host]="skipped (SKIP_CRM_HOST=1)"
[[ ${SKIP_WASMTIME:-0} == 1 ]] && NOTE[wasmtime-serve]="skipped (SKIP_WASMTIME=1)"
[[ ${SKIP_NATIVE:-0} == 1 ]] && NOTE[native-hyper]="skipped (SKIP_NATIVE=1)"

if [[ ${SKIP_CRM_HOST:-0} != 1 ]]; then
    port=$(free_port)
    # shellcheck disable=SC2086 # CRM_HOST_ARGS is a list of flags
    bench crm-host "http://$HOST:$port/" \
        "$CRM_HOST_BIN" up --from "$ROOT/bench/spin.toml" --listen "$HOST:$port" \
        --state-dir "$WORK/crm-host/.spin" ${CRM_HOST_ARGS:-}
fi
if [[ ${SKIP_WASMTIME:-0} != 1 ]]; then
    port=$(free_port)
    # shellcheck disable=SC2086 # WASMTIME_ARGS is a list of flags
    bench wasmtime-serve "http://$HOST:$port/" \
        "$WASMTIME_BIN" serve --addr "$HOST:$port" -S cli=y ${WASMTIME_ARGS:-} "$HELLO_WASM"
fi
if [[ ${SKIP_NATIVE:-0} != 1 ]]; then
    port=$(free_port)
    bench native-hyper "http://$HOST:$port/" "$NATIVE_BIN" --listen "$HOST:$port"
fi

# ratio A B: A / B to two decimals, or n/a.
ratio() {
    if [[ -n $1 && -n $2 ]]; then
        awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "n/a" }'
    else
        echo "n/a"
    fi
}

printf '\n== results: wrk -t%s -c%s -d%s --latency, %s cores, %s, git %s\n' \
    "$THREADS" "$CONNECTIONS" "$DURATION" "$(nproc)" "$(date -u +%Y-%m-%dT%H:%MZ)" \
    "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo none)"
printf '%-16s %12s %10s %10s  %s\n' server 'req/s' 'p50 ms' 'p99 ms' notes
for name in crm-host wasmtime-serve native-hyper; do
    printf '%-16s %12s %10s %10s  %s\n' "$name" "${RPS[$name]:--}" "${P50[$name]:--}" \
        "${P99[$name]:--}" "${NOTE[$name]:-}"
done
printf '\ncrm-host / wasmtime-serve req/s: %s   (target >= 1.20x)\n' \
    "$(ratio "${RPS[crm-host]:-}" "${RPS[wasmtime-serve]:-}")"
printf 'native-hyper / crm-host req/s:   %s\n' \
    "$(ratio "${RPS[native-hyper]:-}" "${RPS[crm-host]:-}")"

exit "$FAILED"
