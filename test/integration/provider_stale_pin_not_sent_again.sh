#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A PIN the device refused is never sent again by the same process (issue 11,
# "a stale PIN burns the PIN"). A server signs in a loop with the PIN in a file
# (pin-source), with and without pico-cache-pin; another process changes the
# PIN and another client selects the device, so the loop loses its login. Its
# next login sends the old PIN once (the held one, or the file's): refused, one
# try spent. Every later operation fails at once, says the PIN was refused
# earlier and how many tries are left, and spends nothing, however long it
# runs and however often the device is selected again. Once the file holds the
# new PIN, the loop logs in again and signs on (its signatures verify with
# plain openssl). With the application's PIN held (pico-cache-pin, no source)
# the held PIN is dropped after its refusal: one try, then none.
. "$(dirname "$0")/provider-lib.sh"
with_devices --blank

NEWPIN=771305
select_apdu=00A404000BE82B0601040181C31F020100
echo "$PIN" > "$work/old.pin"
echo "$NEWPIN" > "$work/new.pin"

loop_pid=
start_loop() { # start_loop URI  (SIGN_LOOP_PIN: the application's PIN)
    rm -rf "$work/loop"
    mkdir "$work/loop"
    OPENSSL_CONF=$work/openssl.cnf SIGN_LOOP_MS=5 "$top_builddir/test/tools/sign-loop" "$1" \
        "$work/loop" >"$work/loop.out" 2>"$work/loop.err" &
    loop_pid=$!
}
stop_loop() {
    touch "$work/loop/stop"
    wait "$loop_pid" || true
}
# the loop's results ("<i> ok|fail <ms> | errors"): all of a kind, the "ok" since its
# last failure, the errors, the last good signature
count() { grep -c "^[0-9]* $1 " "$work/loop.out" || true; }
oks_since_fail() { tac "$work/loop.out" | awk '$2 == "fail" { exit } { n++ } END { print n + 0 }'; }
errors() { grep ' fail ' "$work/loop.out" | sed 's/^[0-9]* fail [0-9]* //' | tr '|' '\n'; }
last_ok() { awk '$2 == "ok" { i = $1 } END { print i }' "$work/loop.out"; }
# waits until COMMAND prints at least N: wait_for N COMMAND...
wait_for() {
    local n=$1 i
    shift
    for i in $(seq 400); do
        [ "$("$@")" -ge "$n" ] && return 0
        kill -0 "$loop_pid" 2>/dev/null || break
        sleep 0.05
    done
    cat "$work/loop.err" >&2
    fail "the loop did not reach $n for '$*' (it printed $("$@"))"
}
# another client selects the application: the device forgets every login (4.6)
select_device() { "$top_builddir/test/tools/pcsc-apdu" 0 "$select_apdu" >/dev/null; }

# stale_pin CACHE: the PIN in the file, changed under the loop
stale_pin() {
    local cache=$1
    echo "== pin-source, pico-cache-pin = $cache" >&2
    run tool init --yes --pin "$PIN" --so-pin "$SOPIN"
    echo "$PIN" > "$work/pin"
    pico_cnf "$work/openssl.cnf" "pico-pin-source = file:$work/pin" "pico-cache-pin = $cache"
    OPENSSL_CONF=$work/openssl.cnf run openssl genpkey -propquery provider=pico -algorithm EC \
        -pkeyopt group:P-256 -pkeyopt pico-label:k -out "$work/k.pem"
    run ossl pkey -pubin -in "pico:object=k;type=public" -pubout -out "$work/k.pub.pem"
    # (read before the loop runs: pcsc-apdu's SELECT and status are no transaction, a
    # login of the loop could come between them)
    [ "$(pin_tries)" = 3 ] || fail "tries before the change: $(pin_tries)"
    start_loop "pico:object=k"
    wait_for 5 count ok
    run tool pin change --pin-source "file:$work/old.pin" --new-pin-source "file:$work/new.pin"
    select_device
    wait_for 40 count fail
    [ "$(pin_tries)" = 2 ] || fail "cache $cache: the loop spent more than one try: $(pin_tries) left"
    # selected again (pin_tries did), the loop runs on: still nothing spent
    local fails
    fails=$(count fail)
    wait_for $((fails + 40)) count fail
    select_device
    wait_for $((fails + 80)) count fail
    [ "$(pin_tries)" = 2 ] || fail "cache $cache: later operations spent a try: $(pin_tries) left"
    [ "$(oks_since_fail)" = 0 ] || fail "cache $cache: signed with a refused PIN"
    errors | sort | uniq -c | sed "s/^/    loop: /" >&2
    grep -q 'pin refused earlier by this device: 2 tries left; not sent again' <<<"$(errors)" ||
        fail "cache $cache: the error does not say the pin was refused earlier"
    [ "$(errors | grep -c 'VERIFY: 2 tries left')" = 1 ] ||
        fail "cache $cache: not exactly one refused VERIFY"
    # the new PIN in the file: the loop logs in again and goes on
    echo "$NEWPIN" > "$work/pin"
    wait_for 5 oks_since_fail
    stop_loop
    [ "$(pin_tries)" = 3 ] || fail "cache $cache: tries after the new PIN: $(pin_tries)"
    local i
    i=$(last_ok)
    run openssl dgst -sha256 -verify "$work/k.pub.pem" -signature "$work/loop/$i.sig" \
        "$work/loop/$i.msg"
    if grep -qE "$PIN|$NEWPIN" "$work/loop.out" "$work/loop.err"; then
        fail "cache $cache: a PIN in the loop's output"
    fi
}

stale_pin no
stale_pin yes

# The application's PIN, held with pico-cache-pin (no source to read again): the
# held PIN is refused once and dropped; nothing is sent again (no source to read, no
# terminal for a prompt)
echo "== the application's PIN, pico-cache-pin = yes" >&2
run tool init --yes --pin "$PIN" --so-pin "$SOPIN"
pico_cnf "$work/openssl.cnf" "# no pin source" "pico-cache-pin = yes"
run ossl genpkey -propquery provider=pico -algorithm EC -pkeyopt group:P-256 \
    -pkeyopt pico-label:k -pkeyopt "pico-uri:pico:?pin-value=$PIN" -out "$work/k.pem"
[ "$(pin_tries)" = 3 ] || fail "application's PIN held: tries before the change: $(pin_tries)"
SIGN_LOOP_PIN=$PIN start_loop "pico:object=k"
wait_for 5 count ok
run tool pin change --pin-source "file:$work/old.pin" --new-pin-source "file:$work/new.pin"
select_device
wait_for 40 count fail
select_device
wait_for 80 count fail
stop_loop
[ "$(pin_tries)" = 2 ] || fail "application's PIN held: more than one try spent: $(pin_tries) left"
[ "$(oks_since_fail)" = 0 ] || fail "application's PIN held: signed with a refused PIN"
[ "$(errors | grep -c 'VERIFY: 2 tries left')" = 1 ] ||
    fail "application's PIN held: not exactly one refused VERIFY"
echo PASS
