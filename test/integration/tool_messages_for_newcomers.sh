#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# What a newcomer reads from pico-hsm-tool: a reader name that matches nothing
# is shown as given, with the readers that exist (no stray double space); an
# empty second reader is no error in a -v trace; --help names --version; the
# man pages hold no raw control characters and point at each other.
. "$(dirname "$0")/provider-lib.sh"
with_devices -n 2

# the quoted name a variable such as t="... --reader 'Pico'" hands over
status=0
"$top_builddir/tools/pico-hsm-tool" --reader "'Pico'" status 2>"$work/err" || status=$?
cat "$work/err" >&2
expect() { grep -qF -- "$1" "$work/err" || fail "${2:-stderr} lacks: $1"; }
[ "$status" = 4 ] || fail "unknown reader: exit $status instead of 4"
expect "reader=\"'Pico'\""
expect "readers: \"$PICO_READER1\", \"$PICO_READER2\""
! grep -q '  ' "$work/err" || fail "double space in the error"

# an empty reader (the second device gone) is skipped, and no error in the trace
kill "$PICO_SIM_PID2"
while kill -0 "$PICO_SIM_PID2" 2>/dev/null; do sleep 0.01; done
sleep 0.3
"$top_builddir/tools/pico-hsm-tool" -v status >"$work/out" 2>"$work/err" || fail "-v status failed"
grep -q "^Reader: *$PICO_READER1" "$work/out" || fail "status of the first reader not shown"
! grep -E '\bERR\b' "$work/err" || fail "-v status calls an empty reader an error"

"$top_builddir/tools/pico-hsm-tool" --help | grep -q -- '--version' || fail "--help lacks --version"
"$top_builddir/tools/pico-hsm-tool" --version | grep -q '^pico-hsm-tool [0-9]' || fail "--version"

for m in "$top_srcdir"/doc/*.[17]; do
    ! LC_ALL=C grep -nP '[\x00-\x08\x0b-\x1f\x7f]' "$m" || fail "raw control character in $m"
done
see_also() { sed -n '/^\.SH SEE ALSO/,$p' "$top_srcdir/doc/$1" | grep -q "^\.BR $2 ($3)" ||
    fail "SEE ALSO of $1 lacks $2($3)"; }
see_also pico-provider.7 pico-hsm-tool 1
see_also pico-hsm-tool.1 pico-provider 7
echo "PASS: tool messages for newcomers"
