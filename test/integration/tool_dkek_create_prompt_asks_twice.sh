#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# pico-hsm-tool dkek create at a terminal (a pty): the share's password is
# asked twice; entries that differ (exit 2) or a password under 6 characters
# (exit 2) write no file; matching entries write a 64-byte share file. No
# device is needed; one 10,000,000-iteration derivation (~5 s of CPU).
. "$(dirname "$0")/provider-lib.sh"

T="$top_builddir/tools/pico-hsm-tool"
term() {
    local code=$1 status=0
    shift
    echo "+ (on a terminal, exit $code) $*" >&2
    "$top_srcdir/test/tools/pty-run" -t 60 "$@" >"$work/out" || status=$?
    cat "$work/out" >&2
    [ "$status" = "$code" ] || fail "exit $status instead of $code: $*"
}
says() { grep -q -- "$1" "$work/out" || fail "the terminal did not show: $1"; }

term 2 'Password for the DKEK share:' "correct horse\n" '(again|Verifying)' "correct horsf\n" \
    -- "$T" dkek create --out "$work/a.pbe"
says 'the two entries differ'
[ ! -e "$work/a.pbe" ] || fail "a file written after entries that differ"
term 2 'Password for the DKEK share:' "abc\n" '(again|Verifying)' "abc\n" \
    -- "$T" dkek create --out "$work/a.pbe"
says '6 characters or more'
[ ! -e "$work/a.pbe" ] || fail "a file written for a short password"
term 0 'Password for the DKEK share:' "correct horse\n" '(again|Verifying)' "correct horse\n" \
    -- "$T" dkek create --out "$work/a.pbe"
says 'check value [0-9A-F]\{16\}'
[ "$(stat -c %s "$work/a.pbe")" = 64 ] || fail "no 64-byte share file"
