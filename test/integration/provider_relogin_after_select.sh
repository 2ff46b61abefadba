#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Another client's SELECT logs every process out (sc-hsm-protocol.md 4.6). A
# long-running process then logs in again: with the factors it holds when
# openssl.cnf allows holding them (pico-cache-pin = yes), and, without that,
# by reading again the sources the user configured (pin-source in openssl.cnf
# or the URI, PKA key files): the PIN, and on a PIN + PKA device the PKA keys
# too. A PIN the application handed in is not held without pico-cache-pin:
# then it says that a login is needed, and spends no PIN try. A TLS server
# whose device another process selects between handshakes goes on serving.
. "$(dirname "$0")/provider-lib.sh"
with_devices --blank

echo "$PIN" > "$work/pin"
select_apdu=00A404000BE82B0601040181C31F020100
conf() { # conf CACHE [PKA-KEYS]  (NOSOURCE=1: no pin-source, the application's PIN)
    local source="pico-pin-source = file:$work/pin"
    [ -n "${NOSOURCE:-}" ] && source="# no pin source"
    pico_cnf "$work/openssl.cnf" "$source" "pico-cache-pin = $1" ${2:+"pico-pka-key = $2"}
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
# cache off, the PIN from the configured file: read again, one VERIFY more
conf no
verifies=$(apdus 20)
twice k
grep -q 'second ok' "$work/twice.out" || fail "PIN only, pin-source: no login again"
# (each login: one VERIFY status, one VERIFY with the PIN)
[ $(($(apdus 20) - verifies)) -le 4 ] || fail "more than one login per signature"
# cache off, the PIN from the application: not held, so not sent again
NOSOURCE=1 conf no
SIGN_TWICE_PIN=$PIN twice k
grep -q 'second ok' "$work/twice.out" && fail "application's PIN, cache off: signed without a login"
grep -qi 'log in again' "$work/twice.err" || fail "cache off: the message does not say to log in"
[ "$(pin_tries)" = 3 ] || fail "PIN tries after the refused signature: $(pin_tries)"
NOSOURCE=1 conf yes
SIGN_TWICE_PIN=$PIN twice k
grep -q 'second ok' "$work/twice.out" || fail "application's PIN, cache on: no login again"

# A TLS server with the PIN in a file (the URI's pin-source), no pico-cache-pin:
# another process selects the device between two handshakes; both succeed
conf no
OPENSSL_CONF=$work/openssl.cnf run openssl req -new -x509 -key "pico:object=k" -subj /CN=localhost \
    -days 2 -out "$work/k.crt"
ossl s_server -accept 127.0.0.1:4471 -key "pico:object=k?pin-source=file:$work/pin" \
    -cert "$work/k.crt" -www -naccept 2 > "$work/server.log" 2>&1 &
server=$!
for _ in $(seq 100); do grep -q ACCEPT "$work/server.log" && break; sleep 0.1; done
for round in 1 2; do
    printf 'GET / HTTP/1.0\r\n\r\n' | openssl s_client -connect 127.0.0.1:4471 -CAfile "$work/k.crt" \
        -verify_return_error -ign_eof > "$work/client.log" 2>&1 ||
        { cat "$work/client.log" "$work/server.log" >&2; fail "handshake $round failed"; }
    grep -q 's_server' "$work/client.log" || fail "handshake $round: no page"
    "$top_builddir/test/tools/pcsc-apdu" 0 "$select_apdu" >/dev/null
done
wait "$server" || true

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
grep -q "second ok" "$work/twice.out" || fail "PIN + PKA, sources configured: no login again"
NOSOURCE=1 conf no "file:$work/pka.pem"
SIGN_TWICE_PIN=$PIN twice g
grep -q "second ok" "$work/twice.out" && fail "PIN + PKA, application's PIN: signed without a login"
grep -qi "log in again" "$work/twice.err" || fail "PIN + PKA, cache off: the message does not say to log in"
echo PASS
