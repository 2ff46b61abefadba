#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# An RSA key generated as RSA-PSS (by the provider: its key description holds
# the RSASSA-PSS AlgorithmIdentifier) is a PSS-only key through pico-pkcs11.so
# too: it signs with CKM_SHA256_RSA_PKCS_PSS (verified by openssl), and
# PKCS#1 v1.5 signatures and decryption are refused with
# CKR_KEY_FUNCTION_NOT_PERMITTED, as the provider refuses them; its objects
# say it cannot decrypt. A plain RSA key beside it does both. A key made with
# restrictions (rsa_pss_keygen_md, _mgf1_md, _saltlen) signs only with its
# digest, its MGF1 digest and a salt at least that long: another mechanism
# parameter is CKR_MECHANISM_PARAM_INVALID with nothing sent, exactly where
# the default provider refuses the same key in software.
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

# 5. restrictions: the device key and its software twin (default provider), same parameters
r=(-pkeyopt rsa_keygen_bits:2048 -pkeyopt rsa_pss_keygen_md:sha256
    -pkeyopt rsa_pss_keygen_mgf1_md:sha256 -pkeyopt rsa_pss_keygen_saltlen:32)
openssl genpkey "${prov[@]}" -propquery provider=pico -algorithm RSA-PSS "${r[@]}" \
    -pkeyopt pico-label:pssr -pkeyopt pico-id:0c -pkeyopt "pico-uri:pico:?pin-value=$PICO_PIN" \
    -out "$tmp/pssr.uri.pem"
openssl pkey "${prov[@]}" -pubin -in "pico:object=pssr" -pubout -out "$tmp/pssr.pub"
openssl genpkey -algorithm RSA-PSS "${r[@]}" -out "$tmp/sw.pem"
signs() { grep -ciE '^> [0-9a-f]{2}68' "$PICO_SIM_LOG1" || true; }
# what the module and the default provider both allow: signed, verified with plain openssl
for salt in 32 48; do
    m --sign --id 0c -m SHA256-RSA-PKCS-PSS --mgf MGF1-SHA256 --salt-len $salt -i "$tmp/msg" \
        -o "$tmp/sigr"
    openssl dgst -sha256 -verify "$tmp/pssr.pub" -signature "$tmp/sigr" \
        -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:$salt "$tmp/msg" >/dev/null ||
        fail "salt $salt: the signature of the restricted key does not verify"
    openssl dgst -sha256 -sign "$tmp/sw.pem" -sigopt rsa_padding_mode:pss \
        -sigopt rsa_pss_saltlen:$salt -out /dev/null "$tmp/msg" ||
        fail "salt $salt: the default provider refuses it"
done
m --sign --id 0c -m RSA-PKCS-PSS --hash-algorithm SHA256 --mgf MGF1-SHA256 \
    -i <(openssl dgst -sha256 -binary "$tmp/msg") -o "$tmp/sigr"
openssl dgst -sha256 -verify "$tmp/pssr.pub" -signature "$tmp/sigr" -sigopt rsa_padding_mode:pss \
    "$tmp/msg" >/dev/null || fail "the restricted key's RSA-PKCS-PSS signature does not verify"
# what both refuse: another digest, another MGF1 digest, a shorter salt; nothing sent
n=$(signs)
param_refused() { # pkcs11-tool options -- openssl dgst options
    local p=() o
    while [ "$1" != -- ]; do p+=("$1"); shift; done
    shift
    if m --sign --id 0c "${p[@]}" -i "$tmp/msg" -o "$tmp/sigx" >"$tmp/out" 2>&1; then
        fail "the restricted key signed with ${p[*]}"
    fi
    expect_match "$(cat "$tmp/out")" CKR_MECHANISM_PARAM_INVALID "refusal of ${p[*]}"
    if openssl dgst "$@" -sign "$tmp/sw.pem" -sigopt rsa_padding_mode:pss -out /dev/null \
        "$tmp/msg" 2>/dev/null; then
        fail "the default provider allows $*: the module must too"
    fi
}
param_refused -m SHA384-RSA-PKCS-PSS --mgf MGF1-SHA384 -- -sha384
param_refused -m SHA256-RSA-PKCS-PSS --mgf MGF1-SHA1 -- -sha256 -sigopt rsa_mgf1_md:sha1
param_refused -m SHA256-RSA-PKCS-PSS --mgf MGF1-SHA256 --salt-len 20 -- -sha256 \
    -sigopt rsa_pss_saltlen:20
expect_eq "$(signs)" "$n" "SIGN commands for refused parameters"
# the unrestricted PSS key still takes any of them
m --sign --id 0a -m SHA384-RSA-PKCS-PSS --mgf MGF1-SHA1 --salt-len 20 -i "$tmp/msg" -o "$tmp/sig4"
openssl dgst -sha384 -verify "$tmp/pss.pub" -signature "$tmp/sig4" -sigopt rsa_padding_mode:pss \
    -sigopt rsa_mgf1_md:sha1 -sigopt rsa_pss_saltlen:20 "$tmp/msg" >/dev/null ||
    fail "the unrestricted PSS key's signature does not verify"
echo PASS
