# Shared by bench/run.sh and bench/profile.sh (sourced, not run). Loopback addresses only.
# shellcheck shell=bash
# shellcheck disable=SC2034 # the settings below are read by the scripts that source this file

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1

DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-2s}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-32}
CACHE=${CRM_BENCH_CACHE:-$HOME/.cache/crm-bench}
WASMTIME_VERSION=48.0.8
# bench/spin.toml names ../target/..., so the workspace's own target dir is used.
TARGET_DIR=$ROOT/target
HELLO_WASM=$TARGET_DIR/wasm32-wasip2/release/fixture_hello.wasm
CRM_HOST_BIN=$TARGET_DIR/release/crm-host
NATIVE_BIN=$TARGET_DIR/release/native-hello
WASMTIME_BIN=${WASMTIME:-$CACHE/bin/wasmtime}
HOST=127.0.0.1

# Servers run as in production, without backtrace capture: an inherited RUST_BACKTRACE=1
# (set on this development VM) makes wasmtime capture a backtrace on every request when it
# disposes of the guest's fiber (std::backtrace::Backtrace::capture), a cost no deployment pays.
unset RUST_BACKTRACE RUST_LIB_BACKTRACE

WORK=$(mktemp -d "${TMPDIR:-/tmp}/crm-bench.XXXXXX")
SERVER_PID=

log() { printf '[bench] %s\n' "$*" >&2; }
die() {
    log "error: $*"
    exit 1
}

# seconds DURATION: wrk's duration ("10s", "2m", "30") in whole seconds; refuses anything else.
seconds() {
    local value=$1
    [[ $value =~ ^([0-9]+)([smh]?)$ ]] || die "bad duration '$value' (use e.g. 10s or 1m)"
    local n=${BASH_REMATCH[1]}
    case ${BASH_REMATCH[2]} in
        m) n=$((n * 60)) ;;
        h) n=$((n * 3600)) ;;
    esac
    echo "$n"
}

# The load is bounded: at most 10 minutes per measurement.
check_durations() {
    local d w
    d=$(seconds "$DURATION")
    w=$(seconds "$WARMUP")
    ((d >= 1 && d <= 600)) || die "DURATION must be 1s..10m, got $DURATION"
    ((w <= 60)) || die "WARMUP must be at most 60s, got $WARMUP"
}

ensure_toolchain() {
    # RUSTUP_AUTO_INSTALL=0: install what rust-toolchain.toml lists, explicitly.
    rustup toolchain install >/dev/null 2>&1 || rustup toolchain install
    rustup target add wasm32-wasip2 >/dev/null 2>&1 || rustup target add wasm32-wasip2
}

# ensure_apt COMMAND PACKAGE: install a Debian package when its command is missing.
ensure_apt() {
    command -v "$1" >/dev/null 2>&1 && return 0
    log "$1 not found: apt-get install -y $2"
    if [[ $(id -u) -eq 0 ]]; then
        apt-get update -qq && apt-get install -y -qq "$2" >/dev/null
    else
        sudo apt-get update -qq && sudo apt-get install -y -qq "$2" >/dev/null
    fi
    command -v "$1" >/dev/null 2>&1 || die "$1 is still missing after installing $2"
}

build_hello_wasm() {
    log "building the hello fixture (wasm32-wasip2, release)"
    cargo build --quiet --target wasm32-wasip2 --release -p fixture-hello
    [[ -f $HELLO_WASM ]] || die "$HELLO_WASM was not produced"
}

build_crm_host() {
    log "building crm-host (release)"
    cargo build --quiet --release -p crm-host
}

build_native() {
    log "building native-hello (release)"
    cargo build --quiet --release -p native-hello
}

ensure_wasmtime() {
    if [[ -x $WASMTIME_BIN ]] && "$WASMTIME_BIN" --version | grep -q " $WASMTIME_VERSION"; then
        return 0
    fi
    log "installing wasmtime-cli $WASMTIME_VERSION into $CACHE (slow: ~15-25 min on 2 cores)"
    cargo install wasmtime-cli --version "$WASMTIME_VERSION" --locked --root "$CACHE"
    WASMTIME_BIN=$CACHE/bin/wasmtime
}

# free_port: a TCP port on 127.0.0.1 nobody listens on.
free_port() {
    local port
    for port in $(shuf -i 20000-60000 -n 50); do
        if ! (exec 3<>"/dev/tcp/$HOST/$port") 2>/dev/null; then
            echo "$port"
            return 0
        fi
    done
    die "no free port found"
}

# start_server NAME COMMAND...: run COMMAND in the background (cwd: a scratch dir), log to
# $WORK/NAME.log, set SERVER_PID.
start_server() {
    local name=$1
    shift
    mkdir -p "$WORK/$name"
    (cd "$WORK/$name" && exec "$@") >"$WORK/$name.log" 2>&1 &
    SERVER_PID=$!
}

stop_server() {
    [[ -n $SERVER_PID ]] || return 0
    if kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID" 2>/dev/null || true
        local _
        for _ in $(seq 1 50); do
            kill -0 "$SERVER_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$SERVER_PID" 2>/dev/null || true
    fi
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
}

cleanup() {
    stop_server
    if [[ ${KEEP_LOGS:-0} == 1 ]]; then
        log "logs kept in $WORK"
    else
        rm -rf "$WORK"
    fi
}

# wait_ready NAME URL: poll URL until it answers 2xx (at most ~30 s), while the server lives.
wait_ready() {
    local name=$1 url=$2 _
    for _ in $(seq 1 150); do
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            log "$name exited before answering; last lines of its log:"
            tail -n 20 "$WORK/$name.log" >&2 || true
            return 1
        fi
        if curl -fsS -m 2 -o "$WORK/$name.body" "$url" 2>/dev/null; then
            log "$name answers $url: $(head -c 60 "$WORK/$name.body" | tr '\n' ' ')"
            return 0
        fi
        sleep 0.2
    done
    log "$name did not answer $url within 30 s; last lines of its log:"
    tail -n 20 "$WORK/$name.log" >&2 || true
    return 1
}

# load URL SECONDS OUT: wrk with the fixed shape, killed if it overruns.
load() {
    local url=$1 duration=$2 out=$3 secs
    secs=$(seconds "$duration")
    timeout --kill-after=5 "$((secs + 30))" \
        wrk -t"$THREADS" -c"$CONNECTIONS" -d"$duration" --latency "$url" >"$out"
}
