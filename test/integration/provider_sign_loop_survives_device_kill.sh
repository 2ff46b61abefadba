#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The device dies under a long-running signer (kill -9 of the virtual device: a
# crash, a pulled USB plug) and comes back. While it is away a signature fails
# at once saying that the device was removed (or, before pcscd noticed, that
# the communication with it failed); no signature hangs or crashes the
# process. Once it is back, the process selects and logs in again (the PIN from
# pin-source read again, or the held one with pico-cache-pin): later signatures
# succeed and verify with plain openssl, and no PIN try is spent; also when the
# device is back before pcscd noticed that it was gone (no PC/SC event at all:
# the card just has nothing selected any more).
. "$(dirname "$0")/provider-lib.sh"
. "$(dirname "$0")/fault-lib.sh"
with_devices

echo "$PIN" > "$work/pin"
conf() { pico_cnf "$work/openssl.cnf" "pico-pin-source = file:$work/pin" "pico-cache-pin = $1"; }
conf no
export OPENSSL_CONF=$work/openssl.cnf
run openssl genpkey -propquery provider=pico -algorithm EC -pkeyopt group:P-256 \
    -pkeyopt pico-label:k -out "$work/k.pem"
run openssl pkey -pubin -in "pico:object=k" -pubout -out "$work/pub.pem"

for cache in no yes; do
    echo "== pico-cache-pin = $cache" >&2
    conf "$cache"
    [ "$(pin_tries)" = 3 ] || fail "PIN tries before: $(pin_tries)"

    # The reader loses the device while the key is held, in steps
    loop_start_stepped "pico:object=k"
    loop_step 3
    sim_kill 1
    loop_step 2
    [ "$(loop_count fail)" = 2 ] || { cat "$loop_dir/out" >&2; fail "cache $cache: signed" \
        "without a device"; }
    loop_failures_say "device removed" "the device being removed"
    sim_start 1
    loop_step 5
    [ "$(loop_count ok)" = 8 ] || { cat "$loop_dir/out" >&2; fail "cache $cache: the key does" \
        "not work again once the device is back"; }
    loop_stop
    loop_verify "$work/pub.pem"
    [ "$(pin_tries)" = 3 ] || fail "cache $cache: PIN tries after the removal: $(pin_tries)"

    # Killed and back at once, before pcscd noticed: the card lost its session
    # without a word from PC/SC (it answers 6D00, nothing selected)
    loop_start_stepped "pico:object=k"
    loop_step 3
    kill -KILL "$PICO_SIM_PID1"
    sim_start 1
    loop_step 5
    [ "$(loop_count ok)" = 8 ] || { cat "$loop_dir/out" >&2; fail "cache $cache: the key does" \
        "not work again after the device was back at once"; }
    loop_stop
    loop_verify "$work/pub.pem"
    [ "$(pin_tries)" = 3 ] || fail "cache $cache: PIN tries after the quick restart: $(pin_tries)"

    # Under load: a signature every 20 ms, kill -9 and restart in the middle, twice
    loop_start "pico:object=k"
    loop_wait_ok 5
    sim_kill 1
    sim_start 1
    loop_wait_ok 10
    sim_kill 1
    sleep 0.3 # signatures while the device is away
    sim_start 1
    loop_wait_ok 10
    loop_stop
    loop_verify "$work/pub.pem"
    [ "$(pin_tries)" = 3 ] || fail "cache $cache: PIN tries after the kills: $(pin_tries)"
    # before pcscd notices, an exchange with the dead device fails as such
    loop_failures_say 'device removed|communication with the device failed' \
        "the device being away"
    [ "$(loop_count fail)" -gt 0 ] || fail "cache $cache: no signature failed while the device was away"
    echo "cache $cache: $(loop_count ok) signed, $(loop_count fail) failed while the device" \
        "was away, slowest $(loop_max_ms) ms" >&2
    [ "$(loop_max_ms)" -lt 5000 ] || fail "cache $cache: a signature took $(loop_max_ms) ms"
done
echo PASS
