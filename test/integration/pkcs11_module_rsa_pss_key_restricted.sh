#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# An RSA key generated as RSA-PSS (by the provider: its key description holds
# the RSASSA-PSS AlgorithmIdentifier) is a PSS-only key through pico-pkcs11.so
# too: it signs with CKM_SHA256_RSA_PKCS_PSS (verified by openssl), and
# PKCS#1 v1.5 signatures and decryption are refused with
# CKR_KEY_FUNCTION_NOT_PERMITTED, as the provider refuses them; its objects
# say it cannot decrypt. A plain RSA key beside it does both.
. "$(dirname "$0")/lib.sh"
need_devices

module=$top_builddir/pkcs11/.libs/pico-pkcs11.so
m() { pkcs11-tool --module "$module" --login --pin "$PICO_PIN" "$@"; }
export OPENSSL_MODULES=$top_builddir/provider/.libs
prov=(-provider default -provider pico)

# 1. a PSS key (the provider) and a plain RSA key (the module)
openssl genpkey "${prov[@]}" -propquery provider=pico -algorithm RSA-PSS \
    -pkeyopt rsa_keygen_bits:2048 -pkeyopt pico-label:pss -pkeyopt pico-id:0a \
    -pkeyopt "pico-uri:pico:?pin-value=$PICO_PIN" -out "$tmp/pss.uri.pem"
openssl pkey "${prov[@]}" -pubin -in "pico:object=pss" -pubout -out "$tmp/pss.pub"
m --keypairgen --key-type rsa:2048 --label plain --id 0b >/dev/null
# 2. PSS signs, openssl verifies
echo "PSS only" >"$tmp/msg"
m --sign --id 0a -m SHA256-RSA-PKCS-PSS --mgf MGF1-SHA256 -i "$tmp/msg" -o "$tmp/sig"
openssl dgst -sha256 -verify "$tmp/pss.pub" -signature "$tmp/sig" -sigopt rsa_padding_mode:pss \
    -sigopt rsa_pss_saltlen:32 "$tmp/msg" || fail "the PSS signature does not verify"
# 3. PKCS#1 v1.5 and decryption refused for the PSS key, not for the plain one
refused() {
    if m "$@" >"$tmp/out" 2>&1; then fail "the PSS key did: $*"; fi
    expect_match "$(cat "$tmp/out")" "CKR_KEY_FUNCTION_NOT_PERMITTED" "refusal of $*"
}
refused --sign --id 0a -m SHA256-RSA-PKCS -i "$tmp/msg" -o "$tmp/sig2"
head -c 256 /dev/zero >"$tmp/ct"
refused --decrypt --id 0a -m RSA-PKCS -i "$tmp/ct" -o "$tmp/pt"
m --sign --id 0b -m SHA256-RSA-PKCS -i "$tmp/msg" -o "$tmp/sig3"
# 4. the objects say so
objs=$(m --list-objects --type privkey)
expect_match "$(grep -A3 'label: *pss' <<<"$objs")" "Usage: *sign$" "usage of the PSS key"
expect_match "$(grep -A3 'label: *plain' <<<"$objs")" "Usage: *decrypt, sign" "usage of the RSA key"
echo PASS
