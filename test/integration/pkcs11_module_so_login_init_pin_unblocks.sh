#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The Security Officer through pico-pkcs11.so: C_Login(CKU_SO) is a VERIFY
# of the SO-PIN (P2 88, 16 hex digits); a wrong one spends one SO-PIN try and
# the token flags show it (SO PIN count low); the session rules of PKCS#11
# (another user logged in, read-only sessions, the SO session's state).
# C_InitPIN in the SO session (pkcs11-tool --init-pin) is a RESET RETRY
# COUNTER with the SO-PIN and the new PIN: it unblocks a user PIN that three
# wrong PINs blocked, and the new PIN signs (verified with plain openssl).
# pkcs11-tool --unlock-pin (a context-specific login with the SO-PIN as PUK,
# then C_SetPIN without an old PIN) unblocks as well. No PIN in any log.
. "$(dirname "$0")/lib.sh"
need_devices

module=$top_builddir/pkcs11/.libs/pico-pkcs11.so
m() { pkcs11-tool --module "$module" "$@"; }
pins() { "$top_builddir/test/tools/p11-pin" "$module" "$@" | tr '\n' ' ' | sed 's/ $//'; }
flags() { m --list-slots | sed -n 's/^ *token flags *: //p'; }
select=00A404000BE82B0601040181C31F020100
tries() {
    local sw
    sw=$(apdu 0 $select "002000$1" | tail -1 | tr -d ' ')
    case "$sw" in 63C*) echo $((16#${sw:3:1})) ;; 9000) echo verified ;; *) echo "$sw" ;; esac
}
so_verifies() { grep -ciE '^> [0-9a-f]{2}20 ?00 ?88 ?08' "$PICO_SIM_LOG1" || true; }
# three wrong user PINs, sent directly: the PIN is blocked
block() {
    apdu 0 $select 0020008106313131313131 0020008106313131313131 0020008106313131313131 >/dev/null
    expect_eq "$(tries 81)" 6983 "user PIN state after three wrong PINs"
}
signs_with() { # pin
    echo "signed after the unblock" >"$tmp/msg"
    m --login --pin "$1" --sign --id 01 -m ECDSA-SHA256 -i "$tmp/msg" -o "$tmp/sig" \
        --signature-format openssl
    openssl dgst -sha256 -verify "$tmp/pub.pem" -signature "$tmp/sig" "$tmp/msg" >/dev/null ||
        fail "the signature with the new PIN does not verify"
}
export PICO_DEBUG=$tmp/debug.log
so=$PICO_SO_PIN

# 1. a key to sign with later
m --login --pin "$PICO_PIN" --keypairgen --key-type EC:prime256v1 --label k --id 01 >/dev/null
point=$(m --list-objects --type pubkey | awk '$1 == "EC_POINT:" { print substr($2, 5) }')
echo "3059301306072a8648ce3d020106082a8648ce3d030107034200$point" | xxd -r -p |
    openssl pkey -pubin -inform der -out "$tmp/pub.pem"

# 2. the SO login: a wrong SO-PIN spends one try and shows in the flags; the right one logs in
expect_eq "$(pins rw so:0f1e2d3c4b5a6978)" "so: 0xa0" "wrong SO-PIN"
expect_eq "$(tries 88)" 14 "SO-PIN tries after a wrong one"
expect_match "$(flags)" "SO PIN count low" "flags after a wrong SO-PIN"
expect_eq "$(pins rw so:$so state logout state)" "so: 0x0 state: 4 logout: 0x0 state: 2" \
    "SO session (CKS_RW_SO_FUNCTIONS), then public"
expect_eq "$(tries 88)" 15 "SO-PIN tries after the right one"
! grep -q "SO PIN" <<<"$(flags)" || fail "SO-PIN flags with all tries left"
# malformed SO-PINs are refused before anything is sent (the right one: one VERIFY 88)
# (control characters are no hex digits: once read as the digits they differ from by 0x20)
ctl=$(printf '\x13\x15\x13\x17\x13\x16\x13\x12\x13\x11\x13\x18\x13\x18\x13\x10')
n=$(so_verifies)
expect_eq "$(pins rw so:0102 so:01020304050607zz "so:$ctl" so:$so)" \
    "so: 0xa2 so: 0xa0 so: 0xa0 so: 0x0" "malformed SO-PINs"
expect_eq "$(so_verifies)" $((n + 1)) "VERIFY 88 sent for malformed SO-PINs and the right one"

# 3. the session rules (PKCS#11 2.40 5.5, 5.6)
expect_eq "$(pins rw user:$PICO_PIN so:$so)" "user: 0x0 so: 0x104" "SO while the user is in"
expect_eq "$(pins rw so:$so user:$PICO_PIN so:$so)" "so: 0x0 user: 0x104 so: 0x100" \
    "user while the SO is in, SO twice"
expect_eq "$(pins ro rw so:$so)" "so: 0xb7" "SO with a read-only session open"
expect_eq "$(pins rw so:$so ro)" "so: 0x0 ro: 0xb8" "read-only session beside the SO"
expect_eq "$(pins rw init:$PICO_PIN)" "init: 0x101" "C_InitPIN without the SO"
expect_eq "$(pins rw user:$PICO_PIN init:$PICO_PIN)" "user: 0x0 init: 0x101" \
    "C_InitPIN in a user session"
expect_eq "$(pins rw so:$so init:12345 init:12345678901234567)" "so: 0x0 init: 0xa2 init: 0xa2" \
    "C_InitPIN with a PIN out of the device's limits"

# 4. a blocked user PIN: C_InitPIN (pkcs11-tool --init-pin) gives it a new PIN, which signs
block
expect_match "$(flags)" "user PIN locked" "flags of the blocked PIN"
m --login --login-type so --so-pin "$so" --init-pin --new-pin 20242025 >/dev/null
expect_eq "$(tries 81)" 3 "tries after C_InitPIN"
signs_with 20242025
if m --login --pin "$PICO_PIN" --list-objects >"$tmp/out" 2>&1; then
    fail "the old PIN logs in after C_InitPIN"
fi
expect_match "$(cat "$tmp/out")" CKR_PIN_INCORRECT "old PIN after C_InitPIN"

# 5. pkcs11-tool --unlock-pin with the SO-PIN as PUK (context-specific login)
block
m --unlock-pin --login --login-type context-specific --puk "$so" --new-pin 73914628 >/dev/null
expect_eq "$(tries 81)" 3 "tries after --unlock-pin"
signs_with 73914628
expect_eq "$(tries 88)" 15 "SO-PIN tries at the end"

# 6. no PIN in the debug log nor in the device's log
[ -s "$PICO_DEBUG" ] || fail "no debug log written"
for p in "$PICO_PIN" 20242025 73914628 111111 "$so" 0f1e2d3c4b5a6978; do
    ! grep -qi "$p" "$PICO_DEBUG" "$PICO_SIM_LOG1" || fail "a PIN is in a log: $p"
    # the APDU log hides what the commands carry: neither the characters' bytes are there
    ! grep -qi "$(printf %s "$p" | xxd -p)" "$PICO_SIM_LOG1" || fail "a PIN's bytes are logged: $p"
done
echo PASS
