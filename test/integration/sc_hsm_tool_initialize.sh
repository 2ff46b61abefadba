#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# sc-hsm-tool initializes a blank virtual device; the PIN and the retry counter
# it set are then in force, and the INITIALIZE APDU is the one of
# sc-hsm-protocol.md 3.3 (its data, holding the PINs, hidden in the log).
. "$(dirname "$0")/lib.sh"
need_devices --blank

expect_eq "$(apdu 0 00A404000BE82B0601040181C31F020100 00200081 | tail -1)" " 6A88" \
    "PIN status of a blank device"
sc-hsm-tool -r 0 --initialize --so-pin 3537363231383830 --pin 2468101214 --pin-retry 5
grep -q '^> 805000001D\*\*' "$PICO_SIM_LOG1" || fail "INITIALIZE APDU not as expected (or PINs logged)"
grep -q '32343638313031323134\|2468101214' "$PICO_SIM_LOG1" && fail "the PIN reached the log"

status=$(sc-hsm-tool -r 0)
expect_match "$status" "User PIN tries left *: 5" "sc-hsm-tool status"
expect_match "$status" "SO-PIN tries left *: 15" "sc-hsm-tool status"
p11 --login --pin 2468101214 --list-objects >/dev/null || fail "login with the new PIN"
