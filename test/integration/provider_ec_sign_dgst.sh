#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# EC keys generated on the device through the provider (P-256, P-384, P-521,
# brainpoolP256r1) sign with `openssl dgst` by URI and, through the key file
# genpkey wrote, as nginx and curl load keys; plain openssl verifies each
# signature with the public key exported through the provider.
. "$(dirname "$0")/provider-lib.sh"
with_devices

echo "The private key never leaves the device." > "$work/msg"
for spec in P-256:sha256 P-384:sha384 P-521:sha512 brainpoolP256r1:sha256; do
    curve=${spec%%:*} md=${spec##*:}
    label="ec-$curve"
    # the key is made on the device; the file holds only its pico: URI
    pico_genkey EC "group:$curve" "$label"
    grep -q 'BEGIN PICO HSM KEY URI' "$work/$label.uri.pem" || fail "$label: not a URI file"
    # public half out through the provider, verified below by openssl alone
    run ossl pkey -pubin -in "pico:object=$label" -pubout -out "$work/$label.pub.pem"
    run openssl pkey -pubin -in "$work/$label.pub.pem" -noout -text > "$work/$label.txt"
    # sign by URI, with the PIN in the query
    run ossl dgst -"$md" -sign "pico:object=$label?pin-value=$PIN" -out "$work/$label.sig" "$work/msg"
    run openssl dgst -"$md" -verify "$work/$label.pub.pem" -signature "$work/$label.sig" "$work/msg"
    # and by the key file, loaded as nginx and curl load keys (PEM_read_bio_PrivateKey),
    # with the PIN from the application's password callback (nginx ssl_password_file)
    echo "$PIN" > "$work/pin.txt"
    run "$top_builddir/test/tools/pem-key-sign" "$work/$label.uri.pem" "$work/pin.txt" \
        "$work/msg" "$work/$label.sig2"
    run openssl dgst -sha256 -verify "$work/$label.pub.pem" -signature "$work/$label.sig2" "$work/msg"
done
# a tampered message does not verify: the check above can fail
echo "tampered" >> "$work/msg"
if openssl dgst -sha256 -verify "$work/ec-P-256.pub.pem" -signature "$work/ec-P-256.sig" \
    "$work/msg" >/dev/null 2>&1; then
    fail "a signature over another message verified"
fi
echo PASS
