#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# pkcs11-tool (OpenSC) generates EC P-256, P-384 and RSA-2048 keys on the
# virtual device, lists them and signs; plain openssl verifies every signature.
. "$(dirname "$0")/lib.sh"
need_devices

pin=$PICO_PIN
echo "a message signed inside the virtual HSM" >"$tmp/msg"
{ cat "$tmp/msg"; echo tampered; } >"$tmp/msg.bad"

gen_sign_verify() { # id key-type mechanism [openssl verify options]
    local id=$1 type=$2 mech=$3
    shift 3
    p11 --login --pin "$pin" --keypairgen --key-type "$type" --label "key$id" --id "$id" >/dev/null
    # pkcs11-tool 0.23 cannot rebuild a P-384 public key (--read-object): pkcs15-tool can.
    pkcs15-tool --reader 0 --read-public-key "$id" -o "$tmp/pub$id.pem" >/dev/null
    p11 --login --pin "$pin" --sign --mechanism "$mech" --id "$id" \
        -i "$tmp/msg" -o "$tmp/sig$id" --signature-format openssl
    openssl dgst -sha256 -verify "$tmp/pub$id.pem" -signature "$tmp/sig$id" "$@" "$tmp/msg" ||
        fail "signature of key $id ($type) does not verify"
    # A changed message must not verify.
    ! openssl dgst -sha256 -verify "$tmp/pub$id.pem" -signature "$tmp/sig$id" "$@" \
        "$tmp/msg.bad" >/dev/null 2>&1 || fail "key $id verifies a different message"
}

gen_sign_verify 01 EC:prime256v1 ECDSA-SHA256
gen_sign_verify 02 EC:secp384r1 ECDSA-SHA256
gen_sign_verify 03 rsa:2048 SHA256-RSA-PKCS

objs=$(p11 --login --pin "$pin" --list-objects --type privkey)
for id in 01 02 03; do
    expect_match "$objs" "label: *key$id" "private key list"
done
expect_match "$(p11 --list-objects --type pubkey)" "EC_POINT 384 bits" "P-384 public key"
expect_match "$(openssl pkey -pubin -in "$tmp/pub03.pem" -text -noout)" "2048 bit" "RSA key size"
