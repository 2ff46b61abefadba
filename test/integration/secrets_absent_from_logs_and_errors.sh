#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# No secret reaches a log, an error or a file the tools write: with PICO_DEBUG
# on, pico-hsm-tool tracing (-v) and the virtual device's APDU log, run every
# path a secret takes (a wrong PIN, the right PIN, RESET RETRY COUNTER refused
# and carried out, a PIN change, a VERIFY refused for the transport PIN, a DKEK
# share refused and imported, RSA DECIPHER, ECDH, key files whose pin-value
# names a missing key, a wrong PIN, a bad attribute or an overlong URI), then
# grep everything the test produced for the PIN, the wrong PIN, the new PIN,
# the SO-PIN, a wrong SO-PIN, the DKEK share, the decrypted plaintext and the
# ECDH shared secret, as text and as hex: none appears. Results agree with the default
# provider (the plaintext decrypts, both sides derive the same secret).
. "$(dirname "$0")/provider-lib.sh"
with_devices

WRONG=917364     # a wrong user PIN
NEWPIN=271828    # the PIN set by CHANGE and by RESET RETRY COUNTER
WRONGSO=8c4d2e1f0a9b3c7d
SHARE=5ec7e75a1e0f7b3d9c2a48e61b03d5f7a9e4c81266d0b35f4e2a7c91d8b06f13
PLAIN='decrypted plaintext 7f3a9c05e1'
# Inputs and outputs that hold a secret on purpose; everything else the test
# and the tools write goes to $out and is grepped at the end.
in=$work/in out=$work/out
mkdir -p "$in" "$out"
echo "$PIN" > "$in/pin"
echo "$WRONG" > "$in/wrong"
echo "$NEWPIN" > "$in/new"
echo "$SOPIN" > "$in/so"
printf '%s' "$PLAIN" > "$in/plain"
export PICO_DEBUG=$out/debug.log
n=0

# q CMD...: runs CMD (no secret on its command line) with its output and errors in $out
q() {
    n=$((n + 1))
    echo "+ $*" >&2
    "$@" > "$out/$n.out" 2> "$out/$n.err" < /dev/null ||
        { cat "$out/$n.err" >&2; fail "command failed: $*"; }
}
# qf CMD...: the same for a command that must fail
qf() {
    n=$((n + 1))
    echo "+ (must fail) $*" >&2
    if "$@" > "$out/$n.out" 2> "$out/$n.err" < /dev/null; then
        fail "command succeeded but must fail: $*"
    fi
}
# err_has PATTERN WHAT: the last command's errors say PATTERN
err_has() { grep -q -- "$1" "$out/$n.err" || { cat "$out/$n.err" >&2; fail "$2"; }; }
# debug_has PATTERN WHAT: the debug log says PATTERN (the file: store drops the decoder's
# errors: the debug log says why a key file did not load)
debug_has() { grep -q -- "$1" "$PICO_DEBUG" || fail "$2"; }
# raw APDU to the device (hex on the command line: never echoed)
raw() { "$top_builddir/test/tools/pcsc-apdu" 0 00A404000BE82B0601040181C31F020100 "$@" | tail -1; }
# the hex of a string's bytes
hex() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }
pin_uri() { echo "pico:object=$1?pin-source=file:$in/${2:-pin}"; }
key_file() { # key_file URI FILE: a PICO HSM KEY URI file as genpkey writes it
    { echo "-----BEGIN PICO HSM KEY URI-----"; printf '%s' "$1" | openssl base64 -A; echo
      echo "-----END PICO HSM KEY URI-----"; } > "$2"
}
t() { tool -v "$@"; }

# 1. keys, their PINs from a file
for k in "EC ec_paramgen_curve:P-256 sec-ec" "RSA rsa_keygen_bits:2048 sec-rsa"; do
    read -r alg opt label <<< "$k"
    q ossl genpkey -propquery provider=pico -algorithm "$alg" -pkeyopt "$opt" \
        -pkeyopt "pico-label:$label" -pkeyopt "pico-uri:$(pin_uri x)" -out "$out/$label.uri.pem"
    q ossl pkey -pubin -in "pico:object=$label" -pubout -out "$out/$label.pub.pem"
