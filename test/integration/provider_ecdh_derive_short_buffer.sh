#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ECDH into a buffer shorter than the shared secret gives the secret's first
# bytes, as the default provider's ecdh_plain_derive does (no error); with
# the X9.63 KDF a buffer shorter than the KDF output is refused by both.
. "$(dirname "$0")/provider-lib.sh"
with_devices

derive=$top_builddir/test/tools/ecdh-derive
for spec in P-256:32 secp521r1:66; do
    curve=${spec%%:*} full=${spec##*:}
    label="short-$curve"
    key="pico:object=$label?pin-value=$PIN"
    pico_genkey EC "group:$curve" "$label"
    run ossl pkey -pubin -in "pico:object=$label" -pubout -out "$work/dev.pub.pem"
    run openssl genpkey -algorithm EC -pkeyopt "ec_paramgen_curve:$curve" -out "$work/peer.pem"
    run openssl pkey -in "$work/peer.pem" -pubout -out "$work/peer.pub.pem"
    for len in 1 20 $((full - 1)) "$full" $((full + 10)); do
        # the device's derive and the default provider's from the peer side, same buffer size
        run "$derive" "$key" "$work/peer.pub.pem" "$len" > "$work/dev.out"
        run "$derive" -d "$work/peer.pem" "$work/dev.pub.pem" "$len" > "$work/sw.out"
        want=$((len < full ? len : full))
        sec=$(sed -n 's/^secret=//p' "$work/sw.out")
        [ "${#sec}" = $((2 * want)) ] || fail "$curve/$len: default gave ${#sec} hex digits"
        cmp "$work/dev.out" "$work/sw.out" || fail "$curve/$len: derive differs from the default's"
    done
    # X9.63 output of 32 bytes into 31: refused by both
    run_fails "$derive" -d "$work/peer.pem" "$work/dev.pub.pem" 31 SHA256 32 00
    run_fails "$derive" "$key" "$work/peer.pub.pem" 31 SHA256 32 00
    grep -q "kdf output of 32 bytes" "$work/err" || fail "$curve: short kdf buffer: other error"
done
echo PASS
