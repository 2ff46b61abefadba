#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Shamir 2-of-3 password shares both ways with OpenSC's sc-hsm-tool: the shares
# pico-hsm-tool prints for a new share file open it through sc-hsm-tool's
# prompts (shares 1 and 3), and the shares sc-hsm-tool printed for its file
# (test/unit/data/dkek-share-2of3.txt, shares 2 and 3, typed as its prompts
# take them) open that file through ours, with the KCV sc-hsm-tool showed.
# Three 10,000,000-iteration derivations: ~15 s of CPU.
export PICO_ORDER=${PICO_ORDER:-default-first} # a tool test: one provider order is enough
. "$(dirname "$0")/provider-lib.sh"
with_devices -n 2

expect_eq() { [ "$1" = "$2" ] || fail "${3:-value}: expected '$2', got '$1'"; }
expect_match() { grep -Eq -- "$2" <<<"$1" || fail "${3:-output} does not match /$2/: $1"; }
echo "$PIN" >"$work/pin"
echo "$SOPIN" >"$work/sopin"
for r in "$PICO_READER1" "$PICO_READER2"; do
    TOOL_READER=$r run tool init --yes --pin-source "file:$work/pin" \
        --so-pin-source "file:$work/sopin" --dkek-shares 1 </dev/null >/dev/null
done

# 1. ours: a share file whose random password is split 2-of-3, printed as sc-hsm-tool does
run tool dkek create --out "$work/ours.pbe" --shares 3 --threshold 2 </dev/null >"$work/shares"
cat "$work/shares" >&2
kcv=$(sed -n 's/^DKEK share written to .* (check value \([0-9A-F]*\))\.$/\1/p' "$work/shares")
prime=$(sed -n 's/^Prime *: //p' "$work/shares" | sort -u)
value() { sed -n "/^Share ID *: $1\$/{n;s/^Share value : //p}" "$work/shares"; }
[ "$(sed -n 's/^Prime *: //p' "$work/shares" | wc -l)" = 3 ] || fail "not 3 shares printed"
[ "$(wc -l <<<"$prime")" = 1 ] && [ -n "$(value 3)" ] && [ ${#kcv} = 16 ] ||
    fail "printout not as sc-hsm-tool's"

# 2. sc-hsm-tool rebuilds the password from shares 1 and 3 at its prompts
out=$(printf '%s\n\n1\n%s\n\n3\n%s\n' "$prime" "$(value 1)" "$(value 3)" |
    sc-hsm-tool -r 1 --import-dkek-share "$work/ours.pbe" --pwd-shares-total 2 2>&1) ||
    fail "sc-hsm-tool import with our password shares: $out"
expect_match "$out" "DKEK share imported" "sc-hsm-tool import"
out=$(TOOL_READER=$PICO_READER2 run tool dkek status --pin-source "file:$work/pin")
expect_match "$out" "DKEK check value: $kcv" "KCV of our share imported by sc-hsm-tool"

# 3. ours rebuilds sc-hsm-tool's password from its shares 2 and 3, answered as its prompts
sc=$top_srcdir/test/unit/data/dkek-share-2of3.txt
scvalue() { sed -n "/^Share ID *: $1\$/{n;s/^Share value : //p}" "$sc"; }
printf '%s\n2\n%s\n3\n%s\n' "$(sed -n 's/^Prime *: //p' "$sc" | head -1)" "$(scvalue 2)" \
    "$(scvalue 3)" >"$work/sc-shares"
out=$(run tool dkek import "$top_srcdir/test/unit/data/dkek-share-2of3.pbe" --password-shares 2 \
    --password-source "file:$work/sc-shares" --pin-source "file:$work/pin" --json)
expect_match "$out" '"kcv":"208E49394A8632EE"' "KCV of sc-hsm-tool's 2-of-3 share"

# 4. one share is not enough: refused before any derivation or device change
status=0
head -3 "$work/sc-shares" >"$work/one-share"
TOOL_READER=$PICO_READER2 tool init --yes --pin-source "file:$work/pin" \
    --so-pin-source "file:$work/sopin" --dkek-shares 1 </dev/null >/dev/null 2>&1
TOOL_READER=$PICO_READER2 tool dkek import "$top_srcdir/test/unit/data/dkek-share-2of3.pbe" \
    --password-shares 2 --password-source "file:$work/one-share" 2>"$work/err" || status=$?
[ "$status" = 2 ] || [ "$status" = 1 ] || fail "one password share: exit $status"
grep -q 'at least 2 shares' "$work/err" || fail "one password share: $(cat "$work/err")"
