#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Hot plug through pico-pkcs11.so in one long-running process: the device
# going (its virtual card stopped) and coming back shows in C_GetSlotList
# (slots with a token), C_GetTokenInfo (CKR_TOKEN_NOT_PRESENT meanwhile) and
# C_WaitForSlotEvent (non-blocking: no event when nothing changed; blocking:
# the slot that changed). Its 3.0 interfaces: "PKCS 11" 3.0 (the default) and 2.40.
. "$(dirname "$0")/lib.sh"
need_devices

module=$top_builddir/pkcs11/.libs/pico-pkcs11.so
coproc EV { "$top_builddir/test/tools/p11-slot-events" "$module"; }
ask() {
    local line
    echo "$1" >&"${EV[1]}"
    read -r -t 60 line <&"${EV[0]}" || fail "no answer to '$1'"
    echo "$line"
}
# 0. the module offers PKCS#11 3.0 (default) and 2.40 interfaces
expect_eq "$(ask interfaces)" "interfaces: 2 default 3.0 2.40 2.40" "C_GetInterfaceList/C_GetInterface"
# 1. the device is there, and nothing happened since the list
expect_eq "$(ask slots)" "slots: 1" "slots at first"
expect_eq "$(ask token)" "token: ESPICOHSMTR00001" "token at first"
expect_eq "$(ask poll)" "event: none" "event with no change"
# 2. the device goes: an event for its slot, no token in it
kill "$PICO_SIM_PID1"
while kill -0 "$PICO_SIM_PID1" 2>/dev/null; do sleep 0.01; done
expect_eq "$(ask wait)" "event: 0" "event when the device went"
expect_eq "$(ask slots)" "slots: 0" "slots without the device"
expect_eq "$(ask token)" "token: 0xe0" "C_GetTokenInfo without the device (CKR_TOKEN_NOT_PRESENT)"
# 3. it comes back: an event again, the same slot, its token readable
sim_restart 1
expect_eq "$(ask wait)" "event: 0" "event when the device came back"
expect_eq "$(ask slots)" "slots: 1" "slots with the device back"
expect_eq "$(ask token)" "token: ESPICOHSMTR00001" "token after the device came back"
exec {EV[1]}>&-
echo PASS
