#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Ed25519 and Ed448 device keys (devices whose firmware has EdDSA: the
# virtual device with --eddsa) sign what plain openssl verifies: `pkeyutl
# -sign -rawin` (PureEdDSA over the message, one SIGN on the device),
# verified by plain openssl with the device key's public key and through the
# providers; a CSR made with `req -new -key pico:...` and a self-signed
# certificate verify with plain openssl; the key reports the default
# provider's sizes and no default digest; a digest is refused as the default
# provider refuses it.
. "$(dirname "$0")/provider-lib.sh"
with_devices --eddsa

sizes="$top_builddir/test/tools/pkey-sizes"
head -c 1000 /dev/urandom > "$work/msg"
for alg in ED25519 ED448; do
    pico_genkey "$alg" "" "ed-$alg"
    key="pico:object=ed-$alg?pin-value=$PIN"
    run ossl pkey -in "$key" -pubout -out "$work/pub.pem"
    run openssl pkey -pubin -in "$work/pub.pem" -noout
    # a signature over the raw message: one SIGN (68) on the device
    before=$(apdus 68)
    run ossl pkeyutl -sign -rawin -inkey "$key" -in "$work/msg" -out "$work/sig"
    [ "$(apdus 68)" = $((before + 1)) ] || fail "$alg: not one signature on the device"
    [ "$(stat -c %s "$work/sig")" = "$([ $alg = ED25519 ] && echo 64 || echo 114)" ] ||
        fail "$alg: signature of the wrong length"
    run openssl pkeyutl -verify -rawin -pubin -inkey "$work/pub.pem" -in "$work/msg" \
        -sigfile "$work/sig"
    # verification through the providers (the software shadow) says the same
    run ossl pkeyutl -verify -rawin -inkey "$key" -in "$work/msg" -sigfile "$work/sig"
    printf x >> "$work/msg"
    run_fails openssl pkeyutl -verify -rawin -pubin -inkey "$work/pub.pem" -in "$work/msg" \
        -sigfile "$work/sig"
    run_fails ossl pkeyutl -verify -rawin -inkey "$key" -in "$work/msg" -sigfile "$work/sig"
    # with ?provider=pico as well
    run ossl pkeyutl -sign -rawin -propquery '?provider=pico' -inkey "$key" -in "$work/msg" \
        -out "$work/sig2"
    run openssl pkeyutl -verify -rawin -pubin -inkey "$work/pub.pem" -in "$work/msg" \
        -sigfile "$work/sig2"
    # a CSR and a self-signed certificate: plain openssl verifies them with the device's key
    run ossl req -new -key "$key" -subj "/CN=ed-$alg" -out "$work/csr.pem"
    run openssl req -in "$work/csr.pem" -verify -noout
    run openssl req -in "$work/csr.pem" -noout -pubkey -out "$work/csr.pub"
    cmp "$work/csr.pub" "$work/pub.pem" || fail "$alg: the CSR holds another key"
    run ossl req -new -x509 -key "$key" -subj "/CN=ed-$alg" -days 2 -out "$work/crt.pem"
    run openssl verify -CAfile "$work/crt.pem" "$work/crt.pem"
    # the default provider's sizes, and no default digest (UNDEF)
    run "$sizes" "$key" > "$work/s.dev"
    run "$sizes" -pub "$key" > "$work/s.sw"
    cmp "$work/s.dev" "$work/s.sw" || fail "$alg: sizes differ from the default provider's"
    grep -q 'default-digest=UNDEF' "$work/s.dev" || fail "$alg: a default digest"
    # PureEdDSA takes no digest
    run_fails ossl dgst -sha256 -sign "$key" -out "$work/sig3" "$work/msg"
done
echo PASS
