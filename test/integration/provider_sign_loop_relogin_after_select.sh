#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Another client selects the device again and again while a long-running
# process signs in a loop (sc-hsm-protocol.md 4.6: each SELECT logs every
# process out). The process logs in again each time, from pin-source or with
# the held PIN (pico-cache-pin): every signature succeeds and verifies with
# plain openssl, at most one login per SELECT, no PIN try spent, none hangs.
. "$(dirname "$0")/provider-lib.sh"
. "$(dirname "$0")/fault-lib.sh"
with_devices

echo "$PIN" > "$work/pin"
select_apdu=00A404000BE82B0601040181C31F020100
selects=10
conf() { pico_cnf "$work/openssl.cnf" "pico-pin-source = file:$work/pin" "pico-cache-pin = $1"; }
conf no
export OPENSSL_CONF=$work/openssl.cnf
run openssl genpkey -propquery provider=pico -algorithm EC -pkeyopt group:P-256 \
    -pkeyopt pico-label:k -out "$work/k.pem"
run openssl pkey -pubin -in "pico:object=k" -pubout -out "$work/pub.pem"

for cache in no yes; do
    echo "== pico-cache-pin = $cache" >&2
    conf "$cache"
    loop_start "pico:object=k"
    loop_wait_ok 5
    verifies=$(apdus 20)
    for _ in $(seq "$selects"); do
        run "$top_builddir/test/tools/pcsc-apdu" 0 "$select_apdu" >/dev/null
        loop_wait_ok 3
    done
    logins=$(($(apdus 20) - verifies))
    loop_stop
    loop_verify "$work/pub.pem"
    [ "$(loop_count fail)" = 0 ] || { grep ' fail ' "$loop_dir/out" | head -3 >&2
        fail "cache $cache: $(loop_count fail) signatures failed after another client's SELECT"; }
    # a login: one VERIFY for the status, one with the PIN
    [ "$logins" -le $((2 * selects)) ] ||
        fail "cache $cache: $logins VERIFY for $selects SELECTs: more than one login each"
    [ "$(pin_tries)" = 3 ] || fail "cache $cache: PIN tries after the SELECTs: $(pin_tries)"
    echo "cache $cache: $(loop_count ok) signed across $selects SELECTs, $logins VERIFY," \
        "slowest $(loop_max_ms) ms" >&2
    [ "$(loop_max_ms)" -lt 5000 ] || fail "cache $cache: a signature took $(loop_max_ms) ms"
done
echo PASS
