#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# PIN + PKA (one key of one, a PEM file signer): pico-hsm-tool initializes the
# device and registers the key; the provider logs in with the PIN first, then
# PKA, and signs. A missing or wrong factor fails with a message that names it;
# a refused PKA key costs no PIN try; PKA without the PIN cannot sign.
. "$(dirname "$0")/provider-lib.sh"
with_devices --blank

echo "$PIN" > "$work/pin"
pka_file pka1 -algorithm EC -pkeyopt ec_paramgen_curve:P-256
pka_file other -algorithm EC -pkeyopt ec_paramgen_curve:P-256
# 1. the device: PIN and one PKA key required
run tool init --yes --pin "$PIN" --so-pin "$SOPIN" --pka 1/1 --pin-and-pka
run tool pka register --key "file:$work/pka1.pem" --pin-source "file:$work/pin"
tool pka status | tee "$work/status"
grep -qi 'registered' "$work/status" || fail "pka status does not show the registered key"

factors="pin-source=file:$work/pin&pka-key=file:$work/pka1.pem"
# 2. a key generated on the device (the generation needs both factors too)
run ossl genpkey -propquery provider=pico -algorithm EC -pkeyopt group:P-256 \
    -pkeyopt pico-label:signer -pkeyopt "pico-uri:pico:?$factors" -out "$work/signer.pem"
run ossl pkey -pubin -in "pico:object=signer" -pubout -out "$work/signer.pub"
# 3. both factors: the signature verifies with plain openssl
echo "message to sign" > "$work/data"
run ossl dgst -sha256 -sign "pico:object=signer?$factors" -out "$work/sig" "$work/data"
run openssl dgst -sha256 -verify "$work/signer.pub" -signature "$work/sig" "$work/data"
# 4. no PKA key: refused, the message says PKA keys are needed
run_fails ossl dgst -sha256 -sign "pico:object=signer?pin-source=file:$work/pin" \
    -out "$work/sig2" "$work/data" </dev/null
grep -qi 'pka\|public key authentication' "$work/err" || fail "no mention of the missing pka key"
# 5. a key that is not registered: refused, and no PIN try is lost
[ "$(pin_tries)" = 3 ] || fail "PIN tries before the wrong key: $(pin_tries)"
run_fails ossl dgst -sha256 \
    -sign "pico:object=signer?pin-source=file:$work/pin&pka-key=file:$work/other.pem" \
    -out "$work/sig3" "$work/data" </dev/null
grep -qi 'not registered' "$work/err" || fail "the wrong pka key is not named as such"
[ "$(pin_tries)" = 3 ] || fail "a refused pka key cost a PIN try: $(pin_tries)"
# 6. PKA without the PIN (no PIN source, no terminal): cannot sign, the message names the PIN
run_fails ossl dgst -sha256 -sign "pico:object=signer?pka-key=file:$work/pka1.pem" \
    -out "$work/sig4" "$work/data" </dev/null
grep -qi 'pin' "$work/err" || fail "the missing PIN is not named"
[ ! -s "$work/sig4" ] || fail "a signature came out without the PIN"
# 7. the factors from openssl.cnf, as a daemon gets them
pico_cnf "$work/openssl.cnf" "pico-pin-source = file:$work/pin" "pico-pka-key = file:$work/pka1.pem"
OPENSSL_CONF="$work/openssl.cnf" run openssl dgst -sha256 -sign "pico:object=signer" \
    -out "$work/sig5" "$work/data"
run openssl dgst -sha256 -verify "$work/signer.pub" -signature "$work/sig5" "$work/data"
# nothing secret in the debug log
PICO_DEBUG="$work/debug.log" run ossl dgst -sha256 -sign "pico:object=signer?$factors" \
    -out "$work/sig6" "$work/data"
! grep -q "$PIN" "$work/debug.log" || fail "the PIN is in the debug log"
grep -q 'pka key' "$work/debug.log" || fail "the debug log does not show the pka round"
echo PASS
