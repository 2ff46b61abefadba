# SPDX-License-Identifier: Apache-2.0
# Shared by the integration tests: sourced, never run.
#
#   . "$top_srcdir/test/integration/lib.sh"
#   need_devices [with-devices options]   re-runs the test inside test/with-devices
#
# then OpenSC's tools (p11, apdu), checks (expect_eq, expect_match) and sim
# control (sim_restart, sim_wait_card) are available.
set -euo pipefail

: "${top_srcdir:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
export top_srcdir top_builddir

# Re-executes the calling test inside its own devices, once.
need_devices() {
    if [ -z "${PICO_READER1:-}" ]; then
        exec "$top_srcdir/test/with-devices" "$@" -- bash "$0"
    fi
}

fail() { echo "FAIL: $*" >&2; exit 1; }
expect_eq() { [ "$1" = "$2" ] || fail "${3:-value}: expected '$2', got '$1'"; }
# (a here-string, not a pipe: with pipefail, grep -q closing early fails the writer)
expect_match() { grep -Eq -- "$2" <<<"$1" || fail "${3:-output} does not match /$2/: $1"; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Every self-issued Pico reports the same serial: OpenSC must not serve files
# it cached from another (or a previous) device.
printf 'app default {\n framework pkcs15 {\n  use_file_caching = no;\n }\n}\n' >"$tmp/opensc.conf"
export OPENSC_CONF="$tmp/opensc.conf"
opensc_module=/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so
[ -f "$opensc_module" ] || opensc_module=$(find /usr/lib -name opensc-pkcs11.so 2>/dev/null | head -1)

# pkcs11-tool on the first device's slot.
p11() { pkcs11-tool --module "$opensc_module" --slot-index "${P11_SLOT:-0}" "$@"; }

# Sends raw APDUs (hex, one per argument) to reader N (0-based); prints each
# answer as "DATA SW" in upper-case hex.
apdu() { "$top_builddir/test/tools/pcsc-apdu" "$@"; }

# Waits until reader N (0-based) has a card that answers SELECT, twice in a
# row: pcscd may notice the removal of a restarted sim's old card late, and
# the first exchange then fails.
sim_wait_card() {
    local i ok=0
    for i in $(seq 1 500); do
        if apdu "${1:-0}" 00A404000BE82B0601040181C31F020100 2>/dev/null | grep -q ' 9000$'; then
            ok=$((ok + 1))
            [ "$ok" -ge 2 ] && return 0
        else
            ok=0
        fi
        sleep 0.02
    done
    fail "no card in reader ${1:-0}"
}

# Stops device N (1-based) with SIGNAL (default TERM) and starts it again on its state.
sim_restart() {
    local i=$1 sig=${2:-TERM} pidvar="PICO_SIM_PID$1" cmdvar="PICO_SIM_CMD$1"
    kill -"$sig" "${!pidvar}" 2>/dev/null || true
    while kill -0 "${!pidvar}" 2>/dev/null; do sleep 0.01; done
    ${!cmdvar} &
    export "PICO_SIM_PID$i=$!"
    sim_wait_card $((i - 1))
}

# SHA-256 of a file as a binary file.
sha256_bin() { openssl dgst -sha256 -binary "$1" >"$2"; }