done
echo "a message" > "$out/msg"

# 2. a wrong PIN: from the tool, and from a key URI (each spends a try)
qf t pin verify --pin-source "file:$in/wrong"
qf ossl pkeyutl -sign -inkey "$(pin_uri sec-ec wrong)" -in "$out/msg" -rawin -digest sha256 \
    -out "$out/sig.bad"
err_has 'pin incorrect' "a wrong PIN is not reported as such"
[ "$(pin_tries)" = 1 ] || fail "two wrong PINs did not leave 1 try"

# 3. the right PIN, on the last try: a signature plain openssl verifies (and the tries are back)
q ossl pkeyutl -sign -inkey "$(pin_uri sec-ec)&pin-last-try=yes" -in "$out/msg" -rawin -digest sha256 \
    -out "$out/sig"
q openssl pkeyutl -verify -pubin -inkey "$out/sec-ec.pub.pem" -in "$out/msg" -rawin \
    -digest sha256 -sigfile "$out/sig"
[ "$(pin_tries)" = 3 ] || fail "the right PIN did not reset the tries"

# 4. DECIPHER: what plain openssl encrypted comes back through the device
q openssl pkeyutl -encrypt -pubin -inkey "$out/sec-rsa.pub.pem" -in "$in/plain" -out "$out/ct"
q ossl pkeyutl -decrypt -inkey "$(pin_uri sec-rsa)" -in "$out/ct" -out "$in/plain.dev"
cmp -s "$in/plain" "$in/plain.dev" || fail "the device decrypted something else"

