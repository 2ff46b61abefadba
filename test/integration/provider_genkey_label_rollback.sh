#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# genpkey on the device refuses, before any login or change, a key its label
# or id would make ambiguous (an empty label, one another key has); and a
# generation that fails after GENERATE ASYMMETRIC KEY PAIR leaves the device
# as it was: the new key and its files are deleted again.
. "$(dirname "$0")/provider-lib.sh"
with_devices

genkey() { # genkey LABEL [genpkey options]: an EC key on the device
    local label=$1
    shift
    ossl genpkey -propquery provider=pico -algorithm EC -pkeyopt group:P-256 \
        -pkeyopt "pico-label:$label" -pkeyopt "pico-uri:pico:?pin-value=$PIN" "$@" \
        -out "$work/$label.pem"
}
files() { "$top_builddir/test/tools/pcsc-apdu" 0 00A404000BE82B0601040181C31F020100 \
    8058000000 | tail -1; }

run genkey first -pkeyopt pico-id:01
tries=$(pin_tries) # (itself a VERIFY status APDU: counted before the count is taken)
before=$(files)
verifies=$(apdus 20)

# An empty label, a label or an id already used: refused, nothing sent but reads
run_fails genkey ""
grep -qi 'label' "$work/err" || fail "empty label: the label is not named"
run_fails genkey first
grep -q "already has the label 'first'" "$work/err" || fail "label in use: not explained"
run_fails genkey other -pkeyopt pico-id:01
grep -q 'already has that id' "$work/err" || fail "id in use: not explained"
[ "$(files)" = "$before" ] || fail "a refused key changed the device's files"
[ "$(apdus 20)" = "$verifies" ] || fail "a refused key logged in (VERIFY sent)"
[ "$(apdus 46)" = 1 ] || fail "a refused key reached GENERATE"
[ "$(pin_tries)" = "$tries" ] || fail "a refused key spent a PIN try"

# The device fails the write of the new key's description (6581, memory failure):
# the key GENERATE made is deleted, the device holds what it held before
sim_restart_with 1 --fail D7:6581
run_fails genkey second
grep -q "6581\|memory\|failed" "$work/err" || fail "the failed write is not reported"
[ "$(files)" = "$before" ] || fail "an orphan key stayed on the device: $(files) != $before"
grep -q '^> 00E4' "$PICO_SIM_LOG1" || fail "no DELETE after the failed generation"
# ... and the same request goes through once the device writes again
run genkey second
run ossl dgst -sha256 -sign "pico:object=second?pin-value=$PIN" -out "$work/sig" "$work/second.pem"
echo PASS
