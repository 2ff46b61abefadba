#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# RSA-2048 and RSA-4096 keys generated on the device sign with pkeyutl over a
# digest: PKCS#1 v1.5 and PSS (salt = digest length, as TLS 1.3 uses, and the
# maximum); plain openssl verifies with the exported public key.
. "$(dirname "$0")/provider-lib.sh"
with_devices

echo "hello" > "$work/msg"
for bits in 2048 4096; do
    label="rsa$bits"
    pico_genkey RSA "rsa_keygen_bits:$bits" "$label"
    run ossl pkey -pubin -in "pico:object=$label" -pubout -out "$work/$label.pub.pem"
    for md in sha256 sha384 sha512 sha1; do
        openssl dgst -"$md" -binary "$work/msg" > "$work/dgst"
        # PKCS#1 v1.5
        run ossl pkeyutl -sign -inkey "pico:object=$label?pin-value=$PIN" -pkeyopt "digest:$md" \
            -in "$work/dgst" -out "$work/sig"
        run openssl pkeyutl -verify -pubin -inkey "$work/$label.pub.pem" -pkeyopt "digest:$md" \
            -in "$work/dgst" -sigfile "$work/sig"
        # PSS, salt length = digest length (TLS 1.3) and the maximum
        for salt in digest max; do
            run ossl pkeyutl -sign -inkey "pico:object=$label?pin-value=$PIN" \
                -pkeyopt "digest:$md" -pkeyopt rsa_padding_mode:pss \
                -pkeyopt "rsa_pss_saltlen:$salt" -in "$work/dgst" -out "$work/sig"
            run openssl pkeyutl -verify -pubin -inkey "$work/$label.pub.pem" \
                -pkeyopt "digest:$md" -pkeyopt rsa_padding_mode:pss \
                -pkeyopt "rsa_pss_saltlen:$salt" -in "$work/dgst" -sigfile "$work/sig"
        done
    done
    # dgst with PSS through the key file
    run ossl dgst -sha256 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:digest \
        -sign "pico:object=$label?pin-value=$PIN" -out "$work/sig" "$work/msg"
    run openssl dgst -sha256 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:digest \
        -verify "$work/$label.pub.pem" -signature "$work/sig" "$work/msg"
done
echo PASS
