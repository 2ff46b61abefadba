#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# pico-hsm-tool init sets what it is asked to (PIN tries, PKA n/m, option bits,
# PKA-only), `status --json` reports it, and OpenSC's sc-hsm-tool, an
# independent client, reads the same tries and PKA numbers. Without --yes and
# without a terminal init refuses (exit 2) and leaves a blank device blank.
. "$(dirname "$0")/provider-lib.sh"
with_devices --blank

echo "$PIN" > "$work/pin"
echo "$SOPIN" > "$work/sopin"
# The tool's JSON is compact, one object, members in a fixed order: grep reads it.
json_has() { grep -qF -- "$2" <<<"$1" || fail "status --json lacks $2: $1"; }

# 1. no --yes, no terminal: refused before anything reaches the device
status=0
tool init --pin-source "file:$work/pin" --so-pin-source "file:$work/sopin" </dev/null \
    2>"$work/err" || status=$?
cat "$work/err" >&2
[ "$status" = 2 ] || fail "init without --yes and without a terminal: exit $status, not 2"
grep -qi -- '--yes' "$work/err" || fail "the refusal does not say how to confirm"
! grep -q '^> 8050' "$PICO_SIM_LOG1" || fail "INITIALIZE was sent although init refused"
s=$(tool status --json)
json_has "$s" '"initialized":false'
json_has "$s" '"user_pin":{"state":"not-set","tries":null}'

# 2. PIN only, 5 tries
run tool init --yes --pin-source "file:$work/pin" --so-pin-source "file:$work/sopin" \
    --retries 5 </dev/null
s=$(tool status --json)
json_has "$s" '"options":{"value":"0001","names":["reset-retry-counter"]}'
json_has "$s" '"user_pin":{"state":"set","tries":5}'
json_has "$s" '"so_pin":{"state":"set","tries":15}'
json_has "$s" '"pka":{"configured":false}'
json_has "$s" '"keys":0'
json_has "$s" '"device":"ESPICOHSMTR00001"'
out=$(sc-hsm-tool -r 0)
expect() { grep -Eq -- "$2" <<<"$1" || fail "sc-hsm-tool does not agree, /$2/: $1"; }
expect "$out" "User PIN tries left *: 5"
expect "$out" "SO-PIN tries left *: 15"
# the new PIN works for an independent client
pkcs11-tool --module /usr/lib/x86_64-linux-gnu/opensc-pkcs11.so --login --pin "$PIN" \
    --list-objects >/dev/null || fail "OpenSC cannot log in with the PIN init set"

# 3. PIN + PKA 3 of which 2, replaceable, PIN and PKA combined
run tool init --yes --pin-source "file:$work/pin" --so-pin-source "file:$work/sopin" \
    --pka 3/2 --pka-replaceable --pin-and-pka </dev/null
s=$(tool status --json)
json_has "$s" '"options":{"value":"0019","names":["reset-retry-counter","pka-replaceable","pin-and-pka"]}'
json_has "$s" '"user_pin":{"state":"set","tries":3}'
json_has "$s" '"pka":{"configured":true,"total":3,"missing":3,"required":2,"authenticated":0'
json_has "$s" '{"slot":2,"chr":null,"authenticated":false}'
out=$(sc-hsm-tool -r 0 -S)
expect "$out" "Number of public keys: *3"
expect "$out" "Missing public keys: *3"
expect "$out" "Required pubkeys for auth: *2"
expect "$out" "Authenticated public keys: *0"
expect "$(sc-hsm-tool -r 0)" "User PIN tries left *: 3"

# 4. PKA only (no user PIN), 2 keys of which 1; no reset retry counter; a DKEK share
run tool init --yes --so-pin-source "file:$work/sopin" --pka 2/1 --no-reset-retry-counter \
    --dkek-shares 1 </dev/null 2>"$work/err"
grep -qi 'no user pin' "$work/err" || fail "PKA-only init does not warn about the PIN"
s=$(tool status --json)
json_has "$s" '"options":{"value":"0000","names":[]}'
json_has "$s" '"pka":{"configured":true,"total":2,"missing":2,"required":1,"authenticated":0'
out=$(sc-hsm-tool -r 0 -S)
expect "$out" "Number of public keys: *2"
expect "$out" "Required pubkeys for auth: *1"

# 5. the text status says the same
tool status > "$work/status.txt"
grep -q 'PKA keys total: *2' "$work/status.txt" || fail "text status: PKA total"
grep -q 'SO-PIN: *15 tries left' "$work/status.txt" || fail "text status: SO-PIN tries"

# no PIN in any output, and INITIALIZE's data (the PINs) hidden in the device log
for f in "$work"/*; do
    case "$f" in *pin) continue ;; esac
    ! grep -q "$PIN\|$SOPIN" "$f" || fail "a PIN appears in $(basename "$f")"
done
! grep -q "$(printf %s "$PIN" | xxd -p)" "$PICO_SIM_LOG1" || fail "the PIN reached the device log"
echo PASS
