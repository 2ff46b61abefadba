#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# X25519 and X448 on the device give the shared secret the default provider
# derives from the other side: `openssl pkeyutl -derive` with the device key
# and a software peer equals plain openssl with the peer's private key and
# the device key's public key; with -propquery ?provider=pico too, with the
# peer key from a file or from the device (two device keys agree with each
# other), each derivation one DECIPHER on the device. A peer of the other
# type and a buffer too short for the secret are refused.
. "$(dirname "$0")/provider-lib.sh"
with_devices

for alg in X25519 X448; do
    pico_genkey "$alg" "" "kx-$alg"
    pico_genkey "$alg" "" "kx2-$alg"
    # the device key's public half, as SubjectPublicKeyInfo
    run ossl pkey -pubin -in "pico:object=kx-$alg" -pubout -out "$work/dev.pub.pem"
    run openssl pkey -pubin -in "$work/dev.pub.pem" -noout -text
    # the peer: an ordinary software key
    run openssl genpkey -algorithm "$alg" -out "$work/peer.pem"
    run openssl pkey -in "$work/peer.pem" -pubout -out "$work/peer.pub.pem"
    run openssl pkeyutl -derive -inkey "$work/peer.pem" -peerkey "$work/dev.pub.pem" \
        -out "$work/z.sw"
    # device side, each time one DECIPHER (62) on the device
    for propq in "" "?provider=pico"; do
        before=$(apdus 62)
        run ossl pkeyutl -derive ${propq:+-propquery "$propq"} \
            -inkey "pico:object=kx-$alg?pin-value=$PIN" -peerkey "$work/peer.pub.pem" \
            -out "$work/z.dev"
        cmp "$work/z.dev" "$work/z.sw" || fail "$alg ${propq:-}: shared secrets differ"
        [ "$(apdus 62)" = $((before + 1)) ] || fail "$alg: not one derivation on the device"
    done
    [ "$(stat -c %s "$work/z.dev")" = "$([ $alg = X25519 ] && echo 32 || echo 56)" ] ||
        fail "$alg: secret of the wrong length"
    # two device keys: each side derives with the other's public key, from the device
    run ossl pkeyutl -derive -inkey "pico:object=kx-$alg?pin-value=$PIN" \
        -peerkey "pico:object=kx2-$alg;type=public" -out "$work/z.a"
    run ossl pkeyutl -derive -inkey "pico:object=kx2-$alg?pin-value=$PIN" \
        -peerkey "pico:object=kx-$alg;type=public" -out "$work/z.b"
    cmp "$work/z.a" "$work/z.b" || fail "$alg: two device keys do not agree"
done

# refused as the default provider refuses: a peer of the other type
run openssl genpkey -algorithm X448 -out "$work/peer448.pem"
run openssl pkey -in "$work/peer448.pem" -pubout -out "$work/peer448.pub.pem"
run_fails ossl pkeyutl -derive -inkey "pico:object=kx-X25519?pin-value=$PIN" \
    -peerkey "$work/peer448.pub.pem" -out "$work/z.bad"
echo PASS
