#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# C_Login through pico-pkcs11.so with a wrong PIN: CKR_PIN_INCORRECT, one try
# spent per login (never retried), the token flags follow the tries left
# (count low, final try, locked); the last try is kept unless the module's
# settings say pin-last-try=yes (PICO_PKCS11_CONFIG's file, or p11-kit's
# x-init-reserved); the PIN appears in no log.
. "$(dirname "$0")/lib.sh"
need_devices

module=$top_builddir/pkcs11/.libs/pico-pkcs11.so
m() { pkcs11-tool --module "$module" "$@"; }
flags() { m --list-slots | sed -n 's/^ *token flags *: //p'; }
# the user PIN's tries left, read without spending one (VERIFY without data)
tries() {
    local sw
    sw=$(apdu 0 00A404000BE82B0601040181C31F020100 00200081 | tail -1 | tr -d ' ')
    case "$sw" in 63C*) echo "${sw:3:1}" ;; 9000) echo verified ;; *) echo "$sw" ;; esac
}
# a login that must fail with this return value, spending tries as expected
login_fails() { # pin rv tries-after
    if m --login --pin "$1" --list-objects >"$tmp/out" 2>&1; then
        fail "a login with a wrong PIN succeeded"
    fi
    expect_match "$(cat "$tmp/out")" "$2" "login error"
    expect_eq "$(tries)" "$3" "tries left after the refused login"
}
export PICO_DEBUG=$tmp/debug.log

# 1. a fresh device: 3 tries, no warning flag
expect_eq "$(tries)" 3 "tries at first"
expect_eq "$(flags)" "login required, token initialized, PIN initialized" "flags at first"
# 2. a wrong PIN costs one try, no more (the module does not retry it)
login_fails 111111 CKR_PIN_INCORRECT 2
expect_match "$(flags)" "user PIN count low" "flags with 2 tries left"
# 3. the right PIN logs in and restores the counter
m --login --pin "$PICO_PIN" --list-objects >/dev/null
expect_eq "$(tries)" 3 "tries after the right PIN"
expect_eq "$(flags)" "login required, token initialized, PIN initialized" "flags restored"
# 4. two wrong PINs: the final try is shown, and kept: not even the right PIN is sent now
login_fails 111111 CKR_PIN_INCORRECT 2
login_fails 222222 CKR_PIN_INCORRECT 1
expect_match "$(flags)" "final user PIN try" "flags with 1 try left"
login_fails "$PICO_PIN" "one pin try left.*pin-last-try=yes" 1 # CKR_ACTION_PROHIBITED (0x1b)
# 5. the settings allow the last try: the right PIN logs in (configuration file)
echo "pin-last-try = yes" >"$tmp/pico-pkcs11.conf"
PICO_PKCS11_CONFIG=$tmp/pico-pkcs11.conf m --login --pin "$PICO_PIN" --list-objects >/dev/null
expect_eq "$(tries)" 3 "tries after the last try was allowed"
# 6. with the last try allowed, three wrong PINs block the PIN: locked, CKR_PIN_LOCKED
export PICO_PKCS11_CONFIG=$tmp/pico-pkcs11.conf
login_fails 111111 CKR_PIN_INCORRECT 2
login_fails 111111 CKR_PIN_INCORRECT 1
login_fails 111111 CKR_PIN_LOCKED 6983 # the try that blocks it
expect_match "$(flags)" "user PIN locked" "flags of a blocked PIN"
login_fails "$PICO_PIN" CKR_PIN_LOCKED 6983
# 7. an unknown setting is refused at C_Initialize, naming it
echo "pin-sourse = file:/nonexistent" >"$tmp/typo.conf"
if PICO_PKCS11_CONFIG=$tmp/typo.conf m --list-slots >"$tmp/out" 2>&1; then
    fail "a mistyped setting was accepted"
fi
expect_match "$(cat "$tmp/out")" "unknown setting 'pin-sourse'" "typo message"
# 8. no PIN in the debug log nor in the device's log
[ -s "$PICO_DEBUG" ] || fail "no debug log written"
for p in "$PICO_PIN" 111111 222222; do
    ! grep -q "$p" "$PICO_DEBUG" "$PICO_SIM_LOG1" || fail "a PIN is in a log"
done
echo PASS
