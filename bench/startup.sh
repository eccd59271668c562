#!/usr/bin/env bash
# Start-up benchmark: how long `crm-host up` takes to serve the app's spin.toml with an empty
# compiled-module cache, then again with the cache filled. Prints figures; asserts nothing.
# Usage: bench/startup.sh   (RUNS=5 warm starts by default)
set -euo pipefail
# shellcheck source=bench/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

RUNS=${RUNS:-5}
ensure_toolchain
log "building crm-host (release) and the app's components"
cargo build --release -p crm-host >&2
"$CRM_HOST_BIN" build --from "$ROOT/spin.toml" >&2

cache=$WORK/module-cache
trap 'rm -rf "$WORK"' EXIT

# ready_ms: start crm-host, wait for its "ready in N ms" banner, stop it, print N.
ready_ms() {
    local port out pid ms=
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    out=$WORK/up.$port.log
    # The app grants `auth` a store of its own, which a runtime config must define.
    printf '[key_value_store.auth]\ntype = "spin"\npath = "state/auth_key_value.db"\n' \
        >"$WORK/runtime-config.toml"
    "$CRM_HOST_BIN" up --from "$ROOT/spin.toml" --listen "$HOST:$port" \
        --runtime-config-file "$WORK/runtime-config.toml" \
        --state-dir "$WORK/state" --cache-dir "$cache" >"$out" 2>&1 &
    pid=$!
    for _ in $(seq 1 600); do
        ms=$(sed -n 's/^Serving .* (ready in \([0-9]*\) ms)$/\1/p' "$out")
        [[ -n $ms ]] && break
        sleep 0.1
    done
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    [[ -n $ms ]] || die "crm-host did not start: $(cat "$out")"
    echo "$ms"
}

cold=$(ready_ms)
warm=()
for _ in $(seq 1 "$RUNS"); do
    warm+=("$(ready_ms)")
done
printf '\n== crm-host start-up, app spin.toml, %s\n' "$(date -u +%Y-%m-%dT%H:%MZ)"
printf 'cold (empty module cache): %6s ms\n' "$cold"
printf 'warm (cached), %s runs:     %s ms\n' "$RUNS" "${warm[*]}"
