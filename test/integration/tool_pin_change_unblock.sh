#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# pico-hsm-tool pin: status spends no try; change sets a new PIN; a wrong PIN
# exits 3 and costs exactly one try; the last try is spent only on request,
# then the PIN is blocked; the SO-PIN unblocks it with a new PIN, which works.
. "$(dirname "$0")/provider-lib.sh"
with_devices

echo "$PIN" > "$work/old.pin"
echo 24681357 > "$work/new.pin"
echo 11111111 > "$work/wrong.pin"
echo 97531864 > "$work/third.pin"
echo "$SOPIN" > "$work/so.pin"
tries() { tool pin status --json | sed -n 's/.*"user_pin":{"state":"[a-z-]*","tries":\([0-9a-z]*\)}.*/\1/p'; }
# exit status of a command that must fail with CODE, stderr kept in $work/err
must_exit() {
    local code=$1 status=0
    shift
    echo "+ (must exit $code) $*" >&2
    "$@" 2>"$work/err" </dev/null || status=$?
    cat "$work/err" >&2
    [ "$status" = "$code" ] || fail "exit $status instead of $code: $*"
}

# 1. status spends nothing; it agrees with an independent reader of the state
[ "$(tries)" = 3 ] || fail "tries of a fresh device: $(tries)"
[ "$(tries)" = 3 ] || fail "pin status spent a try"
[ "$(pin_tries)" = 3 ] || fail "raw PIN status disagrees: $(pin_tries)"
tool pin status | grep -q 'User PIN: *3 tries left' || fail "text pin status"

# 2. change: the old PIN, then the new one
run tool pin change --pin-source "file:$work/old.pin" --new-pin-source "file:$work/new.pin"
run tool pin verify --pin-source "file:$work/new.pin"
must_exit 3 tool pin verify --pin-source "file:$work/old.pin"
grep -qi 'pin incorrect' "$work/err" || fail "wrong PIN not reported as such"
grep -q '2 tries left' "$work/err" || fail "tries left not shown"
[ "$(tries)" = 2 ] || fail "one wrong PIN cost more or less than one try: $(tries)"
# a wrong old PIN in a change costs one try too, and changes nothing
must_exit 3 tool pin change --pin-source "file:$work/wrong.pin" \
    --new-pin-source "file:$work/third.pin"
[ "$(tries)" = 1 ] || fail "wrong old PIN in change: $(tries)"

# 3. the last try: refused without --pin-last-try (nothing spent), spent with it
must_exit 3 tool pin verify --pin-source "file:$work/wrong.pin"
grep -q -- '--pin-last-try' "$work/err" || fail "the last-try refusal does not name the option"
[ "$(tries)" = 1 ] || fail "the last try was spent without consent: $(tries)"
must_exit 3 tool pin verify --pin-source "file:$work/wrong.pin" --pin-last-try
tool pin status --json | grep -q '"user_pin":{"state":"blocked","tries":0}' ||
    fail "PIN not blocked: $(tool pin status --json)"
must_exit 3 tool pin verify --pin-source "file:$work/new.pin"
grep -qi 'blocked' "$work/err" || fail "the right PIN on a blocked device: not told it is blocked"
grep -q 'pin unblock' "$work/err" || fail "no hint to unblock"

# 4. unblock with the SO-PIN and a new PIN; a wrong SO-PIN first costs one SO try
echo 0000000000000000 > "$work/wrongso.pin"
must_exit 3 tool pin unblock --so-pin-source "file:$work/wrongso.pin" \
    --new-pin-source "file:$work/third.pin"
tool pin status --json | grep -q '"so_pin":{"state":"set","tries":14}' || fail "SO-PIN tries"
run tool pin unblock --so-pin-source "file:$work/so.pin" --new-pin-source "file:$work/third.pin"
[ "$(tries)" = 3 ] || fail "tries after unblock: $(tries)"
must_exit 3 tool pin verify --pin-source "file:$work/new.pin"
run tool pin verify --pin-source "file:$work/third.pin"
[ "$(tries)" = 3 ] || fail "a good PIN did not reset the counter: $(tries)"
# the device option for a counter-only reset is off: the device refuses (exit 4)
must_exit 4 tool pin unblock --so-pin-source "file:$work/so.pin" --counter-only
# an independent client logs in with the new PIN
pkcs11-tool --module /usr/lib/x86_64-linux-gnu/opensc-pkcs11.so --login --pin 97531864 \
    --list-objects >/dev/null || fail "OpenSC cannot log in with the unblocked PIN"

# 5. the SO-PIN itself changes too
run tool pin change --so --so-pin-source "file:$work/so.pin" --new-pin 0011223344556677
run tool pin verify --so --so-pin 0011223344556677
must_exit 3 tool pin verify --so --so-pin-source "file:$work/so.pin"

# no PIN in any output or error
for f in "$work"/*; do
    case "$f" in *.pin) continue ;; esac
    ! grep -q "$PIN\|24681357\|11111111\|97531864\|$SOPIN" "$f" || fail "a PIN appears in $f"
done
echo PASS