# 5. ECDH: the device and the default provider derive the same secret
q openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$in/peer.pem"
q openssl pkey -in "$in/peer.pem" -pubout -out "$out/peer.pub.pem"
q ossl pkeyutl -derive -inkey "$(pin_uri sec-ec)" -peerkey "$out/peer.pub.pem" -out "$in/z.dev"
q openssl pkeyutl -derive -inkey "$in/peer.pem" -peerkey "$out/sec-ec.pub.pem" -out "$in/z.sw"
cmp -s "$in/z.dev" "$in/z.sw" || fail "the shared secrets differ"
Z=$(od -An -tx1 "$in/z.dev" | tr -d ' \n')
[ ${#Z} = 64 ] || fail "a P-256 shared secret of ${#Z} hex digits"

# 6. key files naming a missing key, holding a wrong PIN, a bad attribute, or too long
key_file "pico:object=no-such-key?pin-value=$PIN" "$in/missing.pem"
qf ossl pkey -in "$in/missing.pem" -pubout
debug_has 'not found.*pico:object=no-such-key' "a missing key is not reported as such"
qf ossl pkeyutl -sign -inkey "$in/missing.pem" -in "$out/msg" -rawin -digest sha256 -out "$out/x"
key_file "pico:object=sec-ec?pin-value=$WRONG" "$in/wrong.pem"
qf ossl pkeyutl -sign -inkey "$in/wrong.pem" -in "$out/msg" -rawin -digest sha256 -out "$out/x"
err_has 'pin incorrect' "a key file's wrong PIN is not reported as such"
key_file "pico:object=sec-ec?pin-value=$PIN&pin-valeu=$NEWPIN" "$in/typo.pem"
qf ossl pkey -in "$in/typo.pem" -pubout
debug_has "unknown uri attribute at 'pin-valeu'" "a bad attribute is not named"
key_file "pico:object=sec-ec?pin-value=$PIN&pin-source=file:/$(printf 'x%.0s' $(seq 4200))" \
    "$in/long.pem"
qf ossl pkey -in "$in/long.pem" -pubout
debug_has 'longer than 4095 bytes' "an overlong key file uri is not refused"
[ "$(pin_tries)" = 2 ] || fail "the key files spent more than the wrong PIN's try"
q ossl pkeyutl -sign -inkey "$(pin_uri sec-ec)" -in "$out/msg" -rawin -digest sha256 -out "$out/x"

# 7. PIN change (CHANGE REFERENCE DATA), wrong old PIN then right, and back
qf t pin change --pin-source "file:$in/wrong" --new-pin-source "file:$in/new"
q t pin change --pin-source "file:$in/pin" --new-pin-source "file:$in/new"
q t pin verify --pin-source "file:$in/new"
q t pin change --pin-source "file:$in/new" --new-pin-source "file:$in/pin"

# 8. RESET RETRY COUNTER refused: the device option is off (6986), or P2 names no PIN (6A88)
q t init --yes --pin-source "file:$in/pin" --so-pin-source "file:$in/so" --no-reset-retry-counter
qf t pin unblock --so-pin-source "file:$in/so" --new-pin-source "file:$in/new"
[ "$(raw "002C0081 0E $SOPIN$(hex "$NEWPIN")" | tr -d ' ')" = 6986 ] || fail "RRC not refused"
[ "$(raw "002C0082 0E $SOPIN$(hex "$NEWPIN")" | tr -d ' ')" = 6A88 ] || fail "RRC P2 not refused"
# ... and carried out, with a wrong SO-PIN first
q t init --yes --pin-source "file:$in/pin" --so-pin-source "file:$in/so"
echo "$WRONGSO" > "$in/wrongso"
qf t pin unblock --so-pin-source "file:$in/wrongso" --new-pin-source "file:$in/new"
q t pin unblock --so-pin-source "file:$in/so" --new-pin-source "file:$in/new"
q t pin verify --pin-source "file:$in/new"
q t pin verify --so --so-pin-source "file:$in/so"

# 9. VERIFY refused early: the transport PIN option (6984), a bad P1 (6B00), bad class (6E00)
q t init --yes --pin-source "file:$in/pin" --so-pin-source "file:$in/so" --transport-pin
qf t pin verify --pin-source "file:$in/pin"
[ "$(raw "00200081 06 $(hex "$PIN")" | tr -d ' ')" = 6984 ] || fail "VERIFY not refused"
[ "$(raw "00200181 06 $(hex "$PIN")" | tr -d ' ')" = 6B00 ] || fail "VERIFY P1 not refused"
[ "$(raw "0C200081 06 $(hex "$PIN")" | tr -d ' ')" = 6E00 ] || fail "VERIFY class not refused"
[ "$(raw "00240181 0C $(hex "$PIN$NEWPIN")" | tr -d ' ')" = 6B00 ] || fail "CHANGE not refused"

# 10. a DKEK share: refused without a DKEK to build (6986, as cmd_key_domain.c), then imported
q t init --yes --pin-source "file:$in/pin" --so-pin-source "file:$in/so"
[ "$(raw "80520000 20 $SHARE" | tr -d ' ')" = 6986 ] || fail "a share without a DKEK not refused"
q t init --yes --pin-source "file:$in/pin" --so-pin-source "file:$in/so" --dkek-shares 1
sw=$(raw "00200081 06 $(hex "$PIN")" "80520000 20 $SHARE 00" | tr -d ' ')
[ "${sw: -4}" = 9000 ] && [ "${sw:0:4}" = 0100 ] || fail "the share was not imported: $sw"

# Every file the test and the tools wrote (outputs, errors, key files, the
# debug log) and the device's APDU log: no secret, as text or as hex.
files=("$PICO_SIM_LOG1")
mapfile -t -O 1 files < <(find "$out" -type f)
[ -s "$PICO_DEBUG" ] || fail "no debug log written"
grep -q 'ERR ' "$PICO_DEBUG" || fail "the debug log holds no errors: the failures were not logged"
grep -q '^> 0020' "$PICO_SIM_LOG1" || fail "the APDU log shows no VERIFY"
grep -q '^> 8062' "$PICO_SIM_LOG1" || fail "the APDU log shows no DECIPHER"
for s in "$PIN" "$WRONG" "$NEWPIN" "$SOPIN" "$WRONGSO" "$SHARE" "$PLAIN" "$Z"; do
    for p in "$s" "$(hex "$s")"; do
        if grep -n -i -F -e "$p" "${files[@]}" >&2; then
            fail "a secret ($p) appears above"
        fi
    done
done
echo "grepped ${#files[@]} files, $(cat "${files[@]}" | wc -c) bytes" >&2
echo PASS
