#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# pico-pkcs11.so on a PIN + PKA device (one PKA key of one, a PEM file): C_Login
# runs the dual-factor engine with the module's settings, the PIN first, then
# the pka-key= signer; pkcs11-tool generates a key and signs, openssl verifies.
# Without the PKA key, or with one the device does not know, the login fails
# naming it and no PIN try is spent. With pin-source= the token has a protected
# authentication path (a login without a PIN from the application).
. "$(dirname "$0")/lib.sh"
need_devices --blank

module=$top_builddir/pkcs11/.libs/pico-pkcs11.so
PIN=648219
SOPIN=3537363231383830
m() { pkcs11-tool --module "$module" "$@"; }
tool() { "$top_builddir/tools/pico-hsm-tool" --reader "$1" "${@:2}"; }
tries() {
    local sw
    sw=$(apdu 0 00A404000BE82B0601040181C31F020100 00200081 | tail -1 | tr -d ' ')
    case "$sw" in 63C*) echo "${sw:3:1}" ;; 9000) echo verified ;; *) echo "$sw" ;; esac
}
cnf() { printf '%s\n' "$@" >"$tmp/p11.conf"; }
export PICO_PKCS11_CONFIG=$tmp/p11.conf

# 1. the device: PIN and one PKA key required
echo "$PIN" >"$tmp/pin"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$tmp/pka1.pem"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$tmp/other.pem"
tool "$PICO_READER1" init --yes --pin "$PIN" --so-pin "$SOPIN" --pka 1/1 --pin-and-pka >/dev/null
tool "$PICO_READER1" pka register --key "file:$tmp/pka1.pem" --pin-source "file:$tmp/pin" >/dev/null
# 2. both factors: a key made and used through the module, verified by openssl
cnf "reader = $PICO_READER1" "pka-key = file:$tmp/pka1.pem"
m --login --pin "$PIN" --keypairgen --key-type EC:secp384r1 --label ssh --id 01 >/dev/null
echo "to sign with PIN + PKA" >"$tmp/msg"
m --login --pin "$PIN" --sign --id 01 -m ECDSA-SHA384 -i "$tmp/msg" -o "$tmp/sig" \
    --signature-format openssl
point=$(m --list-objects --type pubkey | awk '$1 == "EC_POINT:" { print substr($2, 5) }')
echo "3076301006072a8648ce3d020106052b81040022036200$point" | xxd -r -p |
    openssl pkey -pubin -inform der -out "$tmp/pub.pem"
openssl dgst -sha384 -verify "$tmp/pub.pem" -signature "$tmp/sig" "$tmp/msg" ||
    fail "the PIN + PKA signature does not verify"
expect_eq "$(tries)" 3 "tries after the logins"
# 3. no PKA key configured: refused, naming public key authentication; no try spent
cnf "reader = $PICO_READER1"
if m --login --pin "$PIN" --sign --id 01 -m ECDSA-SHA384 -i "$tmp/msg" -o "$tmp/sig2" \
    >"$tmp/out" 2>&1; then
    fail "signed without the PKA key"
fi
expect_match "$(cat "$tmp/out")" "pka|public key authentication" "missing factor message"
expect_eq "$(tries)" 3 "tries after the login without PKA"
# 4. a PKA key the device does not know: refused as such, no try spent
cnf "reader = $PICO_READER1" "pka-key = file:$tmp/other.pem"
if m --login --pin "$PIN" --list-objects >"$tmp/out" 2>&1; then
    fail "logged in with an unregistered PKA key"
fi
expect_match "$(cat "$tmp/out")" "not registered" "unregistered key message"
expect_eq "$(tries)" 3 "tries after the unregistered PKA key"
# 5. both factors from the settings (p11-kit's x-init-reserved takes the same words): the
#    token has a protected authentication path, pkcs11-tool logs in without a PIN
cnf "reader = $PICO_READER1" "pin-source = file:$tmp/pin" "pka-key = file:$tmp/pka1.pem"
expect_match "$(m --list-slots)" "PIN pad present|protected" "protected authentication path"
expect_match "$(m --login --list-objects --type privkey)" "label: *ssh" "login from the settings"
echo PASS
