#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# sc-hsm-tool -K/-n/-s: the device comes up with PKA configured (n total, m
# required) and a DKEK share expected; with PKA a PIN alone no longer opens keys.
. "$(dirname "$0")/lib.sh"
need_devices --blank

sc-hsm-tool -r 0 --initialize --so-pin 3537363231383830 --pin 648219 -K 2 -n 1 -s 1
grep -q '^> 8050000020\*\*' "$PICO_SIM_LOG1" || fail "INITIALIZE APDU with tags 92/93 expected"
mapfile -t r < <(apdu 0 00A404000BE82B0601040181C31F020100 8054000000 8052000000)
expect_eq "${r[1]}" "02020100 9000" "PKA status: 2 keys, 2 to register, 1 required"
expect_eq "${r[2]}" "01010000000000000000 9000" "DKEK status: 1 share missing"
status=$(sc-hsm-tool -r 0 -S 2>&1 || true)
expect_match "$status" "Number of public keys: *2" "sc-hsm-tool -S"
# PIN verified but no PKA done: key generation is refused (6982).
mapfile -t r < <(apdu 0 00A404000BE82B0601040181C31F020100 0020008106363438323139 \
    "00460100 000013 7F4910 060A04007F00070202020102 02020800 0000")
expect_eq "${r[1]}" " 9000" "VERIFY"
expect_eq "${r[2]}" " 6982" "GAKP with PIN but without PKA"
