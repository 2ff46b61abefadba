#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# pcscd restarts under a long-running signer (a package upgrade, `systemctl
# restart pcscd`): the card is powered again, so the application is no longer
# selected and the login is gone. The process selects again and logs in again
# as after another client's SELECT (the PIN from pin-source read again, or the
# held one with pico-cache-pin): the signatures after the restart succeed and
# verify with plain openssl, no PIN try is spent, no signature hangs. While
# pcscd is down a signature fails, saying that pcscd is unreachable. A process
# idle across the restart signs at once, without a failure, and so does one
# that loads its key again then. A PIN the application handed in is held only
# with pico-cache-pin, as after a SELECT: without it the process is told to log
# in again, and no PIN try is spent.
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

    # In steps: idle across a restart, then a signature while pcscd is away
    loop_start_stepped "pico:object=k"
    loop_step 3
    pcscd_restart
    loop_step 1
    [ "$(loop_count fail)" = 0 ] || { cat "$loop_dir/out" >&2; fail "cache $cache: the first" \
        "signature after an idle pcscd restart failed"; }
    pcscd_stop
    loop_step 1
    tail -1 "$loop_dir/out" | grep -q ' fail .*pcscd' ||
        fail "cache $cache: while pcscd is away, no failure that says so: $(tail -1 "$loop_dir/out")"
    pcscd_start
    loop_step 5
    [ "$(loop_count fail)" = 1 ] || { cat "$loop_dir/out" >&2; fail "cache $cache: no recovery" \
        "once pcscd is back"; }
    loop_stop
    loop_verify "$work/pub.pem"
    [ "$(pin_tries)" = 3 ] || fail "cache $cache: PIN tries after the restarts: $(pin_tries)"

    # A server that loads its key again (per request, at a reload): the first load
    # after the restart finds the key
    SIGN_LOOP_RELOAD=1 loop_start_stepped "pico:object=k"
    loop_step 2
    pcscd_restart
    loop_step 2
    [ "$(loop_count ok)" = 4 ] || { cat "$loop_dir/out" >&2; fail "cache $cache: the key" \
        "loaded again after an idle pcscd restart does not sign"; }
    loop_stop
    loop_verify "$work/pub.pem"

    # Under load: a signature every 20 ms, pcscd restarted in the middle
    loop_start "pico:object=k"
    loop_wait_ok 5
    pcscd_restart
    loop_wait_ok 20 20
    loop_stop
    loop_verify "$work/pub.pem"
    [ "$(pin_tries)" = 3 ] || fail "cache $cache: PIN tries after the restart: $(pin_tries)"
    # a failure is one of the time pcscd or the card was away, and says so (a
    # signature in flight when pcscd stops fails in the exchange)
    loop_failures_say 'pcscd|device removed|communication with the device failed' \
        "pcscd being away"
    echo "cache $cache: $(loop_count ok) signed, $(loop_count fail) failed while pcscd was away," \
        "slowest $(loop_max_ms) ms" >&2
    [ "$(loop_max_ms)" -lt 5000 ] || fail "cache $cache: a signature took $(loop_max_ms) ms"
done

# The PIN from the application (its passphrase callback), no pin-source: the same
# rules as after another client's SELECT. Not held without pico-cache-pin: the
# signature after the restart says to log in again and spends no try; held with it.
twice_across_restart() {
    rm -f "$work/fifo"
    mkfifo "$work/fifo"
    SIGN_TWICE_PIN=$PIN timeout -s KILL 60 "$top_builddir/test/tools/sign-twice" "pico:object=k" \
        <"$work/fifo" >"$work/twice.out" 2>"$work/twice.err" &
    local twice=$!
    exec 7>"$work/fifo"
    for _ in $(seq 200); do grep -q 'first ok' "$work/twice.out" && break; sleep 0.05; done
    grep -q 'first ok' "$work/twice.out" || { cat "$work/twice.err" >&2; fail "first signature"; }
    pcscd_restart
    echo go >&7
    exec 7>&-
    wait "$twice" || true
    cat "$work/twice.err" >&2
}
pico_cnf "$work/openssl.cnf" "pico-cache-pin = no"
twice_across_restart
grep -q 'second ok' "$work/twice.out" && fail "application's PIN, cache off: signed without a login"
grep -qi 'log in again' "$work/twice.err" || fail "cache off: the message does not say to log in"
[ "$(pin_tries)" = 3 ] || fail "application's PIN: PIN tries after the restart: $(pin_tries)"
pico_cnf "$work/openssl.cnf" "pico-cache-pin = yes"
twice_across_restart
grep -q 'second ok' "$work/twice.out" || fail "application's PIN, cache on: no login again"
[ "$(pin_tries)" = 3 ] || fail "application's PIN: PIN tries after the restart: $(pin_tries)"
echo PASS
