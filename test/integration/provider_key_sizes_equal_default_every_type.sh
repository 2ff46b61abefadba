#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Every key type a device key can have reports, through pico's key manager
# (from the key type table and the key's description, without reading the
# public key), the bits, security bits, largest signature or secret and
# default digest the default provider reports for the same public key:
# EC on three curves, RSA 2048, 3072 and 4096, RSA-PSS (restricted: its digest),
# X25519, X448, Ed25519 and Ed448 (on a device with EdDSA). (Before the table,
# P-521 said 260 security bits and a 141-byte signature, RSA 4096 128 bits,
# a restricted RSA-PSS key "SHA384": the default provider says 256, 139, 152,
# "SHA2-384".)
. "$(dirname "$0")/provider-lib.sh"
with_devices --eddsa

sizes="$top_builddir/test/tools/pkey-sizes"
pico_genkey EC group:P-256 s-p256
pico_genkey EC group:P-521 s-p521
pico_genkey EC group:brainpoolP384r1 s-bp384
pico_genkey RSA rsa_keygen_bits:2048 s-rsa2048
pico_genkey RSA rsa_keygen_bits:3072 s-rsa3072
pico_genkey RSA rsa_keygen_bits:4096 s-rsa4096
run ossl genpkey -propquery provider=pico -algorithm RSA-PSS -pkeyopt rsa_keygen_bits:2048 \
    -pkeyopt rsa_pss_keygen_md:sha384 -pkeyopt rsa_pss_keygen_saltlen:48 \
    -pkeyopt pico-label:s-pss -pkeyopt "pico-uri:pico:?pin-value=$PIN" -out "$work/pss.pem"
for alg in X25519 X448 ED25519 ED448; do pico_genkey "$alg" "" "s-$alg"; done
labels="s-p256 s-p521 s-bp384 s-rsa2048 s-rsa3072 s-rsa4096 s-pss s-X25519 s-X448 s-ED25519 s-ED448"
for label in $labels; do
    run "$sizes" "pico:object=$label?pin-value=$PIN" > "$work/dev"
    run "$sizes" -pub "pico:object=$label?pin-value=$PIN" > "$work/sw"
    echo "$label: $(cat "$work/dev")" >&2
    cmp "$work/dev" "$work/sw" ||
        fail "$label: $(cat "$work/dev"), the default provider: $(cat "$work/sw")"
done
echo PASS
