#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# pico-hsm-tool at a terminal (a pty, as a person types): a mistyped PIN
# confirmation says "the two entries differ" (exit 2) and Ctrl-C says
# "cancelled" (exit 3), at the prompts of init, pin change and a login, with
# no hint to "run on a terminal" and the device unchanged; interactive
# `init --pka` asks for the user PIN like any init, and an empty one (a
# PKA-only device, whose keys stay locked) is warned about before the question.
. "$(dirname "$0")/provider-lib.sh"
with_devices

T="$top_builddir/tools/pico-hsm-tool"
R=$PICO_READER1
echo "$PIN" >"$work/pin"
# term CODE [EXPECT SEND]... -- ARGS: pico-hsm-tool ARGS on a pty; the exit status must be CODE
term() {
    local code=$1 status=0
    shift
    echo "+ (on a terminal, exit $code) $*" >&2
    "$top_srcdir/test/tools/pty-run" "$@" >"$work/out" || status=$?
    cat "$work/out" >&2
    [ "$status" = "$code" ] || fail "exit $status instead of $code: $*"
}
says() { grep -q -- "$1" "$work/out" || fail "the terminal did not show: $1"; }
never() { ! grep -q -- "$1" "$work/out" || fail "the terminal showed: $1"; }
# the PIN is still $PIN (its tries all left) and the key list still has COUNT keys
unchanged() {
    run "$T" --reader "$R" pin verify --pin-source "file:$work/pin" >/dev/null
    expect_keys "$1"
}
expect_keys() {
    local n
    n=$("$T" --reader "$R" key list --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["keys"]))')
    [ "$n" = "$1" ] || fail "$n keys on the device instead of $1"
}
run "$T" --reader "$R" key generate --type ec:prime256v1 --label kept \
    --pin-source "file:$work/pin" >/dev/null
expect_keys 1

# pin change: the new PIN mistyped at its confirmation
term 2 'Current user PIN' "$PIN\n" 'New user PIN:' "111111\n" '(again|Verifying)' "222222\n" \
    -- "$T" --reader "$R" pin change
says 'the two entries differ'
never 'pin-source'
unchanged 1
# pin change: Ctrl-C at the first prompt
term 3 'Current user PIN' '\x03' -- "$T" --reader "$R" pin change
says 'cancelled'
never 'run on a terminal'
unchanged 1
# a login's PIN prompt (key generate): Ctrl-C
term 3 'User PIN for' '\x03' -- "$T" --reader "$R" key generate --type ec:prime256v1 --label no
says 'cancelled'
never 'run on a terminal'
unchanged 1

# init: the user PIN mistyped, then Ctrl-C at the SO-PIN
term 2 'New user PIN:' "$PIN\n" '(again|Verifying)' "${PIN}0\n" -- "$T" --reader "$R" init
says 'the two entries differ'
unchanged 1
term 3 'New user PIN:' "$PIN\n" '(again|Verifying)' "$PIN\n" 'SO-PIN' '\x03' -- "$T" --reader "$R" init
says 'cancelled'
never 'pin-source'
unchanged 1

# init --pka 1/1 on a terminal: the user PIN is asked for; an empty one is warned about
# before the question (answered no: nothing changes)
term 2 'New user PIN' '\n' '(again|Verifying)' '\n' 'SO-PIN' "$SOPIN\n" '(again|Verifying)' "$SOPIN\n" \
    "Type 'yes'" "no\n" -- "$T" --reader "$R" init --pka 1/1
says 'PKA only, no user PIN'
python3 - "$work/out" <<'PY' || fail "the PKA-only warning comes after the question"
import sys
out = open(sys.argv[1]).read()
sys.exit(0 if out.index("PKA only, no user PIN") < out.index("Type 'yes'") else 1)
PY
says 'not confirmed'
unchanged 1
# and with a PIN typed, the device gets it beside PKA
term 0 'New user PIN' "$PIN\n" '(again|Verifying)' "$PIN\n" 'SO-PIN' "$SOPIN\n" '(again|Verifying)' "$SOPIN\n" \
    "Type 'yes'" "yes\n" -- "$T" --reader "$R" init --pka 1/1
never 'PKA only, no user PIN'
says 'The new user PIN was verified'
"$T" --reader "$R" status --json >"$work/st"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d["user_pin"]["state"]=="set" and d["pka"]["configured"] else 1)' "$work/st" ||
    fail "init --pka on a terminal did not set a user PIN with PKA: $(cat "$work/st")"
echo "PASS: prompts on a terminal"
