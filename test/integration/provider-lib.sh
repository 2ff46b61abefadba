# SPDX-License-Identifier: Apache-2.0
#
# Helpers for the provider's integration tests. A test sources this file and
# calls `with_devices [harness options]` first: the test re-runs itself inside
# test/with-devices (a private pcscd with virtual Pico HSMs), then goes on.
#
# PICO_ORDER says in which order the providers are loaded, by `ossl`, by
# `pico_cnf` and by the test programs: default-first (`-provider default
# -provider pico`) or pico-first (`-provider pico -provider default`, pico
# first in openssl.cnf). Unset, every test runs twice, once in each order,
# each time on fresh devices: the provider must be right in both.
set -euo pipefail

: "${top_srcdir:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
export top_srcdir top_builddir
export OPENSSL_MODULES="$top_builddir/provider/.libs"
PIN=648219
SOPIN=3537363231383830

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# Runs a command, echoing it; a failure ends the test naming the command.
run() {
    echo "+ $*" >&2
    "$@" || fail "command failed (status $?): $*"
}

# Runs a command that must fail; its stderr is kept in $work/err for checks.
run_fails() {
    echo "+ (must fail) $*" >&2
    if "$@" 2>"$work/err"; then
        cat "$work/err" >&2
        fail "command succeeded but must fail: $*"
    fi
    cat "$work/err" >&2
}

with_devices() {
    local order
    if [ -z "${PICO_READER1:-}" ]; then
        if [ "$(id -u)" != 0 ]; then
            echo "SKIP: the PC/SC harness needs root (namespaces)"
            exit 77
        fi
        if [ -n "$pico_order_given" ]; then
            exec "$top_srcdir/test/with-devices" "$@" -- "$0"
        fi
        for order in default-first pico-first; do
            echo "== provider order: $order" >&2
            PICO_ORDER=$order "$top_srcdir/test/with-devices" "$@" -- "$0" ||
                fail "in provider order $order (status $?)"
        done
        exit 0
    fi
}
pico_order_given=${PICO_ORDER:-} # as the caller set it: unset runs both orders
export PICO_ORDER=${PICO_ORDER:-default-first}

# The -provider options in the order under test.
providers() {
    case "$PICO_ORDER" in
    pico-first) echo "-provider pico -provider default" ;;
    *) echo "-provider default -provider pico" ;;
    esac
}

# openssl with the pico provider beside the default one, in the order under test.
ossl() {
    local cmd=$1
    shift
    # shellcheck disable=SC2046
    openssl "$cmd" $(providers) "$@"
}

# Runs a command under valgrind's memcheck: memcheck VALGRIND-OPTION... -- COMMAND [ARG...]
# In a build with --enable-sanitizers (test/asan-check) the command runs alone: valgrind
# cannot run ASan's programs, and ASan checks the same invalid accesses and leaks there.
memcheck() {
    local opts=()
    while [ "$1" != -- ]; do
        opts+=("$1")
        shift
    done
    shift
    if sed -n 's/^CFLAGS = //p' "$top_builddir/Makefile" | grep -q -- '-fsanitize=address'; then
        "$@"
    else
        valgrind "${opts[@]}" "$@"
    fi
}

# Generates a key on the device: pico_genkey EC|RSA|X25519|... PARAM LABEL [ID]
# (PARAM "" for the types of fixed size: X25519, X448, ED25519, ED448)
pico_genkey() {
    local alg=$1 param=$2 label=$3 id=${4:-}
    local opts=(-pkeyopt "pico-label:$label" -pkeyopt "pico-uri:pico:?pin-value=$PIN")
    [ -n "$param" ] && opts+=(-pkeyopt "$param")
    [ -n "$id" ] && opts+=(-pkeyopt "pico-id:$id")
    run ossl genpkey -propquery provider=pico -algorithm "$alg" "${opts[@]}" -out "$work/$label.uri.pem"
}

# The device's APDU count so far, by instruction byte (INS hex) or all: apdus [INS]
apdus() {
    local log=${PICO_SIM_LOG1:?}
    if [ $# -eq 0 ]; then
        grep -c '^> ' "$log" || true
    else
        grep -ciE "^> [0-9a-f]{2}$1" "$log" || true
    fi
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# pico-hsm-tool on the first device (or the reader in $TOOL_READER)
tool() {
    "$top_builddir/tools/pico-hsm-tool" --reader "${TOOL_READER:-$PICO_READER1}" "$@"
}

# The user PIN's tries left, read without spending one (2.1): pin_tries [READER_INDEX]
pin_tries() {
    local sw
    sw=$("$top_builddir/test/tools/pcsc-apdu" "${1:-0}" 00A404000BE82B0601040181C31F020100 \
        00200081 | tail -1 | tr -d ' ')
    case "$sw" in
    63c* | 63C*) echo "${sw:3:1}" ;;
    9000) echo verified ;;
    *) echo "$sw" ;;
    esac
}

# An EC/RSA PEM private key for PKA: pka_file NAME ALG-OPTIONS...
pka_file() {
    local name=$1
    shift
    run openssl genpkey "$@" -out "$work/$name.pem"
}

# An openssl.cnf that loads default and pico in the order under test, with the
# given lines in pico's section ("key = value"), as a daemon's configuration would:
#   pico_cnf FILE [LINE...]
pico_cnf() {
    local file=$1 line first=default_sect second=pico_sect
    shift
    [ "$PICO_ORDER" = pico-first ] && first=pico_sect second=default_sect
    {
        printf '%s\n' 'openssl_conf = init' '[init]' 'providers = providers' '[providers]' \
            "${first%_sect} = $first" "${second%_sect} = $second" '[default_sect]' 'activate = 1' \
            '[pico_sect]' 'activate = 1'
        for line in "$@"; do printf '%s\n' "$line"; done
    } > "$file"
}

# Restarts device N (1-based) on its state with extra pico-hsm-sim options, e.g.
# `sim_restart_with 1 --fail D7:6581`, and waits until its reader has the card again.
sim_restart_with() {
    local i=$1 pidvar="PICO_SIM_PID$1" cmdvar="PICO_SIM_CMD$1" n
    shift
    kill "${!pidvar}" 2>/dev/null || true
    while kill -0 "${!pidvar}" 2>/dev/null; do sleep 0.01; done
    ${!cmdvar} "$@" &
    export "PICO_SIM_PID$i=$!"
    for n in $(seq 500); do
        "$top_builddir/test/tools/pcsc-apdu" $((i - 1)) 00A404000BE82B0601040181C31F020100 \
            2>/dev/null | grep -q ' 9000$' && return 0
        sleep 0.02
    done
    fail "device $i did not come back"
}

# Starts nginx on $work/nginx/nginx.conf (written by the test) and waits until it
# listens on 127.0.0.1:PORT, its master having loaded the keys: start_nginx PORT.
# Sets $ngx and a trap that stops it.
start_nginx() {
    local port=$1 rc
    nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" &
    ngx=$!
    trap 'kill $ngx 2>/dev/null; wait $ngx 2>/dev/null; rm -rf "$work"' EXIT
    # (device round trips while the master loads its keys: slow on hardware)
    for _ in $(seq 300); do
        rc=0
        curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$port/" 2>/dev/null || rc=$?
        [ "$rc" -ne 7 ] && break
        kill -0 $ngx 2>/dev/null || break
        sleep 0.1
    done
    kill -0 $ngx 2>/dev/null || { cat "$work/nginx/error.log" >&2; fail "nginx did not start"; }
}
