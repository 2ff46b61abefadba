#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Another client's SELECT logs every process out (sc-hsm-protocol.md 4.6). A
# long-running process then logs in again with the factors it holds, when
# openssl.cnf allows holding them (pico-cache-pin = yes): the PIN, and on a
# PIN + PKA device the PKA keys too. Without that permission it says that a
# login is needed, and spends no PIN try.
. "$(dirname "$0")/provider-lib.sh"
with_devices --blank

echo "$PIN" > "$work/pin"
select_apdu=00A404000BE82B0601040181C31F020100
conf() { # conf CACHE [PKA-KEYS]
    pico_cnf "$work/openssl.cnf" "pico-pin-source = file:$work/pin" "pico-cache-pin = $1" \
        ${2:+"pico-pka-key = $2"}
}
# signs, lets another client SELECT, signs again: prints the second result
twice() {
    local fifo=$work/fifo out=$work/twice.out
    rm -f "$fifo"
    mkfifo "$fifo"
    OPENSSL_CONF=$work/openssl.cnf "$top_builddir/test/tools/sign-twice" "pico:object=$1" \
        <"$fifo" >"$out" 2>"$work/twice.err" &
    local pid=$!
    exec 7>"$fifo"
    for _ in $(seq 100); do grep -q 'first ok' "$out" 2>/dev/null && break; sleep 0.1; done
    grep -q 'first ok' "$out" || { cat "$work/twice.err" >&2; fail "first signature failed"; }
    # another client selects the application: the device forgets every login
    "$top_builddir/test/tools/pcsc-apdu" 0 "$select_apdu" >/dev/null
    echo go >&7
    exec 7>&-
    wait "$pid" || true
    cat "$work/twice.err" >&2
}

# 1. PIN only
run tool init --yes --pin "$PIN" --so-pin "$SOPIN"
conf yes
OPENSSL_CONF=$work/openssl.cnf run openssl genpkey -propquery provider=pico -algorithm EC \
    -pkeyopt group:P-256 -pkeyopt pico-label:k -out "$work/k.pem"
twice k
grep -q 'second ok' "$work/twice.out" || fail "PIN only, cache on: no login again"
conf no
twice k
grep -q 'second ok' "$work/twice.out" && fail "PIN only, cache off: signed without a login"
grep -qi 'log in again' "$work/twice.err" || fail "cache off: the message does not say to log in"
[ "$(pin_tries)" = 3 ] || fail "PIN tries after the refused signature: $(pin_tries)"

# 2. PIN + PKA: the held PKA signer signs a new challenge
pka_file pka -algorithm EC -pkeyopt ec_paramgen_curve:P-256
run tool init --yes --pin "$PIN" --so-pin "$SOPIN" --pka 1/1
run tool pka register --key "file:$work/pka.pem" --pin-source "file:$work/pin"
conf yes "file:$work/pka.pem"
OPENSSL_CONF=$work/openssl.cnf run openssl genpkey -propquery provider=pico -algorithm EC \
    -pkeyopt group:P-256 -pkeyopt pico-label:g -out "$work/g.pem"
twice g
grep -q 'second ok' "$work/twice.out" || fail "PIN + PKA, cache on: no login again"
conf no "file:$work/pka.pem"
twice g
grep -q "second ok" "$work/twice.out" && fail "PIN + PKA, cache off: signed without a login"
grep -qi "log in again" "$work/twice.err" || fail "PIN + PKA, cache off: the message does not say to log in"
echo PASS
