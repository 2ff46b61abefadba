#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `openssl req -new -x509` with a device key makes a self-signed certificate
# that verifies; `openssl storeutl` lists the keys by label, without a PIN.
. "$(dirname "$0")/provider-lib.sh"
with_devices

pico_genkey EC group:P-256 web
pico_genkey RSA rsa_keygen_bits:2048 mail
for label in web mail; do
    run ossl req -new -x509 -key "pico:object=$label?pin-value=$PIN" -subj "/CN=$label.example" \
        -days 30 -out "$work/$label.crt"
    run openssl verify -CAfile "$work/$label.crt" "$work/$label.crt"
    # the certificate carries the device key's public half
    run ossl pkey -pubin -in "pico:object=$label" -pubout -out "$work/$label.pub.pem"
    run openssl x509 -in "$work/$label.crt" -noout -pubkey -out "$work/$label.crtpub.pem"
    cmp "$work/$label.pub.pem" "$work/$label.crtpub.pem" || fail "$label: certificate key differs"
done
# the PIN from -passin (the application's passphrase callback), not the URI
echo "$PIN" > "$work/pin.txt"
run ossl req -new -x509 -key "pico:object=web" -passin "file:$work/pin.txt" -subj "/CN=passin" \
    -days 1 -out "$work/passin.crt"
run openssl verify -CAfile "$work/passin.crt" "$work/passin.crt"
# a CSR as well
run ossl req -new -key "pico:object=web?pin-value=$PIN" -subj "/CN=csr.example" -out "$work/web.csr"
run openssl req -in "$work/web.csr" -noout -verify
# listing asks for no PIN (stdin closed) and names both keys
run ossl storeutl 'pico:' </dev/null > "$work/list"
cat "$work/list"
grep -q "web" "$work/list" || fail "storeutl does not list 'web'"
grep -q "mail" "$work/list" || fail "storeutl does not list 'mail'"
# text output of the public key
run ossl pkey -pubin -in "pico:object=web" -pubout -text -noout > "$work/text"
grep -q "NIST CURVE: P-256\|prime256v1" "$work/text" || fail "pkey -text shows no curve"
echo PASS
