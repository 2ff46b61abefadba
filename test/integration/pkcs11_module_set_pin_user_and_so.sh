#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# C_SetPIN through pico-pkcs11.so: pkcs11-tool --change-pin (a user session)
# changes the user PIN, after which the old PIN is refused and the new one
# signs (verified with plain openssl); in a public R/W session too. A wrong
# old PIN spends exactly one try (CKR_PIN_INCORRECT, never sent again) and
# ends a user session's login; a new PIN of a length the device refuses is
# CKR_PIN_LEN_RANGE, a read-only session CKR_SESSION_READ_ONLY, nothing sent.
# In an SO session C_SetPIN changes the SO-PIN (16 hex digits, else
# CKR_PIN_INVALID before anything is sent). No PIN in any log.
. "$(dirname "$0")/lib.sh"
need_devices

module=$top_builddir/pkcs11/.libs/pico-pkcs11.so
m() { pkcs11-tool --module "$module" "$@"; }
# the PIN functions one by one: "STEP: 0xRV" per step (test/tools/p11-pin.c)
pins() { "$top_builddir/test/tools/p11-pin" "$module" "$@" | tr '\n' ' ' | sed 's/ $//'; }
# a PIN's tries left, read without spending one (ref 81 user, 88 SO)
tries() {
    local sw
    sw=$(apdu 0 00A404000BE82B0601040181C31F020100 "002000$1" | tail -1 | tr -d ' ')
    case "$sw" in 63C*) echo $((16#${sw:3:1})) ;; 9000) echo verified ;; *) echo "$sw" ;; esac
}
# CHANGE REFERENCE DATA commands the device got so far
changes() { grep -ciE '^> [0-9a-f]{2}24' "$PICO_SIM_LOG1" || true; }
export PICO_DEBUG=$tmp/debug.log
new=20252026
so2=0102030405060708

# 1. a wrong old PIN in a public R/W session: CKR_PIN_INCORRECT, one try spent
expect_eq "$(tries 81)" 3 "tries at first"
expect_eq "$(pins rw set:111111:$new)" "set: 0xa0" "wrong old PIN"
expect_eq "$(tries 81)" 2 "tries after one wrong old PIN"
# 2. refused before anything is sent: new PIN too short or too long, a read-only session
n=$(changes)
expect_eq "$(pins rw set:$PICO_PIN:12345 set:$PICO_PIN:12345678901234567)" \
    "set: 0xa2 set: 0xa2" "new PIN out of the device's limits (CKR_PIN_LEN_RANGE)"
expect_eq "$(pins ro set:$PICO_PIN:$new)" "set: 0xb5" "read-only session (CKR_SESSION_READ_ONLY)"
expect_eq "$(changes)" "$n" "commands sent for refused changes"
expect_eq "$(tries 81)" 2 "tries after the refused changes"

# 3. pkcs11-tool --change-pin (it logs in, then C_SetPIN): the old PIN refused after it
m --change-pin --pin "$PICO_PIN" --new-pin $new >/dev/null
expect_eq "$(changes)" $((n + 1)) "one CHANGE REFERENCE DATA"
expect_eq "$(tries 81)" 3 "tries after the change"
if m --login --pin "$PICO_PIN" --list-objects >"$tmp/out" 2>&1; then
    fail "the old PIN still logs in"
fi
expect_match "$(cat "$tmp/out")" CKR_PIN_INCORRECT "old PIN after the change"
# ... and the new one signs: a key made and used with it, verified with plain openssl
m --login --pin $new --keypairgen --key-type EC:prime256v1 --label k --id 01 >/dev/null
point=$(m --list-objects --type pubkey | awk '$1 == "EC_POINT:" { print substr($2, 5) }')
echo "3059301306072a8648ce3d020106082a8648ce3d030107034200$point" | xxd -r -p |
    openssl pkey -pubin -inform der -out "$tmp/pub.pem"
echo "signed with the new PIN" >"$tmp/msg"
m --login --pin $new --sign --id 01 -m ECDSA-SHA256 -i "$tmp/msg" -o "$tmp/sig" \
    --signature-format openssl
openssl dgst -sha256 -verify "$tmp/pub.pem" -signature "$tmp/sig" "$tmp/msg" >/dev/null ||
    fail "the signature made with the new PIN does not verify"

# 4. a user session changes it and signs on with the new PIN's login; a public R/W session
# changes it back, and stays public
expect_eq "$(pins rw user:$new set:$new:73914628 sign)" "user: 0x0 set: 0x0 sign: 0x0" \
    "a signature in the session that changed the PIN"
expect_eq "$(pins rw set:73914628:$new)" "set: 0x0" "the PIN it set"

expect_eq "$(pins rw set:$new:$PICO_PIN state)" "set: 0x0 state: 2" "change in a public session"
expect_eq "$(tries 81)" 3 "tries after the change back"
# 5. a wrong old PIN in a user session: one try, and the login is gone (the card dropped it)
expect_eq "$(pins rw user:$PICO_PIN set:222222:$new state)" "user: 0x0 set: 0xa0 state: 2" \
    "wrong old PIN in a user session"
expect_eq "$(tries 81)" 2 "tries after the wrong old PIN in a user session"
m --login --pin "$PICO_PIN" --list-objects >/dev/null

# 6. the SO-PIN: 16 hex digits, else CKR_PIN_INVALID with nothing sent
n=$(changes)
expect_eq "$(pins rw so:$PICO_SO_PIN set:$PICO_SO_PIN:0102 set:$PICO_SO_PIN:01020304050607zz \
    set:0102:$so2)" "so: 0x0 set: 0xa1 set: 0xa1 set: 0xa1" "malformed SO-PINs"
expect_eq "$(changes)" "$n" "commands sent for malformed SO-PINs"
# pkcs11-tool in an SO session: the SO-PIN changed, the old one refused, the new one logs in
m --login --login-type so --so-pin "$PICO_SO_PIN" --change-pin --new-pin $so2 >/dev/null
expect_eq "$(pins rw so:$PICO_SO_PIN)" "so: 0xa0" "old SO-PIN after the change"
expect_eq "$(tries 88)" 14 "SO-PIN tries after the old SO-PIN"
expect_eq "$(pins rw so:$so2 state)" "so: 0x0 state: 4" "new SO-PIN (CKS_RW_SO_FUNCTIONS)"
expect_eq "$(tries 88)" 15 "SO-PIN tries after the new SO-PIN"
# the user PIN is the user's still
m --login --pin "$PICO_PIN" --sign --id 01 -m ECDSA-SHA256 -i "$tmp/msg" -o "$tmp/sig2" \
    --signature-format openssl
openssl dgst -sha256 -verify "$tmp/pub.pem" -signature "$tmp/sig2" "$tmp/msg" >/dev/null ||
    fail "the signature after the SO-PIN change does not verify"

# 7. no PIN in the debug log nor in the device's log
[ -s "$PICO_DEBUG" ] || fail "no debug log written"
for p in "$PICO_PIN" $new 73914628 111111 222222 "$PICO_SO_PIN" $so2; do
    ! grep -qi "$p" "$PICO_DEBUG" "$PICO_SIM_LOG1" || fail "a PIN is in a log: $p"
    # the APDU log hides what the commands carry: neither the characters' bytes are there
    ! grep -qi "$(printf %s "$p" | xxd -p)" "$PICO_SIM_LOG1" || fail "a PIN's bytes are logged: $p"
done
echo PASS
