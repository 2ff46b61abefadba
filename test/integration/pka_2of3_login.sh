#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# m-of-n PKA: three keys registered (EC P-256, brainpoolP256r1, RSA-2048 PEM
# files), two required. Any two sign in; one alone, or one right and one
# unregistered, does not, and says how many authenticated.
. "$(dirname "$0")/provider-lib.sh"
with_devices --blank

echo "$PIN" > "$work/pin"
pka_file k1 -algorithm EC -pkeyopt ec_paramgen_curve:P-256
pka_file k2 -algorithm EC -pkeyopt ec_paramgen_curve:brainpoolP256r1
pka_file k3 -algorithm RSA -pkeyopt rsa_keygen_bits:2048
pka_file stranger -algorithm EC -pkeyopt ec_paramgen_curve:P-256
run tool init --yes --pin "$PIN" --so-pin "$SOPIN" --pka 3/2
for k in k1 k2 k3; do
    run tool pka register --key "file:$work/$k.pem" --pin-source "file:$work/pin"
done
run tool status --json > "$work/status.json"
cat "$work/status.json"
pin="pin-source=file:$work/pin"
run ossl genpkey -propquery provider=pico -algorithm EC -pkeyopt group:P-256 \
    -pkeyopt pico-label:m -pkeyopt "pico-uri:pico:?$pin&pka-key=file:$work/k1.pem&pka-key=file:$work/k2.pem" \
    -out "$work/m.pem"
run ossl pkey -pubin -in "pico:object=m" -pubout -out "$work/m.pub"
echo data > "$work/data"
# every pair of the three signs
for pair in k1:k2 k1:k3 k2:k3; do
    a=${pair%%:*} b=${pair##*:}
    run ossl dgst -sha256 -sign "pico:object=m?$pin&pka-key=file:$work/$a.pem&pka-key=file:$work/$b.pem" \
        -out "$work/sig" "$work/data"
    run openssl dgst -sha256 -verify "$work/m.pub" -signature "$work/sig" "$work/data"
done
# one key alone
run_fails ossl dgst -sha256 -sign "pico:object=m?$pin&pka-key=file:$work/k3.pem" -out "$work/x" \
    "$work/data" </dev/null
grep -qi 'needs 2 pka keys' "$work/err" || fail "one key of two: the message does not say so"
# one right, one stranger
run_fails ossl dgst -sha256 \
    -sign "pico:object=m?$pin&pka-key=file:$work/k1.pem&pka-key=file:$work/stranger.pem" \
    -out "$work/x" "$work/data" </dev/null
grep -qi '1 of 2 pka keys' "$work/err" || fail "the count of authenticated keys is not shown"
[ "$(pin_tries)" = 3 ] || fail "PKA failures cost PIN tries: $(pin_tries)"
echo PASS
