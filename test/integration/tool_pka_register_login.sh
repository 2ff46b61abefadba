#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# pico-hsm-tool pka, end to end with PEM file signers: export writes a
# registration request (binary and PEM) that register takes back; register
# needs a PIN session and shows each slot's CHR (OpenSC's sc-hsm-tool agrees
# on the counts); login verifies the PIN, then signs one challenge per key,
# exits 0 at the required count and 3 below it, naming what is missing,
# without costing a PIN try; replace works only with the option set at init.
. "$(dirname "$0")/provider-lib.sh"
with_devices --blank

echo "$PIN" > "$work/pin"
echo "$SOPIN" > "$work/sopin"
pka_file k1 -algorithm EC -pkeyopt ec_paramgen_curve:P-256
pka_file k2 -algorithm RSA -pkeyopt rsa_keygen_bits:2048
pka_file k3 -algorithm EC -pkeyopt ec_paramgen_curve:P-256
pka_file stranger -algorithm EC -pkeyopt ec_paramgen_curve:P-256
exits() {
    local code=$1 status=0
    shift
    echo "+ (exit $code) $*" >&2
    "$@" >"$work/out" 2>"$work/err" </dev/null || status=$?
    cat "$work/out" "$work/err" >&2
    [ "$status" = "$code" ] || fail "exit $status instead of $code: $*"
}

# 1. a device with 3 PKA keys of which 2 are required, keys replaceable
run tool init --yes --pin-source "file:$work/pin" --so-pin-source "file:$work/sopin" \
    --pka 3/2 --pka-replaceable </dev/null

# 2. export: binary and PEM requests, self-referenced (CAR = CHR = the key's name)
run tool pka export --key "file:$work/k1.pem" -o "$work/k1.req"
run tool pka export --key "file:$work/k2.pem" -o "$work/k2.req.pem" --pem
[ "$(head -c 1 "$work/k1.req" | xxd -p)" = 67 ] || fail "the request does not start with 67"
grep -q 'BEGIN CV CERTIFICATE REQUEST' "$work/k2.req.pem" || fail "no PEM request"
chr1=$(tool pka export --key "file:$work/k1.pem" -o /dev/null 2>&1 | sed -n 's/.*(CHR \(PK[0-9A-F]*\)).*/\1/p')
[ ${#chr1} = 16 ] || fail "the CHR is not 16 characters: '$chr1'"
grep -qa "$chr1" "$work/k1.req" || fail "the request does not carry the CHR"

# 3. register: refused without a PIN session (no PIN given, no terminal): exit 3
exits 3 tool pka register --request "$work/k1.req"
tool pka status --json | grep -q '"missing":3' || fail "a refused registration registered"
run tool pka register --request "$work/k1.req" --pin-source "file:$work/pin"
run tool pka register --request "$work/k2.req.pem" --pin-source "file:$work/pin"
# the SO-PIN opens the session as well
exits 0 tool pka register --key "file:$work/k3.pem" --so-pin-source "file:$work/sopin" --json
grep -q '"registered":"PK[0-9A-F]*00001","pka":{"configured":true' "$work/out" ||
    fail "register --json: $(cat "$work/out")"
tool pka status --json > "$work/status.json"
grep -q '"total":3,"missing":0,"required":2' "$work/status.json" || fail "status: $(cat "$work/status.json")"
grep -q "{\"slot\":0,\"chr\":\"$chr1\"" "$work/status.json" || fail "slot 0 is not k1's CHR"
tool pka status | grep -q "PKA slot 0: *$chr1 (registered)" || fail "text status: slot 0"
sc-hsm-tool -r 0 -S > "$work/opensc"
grep -Eq 'Number of public keys: *3' "$work/opensc" || fail "sc-hsm-tool: total"
grep -Eq 'Missing public keys: *0' "$work/opensc" || fail "sc-hsm-tool: missing"
grep -Eq 'Required pubkeys for auth: *2' "$work/opensc" || fail "sc-hsm-tool: required"
# every slot is taken now: one more is refused by the device (6A84): exit 4
exits 4 tool pka register --key "file:$work/stranger.pem" --pin-source "file:$work/pin"

# 4. login: PIN, then two keys (EC and RSA): authenticated
exits 0 tool pka login --key "file:$work/k1.pem" --key "file:$work/k2.pem" \
    --pin-source "file:$work/pin"
grep -q 'User PIN verified' "$work/out" || fail "login did not verify the PIN"
grep -q 'Authenticated: 2 of 2' "$work/out" || fail "login: not authenticated"
# one key: exit 3, and the message says one more key is needed
exits 3 tool pka login --key "file:$work/k3.pem" --pin-source "file:$work/pin"
grep -q '1 of 2 required PKA keys' "$work/err" || fail "the missing key is not named"
# one registered key and one stranger: the stranger is named as not registered
exits 3 tool pka login --key "file:$work/k1.pem" --key "file:$work/stranger.pem" \
    --pin-source "file:$work/pin" --json
grep -q '"result":"not-registered"' "$work/out" || fail "the stranger is not reported"
grep -q '"authenticated":false' "$work/out" || fail "JSON: authenticated"
[ "$(pin_tries)" = 3 ] || fail "PKA failures cost PIN tries: $(pin_tries)"
# a wrong PIN stops before any key signs: exit 3, one try spent
echo 000000 > "$work/wrong"
exits 3 tool pka login --key "file:$work/k1.pem" --key "file:$work/k2.pem" \
    --pin-source "file:$work/wrong"
grep -qi 'pin incorrect' "$work/err" || fail "wrong PIN not named"
[ "$(pin_tries)" = 2 ] || fail "a wrong PIN: tries $(pin_tries)"
run tool pin verify --pin-source "file:$work/pin"

# 5. replace: slot 1 gets the stranger; the old key no longer logs in, the new one does
run tool pka register --key "file:$work/stranger.pem" --replace 1 --pin-source "file:$work/pin"
exits 3 tool pka login --key "file:$work/k1.pem" --key "file:$work/k2.pem" \
    --pin-source "file:$work/pin"
exits 0 tool pka login --key "file:$work/k1.pem" --key "file:$work/stranger.pem" \
    --pin-source "file:$work/pin"
# keys on the device need both factors: without --pka-key key generation is refused (3)
exits 3 tool key generate --type ec:P-256 --label k --pin-source "file:$work/pin"
grep -q -- '--pka-key' "$work/err" || fail "the missing PKA keys are not named"
exits 0 tool key generate --type ec:P-256 --label k --pin-source "file:$work/pin" \
    --pka-key "file:$work/k3.pem" --pka-key "file:$work/stranger.pem"

# 6. without the pka-replaceable option the device refuses a replacement: exit 4
run tool init --yes --pin-source "file:$work/pin" --so-pin-source "file:$work/sopin" \
    --pka 1/1 </dev/null
run tool pka register --key "file:$work/k1.pem" --pin-source "file:$work/pin"
exits 4 tool pka register --key "file:$work/k2.pem" --replace 0 --pin-source "file:$work/pin"
grep -qi 'not replaceable' "$work/err" || fail "the refusal does not say why"
exits 0 tool pka login --key "file:$work/k1.pem" --pin-source "file:$work/pin"

for f in "$work"/*; do
    case "$f" in *pin | */wrong) continue ;; esac
    ! grep -q "$PIN\|$SOPIN" "$f" || fail "a PIN appears in $f"
done
echo PASS
