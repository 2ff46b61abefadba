#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# DKEK share files work both ways between pico-hsm-tool and OpenSC's sc-hsm-tool:
# a share pico-hsm-tool creates imports with sc-hsm-tool, and the same share
# imported with ours into a second device gives both devices the KCV ours
# printed at creation, and a share sc-hsm-tool created
# (test/unit/data/dkek-share-password.pbe) imports with ours with the KCV
# sc-hsm-tool showed for it. Ours verifies the PIN and imports in the same
# session (field-notes.md). Four 10,000,000-iteration derivations: ~20 s of CPU.
export PICO_ORDER=${PICO_ORDER:-default-first} # a tool test: one provider order is enough
. "$(dirname "$0")/provider-lib.sh"
with_devices -n 2

echo "$PIN" >"$work/pin"
echo "$SOPIN" >"$work/sopin"
echo "correct horse battery" >"$work/pw"
echo pico-dkek-test >"$work/pw-sc"
expect_eq() { [ "$1" = "$2" ] || fail "${3:-value}: expected '$2', got '$1'"; }
expect_match() { grep -Eq -- "$2" <<<"$1" || fail "${3:-output} does not match /$2/: $1"; }
kcv_of() { sed -n 's/.*"kcv":"\([0-9A-F]*\)".*/\1/p'; }

# 1. both devices expect one share
for r in "$PICO_READER1" "$PICO_READER2"; do
    TOOL_READER=$r run tool init --yes --pin-source "file:$work/pin" \
        --so-pin-source "file:$work/sopin" --dkek-shares 1 </dev/null >/dev/null
done
out=$(tool dkek status --json)
expect_eq "$out" '{"domain":0,"set_up":true,"shares":1,"missing":1,"complete":false,"kcv":null,"pin_session":false}' "status before the import"

# 2. ours creates a share; the file is sc-hsm-tool's format
out=$(run tool dkek create --out "$work/ours.pbe" --password-source "file:$work/pw" --json)
kcv=$(kcv_of <<<"$out")
[ ${#kcv} = 16 ] || fail "no KCV from dkek create: $out"
[ "$(head -c 8 "$work/ours.pbe")" = Salted__ ] && [ "$(stat -c %s "$work/ours.pbe")" = 64 ] ||
    fail "not a 64-byte Salted__ file"
[ "$(stat -c %a "$work/ours.pbe")" = 600 ] || fail "share file readable by others"

# 3. sc-hsm-tool imports ours into device 2. It verifies no PIN: the device shows zeros for
# the KCV and seals the DKEK at the next VERIFY (field-notes.md; step 4 reads it then)
out=$(sc-hsm-tool -r 1 --import-dkek-share "$work/ours.pbe" --password "correct horse battery" 2>&1) ||
    fail "sc-hsm-tool import of our share: $out"
expect_match "$out" "DKEK key check value : 0000000000000000" "sc-hsm-tool's import result"

# 4. ours imports it into device 1: VERIFY, then the import, no SELECT between them
start=$(($(wc -l <"$PICO_SIM_LOG1") + 1))
out=$(run tool dkek import "$work/ours.pbe" --password-source "file:$work/pw" \
    --pin-source "file:$work/pin" --json)
expect_eq "$(kcv_of <<<"$out")" "$kcv" "KCV after our import"
expect_match "$out" '"missing":0' "import result"
tail -n +"$start" "$PICO_SIM_LOG1" | grep -E '^> (00A4|00200081|8052)' >"$work/order"
expect_match "$(tail -2 "$work/order" | cut -c1-10 | tr '\n' ' ')" '^> 00200081 > 80520000 $' \
    "VERIFY right before the import"
# the same KCV on both devices (device 2 read by ours: its VERIFY seals sc-hsm-tool's import)
out=$(TOOL_READER=$PICO_READER2 run tool dkek status --pin-source "file:$work/pin" --json)
expect_eq "$(kcv_of <<<"$out")" "$kcv" "device 2's KCV read by pico-hsm-tool"
# without a PIN session the device shows no KCV: ours says so instead of printing zeros
tool dkek status | grep -q 'shown in a PIN session only' || fail "KCV without a PIN session"

# 5. a share sc-hsm-tool created imports with ours (KCV as sc-hsm-tool showed, data/README)
run tool init --yes --pin-source "file:$work/pin" --so-pin-source "file:$work/sopin" \
    --dkek-shares 1 </dev/null >/dev/null
out=$(run tool dkek import "$top_srcdir/test/unit/data/dkek-share-password.pbe" \
    --password-source "file:$work/pw-sc" --pin-source "file:$work/pin")
expect_match "$out" "DKEK check value: F731A7299D5ECA06" "KCV of sc-hsm-tool's share"
expect_match "$out" "1 imported, 0 missing" "import text"
# 6. a complete DKEK takes no more shares: refused before the slow derivation
status=0
tool dkek import "$work/ours.pbe" --password-source "file:$work/pw" \
    --pin-source "file:$work/pin" 2>"$work/err" || status=$?
[ "$status" = 4 ] || fail "a share into a complete DKEK: exit $status"
grep -q 'has all its 1 shares' "$work/err" || fail "complete DKEK: $(cat "$work/err")"
