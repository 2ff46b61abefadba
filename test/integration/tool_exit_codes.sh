#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# pico-hsm-tool's exit codes, as pico-hsm-tool(1) documents them: 0 ok (help
# included), 2 usage error, 3 authentication error (wrong PIN, missing PIN),
# 4 device or communication error (no such reader, no pcscd, device refusal);
# and a usage error never echoes an option's value (it may be a PIN).
. "$(dirname "$0")/provider-lib.sh"
with_devices

echo "$PIN" > "$work/pin"
echo 999999 > "$work/wrong"
# exits CODE [COMMAND...]: the command's exit status must be CODE
exits() {
    local code=$1 status=0
    shift
    echo "+ (exit $code) $*" >&2
    "$@" >"$work/out" 2>"$work/err" </dev/null || status=$?
    cat "$work/err" >&2
    [ "$status" = "$code" ] || fail "exit $status instead of $code: $*"
}

# 0: help, status
exits 0 tool --help
exits 0 tool key generate --help
grep -q 'Usage: pico-hsm-tool key generate' "$work/out" || fail "subcommand help not on stdout"
exits 0 tool status

# 2: usage errors, before the device is touched
exits 2 tool
exits 2 tool frobnicate
exits 2 tool status --no-such-option
exits 2 tool pin
exits 2 tool pin frobnicate
exits 2 tool key generate --type ec:nocurve --label x
exits 2 tool key generate --type rsa:100 --label x
exits 2 tool init --yes --pka 9/1 --pin-source "file:$work/pin" --so-pin 3537363231383830
exits 2 tool init --yes --pin-source "file:$work/pin" --so-pin 12345
exits 2 tool key delete --label nothing
# an unknown option's value is not echoed: it may be a PIN typed in the wrong place
exits 2 tool pin verify --pinn=246813579
! grep -q 246813579 "$work/err" || fail "a usage error echoed an option value"

# 3: authentication errors
exits 3 tool pin verify --pin-source "file:$work/wrong"
grep -qi 'pin incorrect' "$work/err" || fail "wrong PIN not named"
exits 3 tool pin verify --pin-source "file:$work/no-such-file"
exits 3 tool key generate --type ec:P-256 --label x # no PIN and no terminal
grep -qi 'pin' "$work/err" || fail "the missing PIN is not named"
run tool pin verify --pin-source "file:$work/pin" # the counter is back to 3

# 4: device and communication errors
exits 4 tool --reader "No Such Reader" status
grep -qi 'not found' "$work/err" || fail "unknown reader not reported"
exits 4 tool --reader 7 status
PCSCLITE_CSOCK_NAME=/nonexistent/pcscd.comm exits 4 tool status
grep -qi 'pcscd\|reader' "$work/err" || fail "missing pcscd not reported"
# the device refuses: counter-only unblock is off on this device (6986)
exits 4 tool pin unblock --so-pin "$SOPIN" --counter-only

# 1: anything else (a key that is not there)
exits 1 tool key export-public --label nothing
grep -qi 'no key with label' "$work/err" || fail "missing key not named"
echo PASS
