#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Errors a user meets, each a clear message and a non-zero exit, never a
# crash, never a PIN in any output or debug log: wrong PIN (one try spent,
# tries left shown), the last try refused unless asked, blocked PIN, unknown
# object, malformed URI, no reader, unknown reader, device removed mid-run.
. "$(dirname "$0")/provider-lib.sh"
with_devices

export PICO_DEBUG="$work/debug.log"
echo msg > "$work/msg"
# PINs come from files: a PIN typed into a URI would be echoed by openssl itself
for p in 111111:w1 222222:w2 333333:w3 "$PIN":right; do echo "${p%%:*}" > "$work/${p##*:}.pin"; done
# PIN status through an independent client (spends no try): 63c3, 6983, ...
pin_status() {
    "$top_builddir/test/tools/pcsc-apdu" 0 00A404000BE82B0601040181C31F020100 00200081 |
        tail -1 | tr -d ' ' | tr 'A-F' 'a-f'
}
pico_genkey EC group:P-256 web
[ "$(pin_status)" = 63c3 ] || fail "PIN status before the test: $(pin_status)"

# 1. wrong PIN: refused, tries left in the message, exactly one try spent
run_fails ossl dgst -sha256 -sign "pico:object=web?pin-source=file:$work/w1.pin" "$work/msg"
grep -qi "pin incorrect" "$work/err" || fail "no 'pin incorrect' message"
grep -q "2 tries left" "$work/err" || fail "tries left not shown"
[ "$(pin_status)" = 63c2 ] || fail "one wrong PIN spent more than one try: $(pin_status)"
run_fails ossl dgst -sha256 -sign "pico:object=web?pin-source=file:$work/w2.pin" "$work/msg"
[ "$(pin_status)" = 63c1 ] || fail "second wrong PIN: $(pin_status)"
grep -q "1 try left" "$work/err" || fail "one try left: not said in good English"

# 2. the last try is not spent unless asked for
run_fails ossl dgst -sha256 -sign "pico:object=web?pin-source=file:$work/w3.pin" "$work/msg"
grep -qi "one pin try left" "$work/err" || fail "last-try refusal not explained"
[ "$(pin_status)" = 63c1 ] || fail "the last try was spent without consent: $(pin_status)"

# 3. asked for: it is spent, and the PIN is blocked
run_fails ossl dgst -sha256 -sign "pico:object=web?pin-source=file:$work/w3.pin&pin-last-try=yes" "$work/msg"
[ "$(pin_status)" = 6983 ] || fail "PIN not blocked after the last try: $(pin_status)"
run_fails ossl dgst -sha256 -sign "pico:object=web?pin-source=file:$work/right.pin" "$work/msg"
grep -qi "pin blocked" "$work/err" || fail "blocked PIN not reported"

# unblock with the SO-PIN (OpenSC, an independent client) for the rest
run pkcs11-tool --module /usr/lib/x86_64-linux-gnu/opensc-pkcs11.so --login --login-type so \
    --so-pin "$SOPIN" --init-pin --new-pin "$PIN" >/dev/null
[ "$(pin_status)" = 63c3 ] || fail "PIN not reset by the SO-PIN: $(pin_status)"

# 4. unknown object
run_fails ossl dgst -sha256 -sign "pico:object=nope?pin-source=file:$work/right.pin" "$work/msg"
grep -qi "not found" "$work/err" || fail "unknown object not reported"

# 5. malformed URI: says what is wrong, does not echo the query's values
run_fails ossl dgst -sha256 -sign "pico:object=we%zzb?pin-source=file:$work/right.pin" "$work/msg"
grep -qi "encoding" "$work/err" || fail "bad percent-encoding not reported"
run_fails ossl dgst -sha256 -sign "pico:colour=red" "$work/msg"
grep -qi "unknown uri attribute" "$work/err" || fail "unknown attribute not reported"
# a PKA signer's pkcs11: URI is not a pico: URI; a missing PEM signer is a missing file
run_fails ossl dgst -sha256 -sign "pico:object=web?pin-source=file:$work/right.pin&pka-key=pkcs11:colour=red" \
    "$work/msg"
grep -q "malformed pkcs11: uri" "$work/err" || fail "pkcs11 uri error not named as such"
! grep -q "pico: uri" "$work/err" || fail "a pkcs11 uri error says pico: uri"
run_fails ossl dgst -sha256 -sign "pico:object=web?pin-source=file:$work/right.pin&pka-key=file:$work/none.pem" \
    "$work/msg"
grep -q "cannot read the file" "$work/err" || fail "missing PEM signer: not a file error"
! grep -q "on the device" "$work/err" || fail "missing PEM signer reported as not on the device"

# 6. a reader that does not exist; no pcscd at all
run_fails ossl dgst -sha256 -sign "pico:reader=No%20Such%20Reader;object=web?pin-source=file:$work/right.pin" "$work/msg"
grep -qi "not found" "$work/err" || fail "unknown reader not reported"
PCSCLITE_CSOCK_NAME=/nonexistent/pcscd.comm run_fails ossl dgst -sha256 \
    -sign "pico:object=web?pin-source=file:$work/right.pin" "$work/msg"
grep -qi "pcscd\|reader" "$work/err" || fail "missing pcscd not reported"

# 7. device removed mid-run: a long signing loop, then the device goes away
"$top_builddir/bench/provider_sign" "pico:object=web?pin-source=file:$work/right.pin" 100000 \
    >"$work/loop.out" 2>"$work/loop.err" &
loop=$!
sleep 1
kill -9 "${PICO_SIM_PID1:?}"
status=0
wait "$loop" || status=$?
cat "$work/loop.err" >&2
[ $status -ne 0 ] && [ $status -lt 128 ] || fail "signing loop: status $status after removal"
grep -qi "removed\|communication\|not found\|reader" "$work/loop.err" || fail "removal not explained"

# no PIN anywhere: outputs, errors, debug log
for f in "$work"/*; do
    [ -f "$f" ] || continue
    if grep -q "$PIN\|111111\|222222\|333333" "$f"; then
        case "$f" in *.pin) continue ;; esac
        fail "a PIN appears in $(basename "$f")"
    fi
done
[ -s "$work/debug.log" ] || fail "no debug log was written"
echo PASS
