#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A device RSA key signs PKCS#1 v1.5 with every digest the default provider
# signs with (MD5, SHA-1, SHA-2 including SHA-512/224 and /256, SHA-3,
# RIPEMD-160, and MD5-SHA1, TLS 1.0/1.1's, which has no DigestInfo, and
# failed before): plain openssl verifies each signature, and the block under
# it (recovered with raw RSA) is the block under the default provider's
# signature with a software key. What the default provider refuses, pico
# refuses: a digest without a DigestInfo (BLAKE2), a PSS salt length below -3.
. "$(dirname "$0")/provider-lib.sh"
with_devices

msg=$work/msg
printf 'the message, %s\n' "$(seq 1 20)" > "$msg"
pico_genkey RSA rsa_keygen_bits:2048 rsa
run ossl pkey -pubin -in "pico:object=rsa;type=public" -out "$work/rsa.pub"
run openssl genpkey -quiet -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$work/sw.pem"
key="pico:object=rsa?pin-value=$PIN"

for md in md5 sha1 sha224 sha256 sha384 sha512 sha512-224 sha512-256 sha3-224 sha3-256 \
    sha3-384 sha3-512 ripemd160 md5-sha1; do
    openssl dgst -"$md" -binary "$msg" > "$work/h"
    run ossl pkeyutl -sign -propquery '?provider=pico' -inkey "$key" -pkeyopt "digest:$md" \
        -in "$work/h" -out "$work/sig.$md"
    run openssl pkeyutl -verify -pubin -inkey "$work/rsa.pub" -pkeyopt "digest:$md" \
        -in "$work/h" -sigfile "$work/sig.$md"
    # the block under the signature is the default provider's (recovered with raw RSA)
    run openssl pkeyutl -sign -inkey "$work/sw.pem" -pkeyopt "digest:$md" -in "$work/h" \
        -out "$work/swsig"
    openssl pkeyutl -verifyrecover -inkey "$work/sw.pem" -pkeyopt rsa_padding_mode:none \
        -in "$work/swsig" > "$work/want"
    openssl pkeyutl -verifyrecover -pubin -inkey "$work/rsa.pub" \
        -pkeyopt rsa_padding_mode:none -in "$work/sig.$md" > "$work/got"
    cmp "$work/want" "$work/got" || fail "$md: the pkcs#1 block differs from the default provider's"
done

# refused as the default provider refuses
openssl dgst -blake2b512 -binary "$msg" > "$work/h"
run_fails openssl pkeyutl -sign -inkey "$work/sw.pem" -pkeyopt digest:blake2b512 \
    -in "$work/h" -out "$work/x"
run_fails ossl pkeyutl -sign -propquery '?provider=pico' -inkey "$key" \
    -pkeyopt digest:blake2b512 -in "$work/h" -out "$work/x"
openssl dgst -sha256 -binary "$msg" > "$work/h"
for salt in -4 -10; do
    run_fails openssl pkeyutl -sign -inkey "$work/sw.pem" -pkeyopt digest:sha256 \
        -pkeyopt rsa_padding_mode:pss -pkeyopt "rsa_pss_saltlen:$salt" -in "$work/h" -out "$work/x"
    run_fails ossl pkeyutl -sign -propquery '?provider=pico' -inkey "$key" -pkeyopt digest:sha256 \
        -pkeyopt rsa_padding_mode:pss -pkeyopt "rsa_pss_saltlen:$salt" -in "$work/h" -out "$work/x"
    grep -q "out of range" "$work/err" || fail "salt $salt: $(cat "$work/err")"
done
echo PASS
