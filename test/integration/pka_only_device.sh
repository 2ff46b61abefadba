#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A PKA-only device (no user PIN): PKA authenticates, but on a Pico the MKEK
# that holds every key opens only with a PIN (sc-hsm-protocol.md 4.5), so key
# use fails with a message that says the PIN is missing, never "ready".
. "$(dirname "$0")/provider-lib.sh"
with_devices --blank

pka_file k1 -algorithm EC -pkeyopt ec_paramgen_curve:P-256
echo "$SOPIN" > "$work/sopin"
run tool init --yes --so-pin "$SOPIN" --pka 1/1
run tool pka register --key "file:$work/k1.pem" --so-pin-source "file:$work/sopin"
# the PKA round itself succeeds
run tool pka login --key "file:$work/k1.pem"
# key generation needs the MKEK: refused, naming the PIN
run_fails ossl genpkey -propquery provider=pico -algorithm EC -pkeyopt group:P-256 \
    -pkeyopt pico-label:x -pkeyopt "pico-uri:pico:?pka-key=file:$work/k1.pem" -out "$work/x.pem" \
    </dev/null
grep -qi 'pin' "$work/err" || fail "the missing PIN is not named"
echo PASS
