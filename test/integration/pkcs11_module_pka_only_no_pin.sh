#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# pico-pkcs11.so on a PIN-less PKA-only device (INITIALIZE with PKA and no user PIN): the
# firmware answers the PIN status 63C3 as on a device with a PIN, and a VERIFY with data
# spends a try on a PIN that is none. The module tells it by the user PIN's EF (its FCP size,
# common/ pico_schsm_user_pin_set: no login, no try): the token shows no initialized PIN, and
# C_Login fails with CKR_USER_PIN_NOT_INITIALIZED and a message that says why and what to do,
# sending no VERIFY with data, never "logged in", whatever PIN the application gives. Once
# the SO-PIN has given the device a user PIN (RESET RETRY COUNTER), PIN + PKA log in and a
# key signs (plain openssl verifies).
. "$(dirname "$0")/lib.sh"
need_devices --blank

module=$top_builddir/pkcs11/.libs/pico-pkcs11.so
PIN=648219
SOPIN=3537363231383830
m() { pkcs11-tool --module "$module" "$@"; }
tool() { "$top_builddir/tools/pico-hsm-tool" --reader "$PICO_READER1" "$@"; }
tries() {
    local sw
    sw=$(apdu 0 00A404000BE82B0601040181C31F020100 00200081 | tail -1 | tr -d ' ')
    case "$sw" in 63C*) echo "${sw:3:1}" ;; 9000) echo verified ;; *) echo "$sw" ;; esac
}
verifies() { grep -ciE '^> 00200081[0-9a-f]{2}' "$PICO_SIM_LOG1" || true; } # VERIFY with data
export PICO_PKCS11_CONFIG=$tmp/p11.conf

openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$tmp/pka1.pem"
echo "$SOPIN" >"$tmp/sopin"
tool init --yes --so-pin "$SOPIN" --pka 1/1 >/dev/null 2>&1
tool pka register --key "file:$tmp/pka1.pem" --so-pin-source "file:$tmp/sopin" >/dev/null
printf 'reader = %s\npka-key = file:%s\n' "$PICO_READER1" "$tmp/pka1.pem" >"$tmp/p11.conf"

# 1. the token: login required, no initialized PIN
slots=$(m --list-slots)
echo "$slots" >&2
expect_match "$slots" "token flags *: login required, token initialized$" "token flags"
expect_eq "$(tries)" 3 "tries before"

# 2. C_Login, with the PKA key configured and any PIN: refused as no PIN, nothing verified
v0=$(verifies)
for pin in 123456 "$PIN"; do
    if m --login --pin "$pin" --list-objects >"$tmp/out" 2>&1; then
        fail "logged in on a PIN-less device"
    fi
    cat "$tmp/out" >&2
    expect_match "$(cat "$tmp/out")" "CKR_USER_PIN_NOT_INITIALIZED" "C_Login's answer"
    expect_match "$(cat "$tmp/out")" "no user pin \(pka only\).*pin unblock" "the reason"
done
expect_eq "$(verifies)" "$v0" "VERIFY APDUs with data"
expect_eq "$(tries)" 3 "tries after the logins"

# 3. the SO-PIN gives it a user PIN: the token shows it, PIN + PKA log in, a key signs
tool pin unblock --so-pin "$SOPIN" --new-pin "$PIN" >/dev/null
expect_match "$(m --list-slots)" "token flags *: login required, token initialized, PIN initialized" \
    "token flags with a PIN"
m --login --pin "$PIN" --keypairgen --key-type EC:prime256v1 --label k --id 01 >/dev/null
echo "signed once the device has a PIN" >"$tmp/msg"
m --login --pin "$PIN" --sign --id 01 -m ECDSA-SHA256 -i "$tmp/msg" -o "$tmp/sig" \
    --signature-format openssl
m --read-object --type pubkey --id 01 -o "$tmp/pub.der"
openssl dgst -sha256 -verify <(openssl pkey -pubin -inform der -in "$tmp/pub.der") \
    -signature "$tmp/sig" "$tmp/msg" >/dev/null || fail "the signature does not verify"
echo PASS
