#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A PKA-only device (initialized with PKA and no user PIN) answers the PIN status with tries
# left like any device, and a VERIFY with data would spend a try on a PIN that is none. With
# a PIN source and the PKA key configured, the provider's login (common/auth.c) tells it by
# the user PIN's EF and sends no PIN: the generation fails, saying the keys are locked, and
# the tries are untouched. pico-hsm-tool pka login with a PIN refuses the PIN before sending it,
# and pin status shows no user PIN.
. "$(dirname "$0")/provider-lib.sh"
with_devices --blank

verifies() { grep -ciE '^> 00200081[0-9a-f]{2}' "$PICO_SIM_LOG1" || true; } # VERIFY with data
echo "$PIN" > "$work/pin"
echo "$SOPIN" > "$work/sopin"
run openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$work/pka1.pem"
run tool init --yes --so-pin "$SOPIN" --pka 1/1 >/dev/null
run tool pka register --key "file:$work/pka1.pem" --so-pin-source "file:$work/sopin" >/dev/null
[ "$(pin_tries 0)" = 3 ] || fail "tries before: $(pin_tries 0)"
# pin status says what the device is, not "3 tries left"
run tool pin status > "$work/status"
grep -q '^User PIN: *none (initialized for PKA only' "$work/status" || fail "pin status: $(cat "$work/status")"
run tool --json pin status > "$work/status.json"
grep -q '"user_pin":{"state":"none","tries":null}' "$work/status.json" ||
    fail "pin status --json: $(cat "$work/status.json")"

pico_cnf "$work/openssl.cnf" "pico-pin-source = file:$work/pin" \
    "pico-pka-key = file:$work/pka1.pem"
export OPENSSL_CONF=$work/openssl.cnf
v0=$(verifies)
run_fails ossl genpkey -propquery provider=pico -algorithm EC -pkeyopt group:P-256 \
    -pkeyopt pico-label:k -out "$work/k.pem"
grep -qi "locked" "$work/err" || fail "the refusal does not say the keys are locked: $(cat "$work/err")"
[ "$(verifies)" = "$v0" ] || fail "a PIN was sent to a device that has none"
[ "$(pin_tries 0)" = 3 ] || fail "tries after the provider: $(pin_tries 0)"

# the tool: a PIN given for a PKA-only device is refused before it is sent
run_fails tool pka login --key "file:$work/pka1.pem" --pin-source "file:$work/pin"
grep -qi "no user pin" "$work/err" || fail "pka login with a PIN: $(cat "$work/err")"
[ "$(verifies)" = "$v0" ] || fail "pico-hsm-tool sent a PIN to a device that has none"
[ "$(pin_tries 0)" = 3 ] || fail "tries after the tool: $(pin_tries 0)"
# without a PIN, PKA alone authenticates (the keys stay locked, as the tool says)
run tool pka login --key "file:$work/pka1.pem" --no-pin
