#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# pico-hsm-tool domain and dkek status on a device with two key domains: a
# domain created with 0 shares has no DKEK (and takes no share: refused before
# the slow derivation), one created with 2 expects 2, forget keeps that count,
# delete leaves the domain not set up; changes need the user PIN; the KCV of a
# random DKEK (init --dkek-shares 0) shows only in a PIN session. Every
# command has --help. No key derivation here.
export PICO_ORDER=${PICO_ORDER:-default-first} # a tool test: one provider order is enough
. "$(dirname "$0")/provider-lib.sh"
with_devices

expect_eq() { [ "$1" = "$2" ] || fail "${3:-value}: expected '$2', got '$1'"; }
must_exit() {
    local code=$1 status=0
    shift
    echo "+ (must exit $code) $*" >&2
    "$@" 2>"$work/err" </dev/null || status=$?
    cat "$work/err" >&2
    [ "$status" = "$code" ] || fail "exit $status instead of $code: $*"
}
echo "$PIN" >"$work/pin"
echo "$SOPIN" >"$work/sopin"
P="--pin-source file:$work/pin"
zero='"kcv":null,"pin_session":false'

for c in "dkek create" "dkek import" "dkek status" "domain create" "domain delete" \
    "domain forget" "domain status"; do
    # shellcheck disable=SC2086
    tool $c --help | grep -q "^Usage: pico-hsm-tool $c" || fail "$c --help"
done

# 1. two domains, none set up
run tool init --yes $P --so-pin-source "file:$work/sopin" --key-domains 2 </dev/null >/dev/null
expect_eq "$(tool domain status --json)" \
    "[{\"domain\":0,\"set_up\":false,$zero},{\"domain\":1,\"set_up\":false,$zero}]" "domains"
must_exit 3 tool domain create --domain 1 --dkek-shares 0
must_exit 2 tool domain create --dkek-shares 0 $P

# 2. 0 shares: a domain without a DKEK, which takes no share
run tool domain create --domain 1 --dkek-shares 0 $P | grep -q 'Key domain 1: no DKEK' ||
    fail "domain with 0 shares"
expect_eq "$(tool dkek status --domain 1 --json)" \
    "{\"domain\":1,\"set_up\":true,\"shares\":0,\"missing\":0,\"complete\":false,$zero}" "domain 1"
grep -q '^> 8052010101\*\*00$' "$PICO_SIM_LOG1" || fail "create APDU not 80 52 01 01 01 <n> 00"
must_exit 4 tool dkek import "$top_srcdir/test/unit/data/dkek-share-password.pbe" --domain 1 \
    --password-source env:NO_SUCH_VARIABLE $P
grep -q 'has no DKEK to import into' "$work/err" || fail "import into a domain without DKEK"
must_exit 4 tool domain create --domain 1 --dkek-shares 2 $P
grep -q 'set up already' "$work/err" || fail "create twice"

# 3. delete, then it is not set up; a second delete says so
run tool domain delete --domain 1 $P | grep -q 'Key domain 1 deleted' || fail "delete"
expect_eq "$(tool domain status --domain 1 --json)" "{\"domain\":1,\"set_up\":false,$zero}" \
    "deleted domain"
grep -q '^> 80520301$' "$PICO_SIM_LOG1" || fail "delete APDU not 80 52 03 01"
must_exit 1 tool domain delete --domain 1 $P
grep -q 'not set up' "$work/err" || fail "second delete"

# 4. two shares expected; forget keeps the count
run tool domain create --domain 0 --dkek-shares 2 $P | grep -q '2 shares, 0 imported, 2 missing' ||
    fail "domain with 2 shares"
out=$(run tool domain forget --domain 0 $P --json)
expect_eq "$out" '{"domain":0,"set_up":true,"shares":2,"missing":2,"complete":false,"kcv":null,"pin_session":true}' "forget"
# a domain beyond the device's two
must_exit 4 tool domain status --domain 5

# 5. a random DKEK: complete, its KCV only in a PIN session
run tool init --yes $P --so-pin-source "file:$work/sopin" --dkek-shares 0 </dev/null >/dev/null
tool dkek status | grep -q 'shown in a PIN session only' || fail "KCV without a PIN session"
out=$(tool dkek status $P --json)
kcv=$(sed -n 's/.*"kcv":"\([0-9A-F]\{16\}\)".*/\1/p' <<<"$out")
[ -n "$kcv" ] && [ "$kcv" != 0000000000000000 ] || fail "no KCV in a PIN session: $out"
expect_eq "$(sed -n 's/.*"missing":\([0-9]*\).*/\1/p' <<<"$out")" 0 "random DKEK complete"
