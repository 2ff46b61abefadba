#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Several applications on one device: another client's SELECT ends this
# process's login on the card. With pin-source= set, pico-pkcs11.so logs in
# again from it and the signature or the ECDH derivation goes through; with
# the application's PIN only (and no cache-pin), the operation answers
# CKR_USER_NOT_LOGGED_IN (0x101) and the application can C_Login again,
# which then works.
. "$(dirname "$0")/lib.sh"
need_devices

module=$top_builddir/pkcs11/.libs/pico-pkcs11.so
export PICO_DEBUG=$tmp/debug.log
pkcs11-tool --module "$module" --login --pin "$PICO_PIN" --keypairgen --key-type EC:prime256v1 \
    --label shared --id 01 >/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$tmp/peer.pem"
peer=$(openssl pkey -in "$tmp/peer.pem" -pubout -outform der | tail -c 65 | xxd -p -c 200)
select_elsewhere() { apdu 0 00A404000BE82B0601040181C31F020100 >/dev/null; }
start() {
    coproc EV { "$top_builddir/test/tools/p11-slot-events" "$module"; }
}
ask() {
    local line
    echo "$1" >&"${EV[1]}"
    read -r -t 60 line <&"${EV[0]}" || fail "no answer to '$1'"
    echo "$line"
}
stop() {
    exec {EV[1]}>&-
    wait "$EV_PID" 2>/dev/null || true
}

# 1. the PIN from the settings: the module logs in again after each SELECT elsewhere
echo "$PICO_PIN" >"$tmp/pin"
echo "pin-source = file:$tmp/pin" >"$tmp/p11.conf"
PICO_PKCS11_CONFIG=$tmp/p11.conf start
expect_eq "$(ask slots)" "slots: 1" "slots"
expect_eq "$(ask login)" "login: 0x0" "login from pin-source"
expect_eq "$(ask sign)" "sign: 0x0" "sign"
select_elsewhere
expect_eq "$(ask sign)" "sign: 0x0" "sign after another client's SELECT"
select_elsewhere
expect_eq "$(ask "derive $peer")" "derive: 0x0" "ECDH after another client's SELECT"
stop
expect_match "$(cat "$PICO_DEBUG")" "logging in again" "the login again in the debug log"
# 2. the application's PIN only: the lost login is reported, and a new C_Login works
start
expect_eq "$(ask slots)" "slots: 1" "slots"
expect_eq "$(ask "login $PICO_PIN")" "login: 0x0" "login with the application's PIN"
expect_eq "$(ask sign)" "sign: 0x0" "sign"
select_elsewhere
expect_eq "$(ask sign)" "sign: 0x101" "sign after another client's SELECT (CKR_USER_NOT_LOGGED_IN)"
expect_eq "$(ask "login $PICO_PIN")" "login: 0x0" "a new login"
expect_eq "$(ask sign)" "sign: 0x0" "sign after the new login"
stop
! grep -q "$PICO_PIN" "$PICO_DEBUG" || fail "the PIN is in the debug log"
echo PASS
