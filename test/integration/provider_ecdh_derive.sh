#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ECDH on the device gives the same shared secret as the default provider
# derives from the other side (P-256 and P-384).
. "$(dirname "$0")/provider-lib.sh"
with_devices

for curve in P-256 P-384; do
    pico_genkey EC "group:$curve" "ecdh-$curve"
    run ossl pkey -pubin -in "pico:object=ecdh-$curve" -pubout -out "$work/dev.pub.pem"
    # the peer: an ordinary software key
    run openssl genpkey -algorithm EC -pkeyopt "ec_paramgen_curve:$curve" -out "$work/peer.pem"
    run openssl pkey -in "$work/peer.pem" -pubout -out "$work/peer.pub.pem"
    # device side
    run ossl pkeyutl -derive -inkey "pico:object=ecdh-$curve?pin-value=$PIN" \
        -peerkey "$work/peer.pub.pem" -out "$work/z.dev"
    # software side
    run openssl pkeyutl -derive -inkey "$work/peer.pem" -peerkey "$work/dev.pub.pem" -out "$work/z.sw"
    cmp "$work/z.dev" "$work/z.sw" || fail "$curve: shared secrets differ"
    [ "$(stat -c %s "$work/z.dev")" -gt 0 ] || fail "$curve: empty secret"
done
echo PASS
