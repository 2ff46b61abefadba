#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A key URI without type= gives the private key, the public key and the
# certificate stored with the key (as a file holding the three would); type=
# and the application's expectation (-keys, -certs, a public key load) narrow
# it to one kind. What comes out equals the files the default provider reads.
. "$(dirname "$0")/provider-lib.sh"
with_devices

pico_genkey EC group:P-256 web 02
run ossl req -new -x509 -key "pico:object=web?pin-value=$PIN" -subj "/CN=web.example" -days 30 \
    -out "$work/web.crt"
run tool cert import --label web --pin "$PIN" "$work/web.crt"
run openssl x509 -in "$work/web.crt" -noout -pubkey -out "$work/web.pub.pem"

# no type=: the three kinds, in this order
run ossl storeutl -noout "pico:id=%02?pin-value=$PIN" </dev/null > "$work/all"
cat "$work/all"
expect="0: Pkey
1: Public key
2: Certificate
Total found: 3"
[ "$(cat "$work/all")" = "$expect" ] || fail "pico:id=%02 does not give key, public key and certificate"

# -certs: the certificate alone, the same PEM as storeutl prints for the file
run openssl storeutl -certs "$work/web.crt" > "$work/file.certs"
run ossl storeutl -certs "pico:id=%02" </dev/null > "$work/pico.certs"
cmp "$work/file.certs" "$work/pico.certs" || fail "-certs: not the certificate of the file"
# type=cert: the same
run ossl storeutl "pico:id=%02;type=cert" </dev/null > "$work/pico.typecert"
cmp "$work/file.certs" "$work/pico.typecert" || fail "type=cert: not the certificate of the file"

# -keys: the private key alone (a device reference), and it signs
run ossl storeutl -noout -keys "pico:id=%02?pin-value=$PIN" </dev/null > "$work/keys"
[ "$(cat "$work/keys")" = "0: Pkey
Total found: 1" ] || fail "-keys: $(cat "$work/keys")"
echo "kinds" > "$work/msg"
run ossl dgst -sha256 -sign "pico:id=%02?pin-value=$PIN" -out "$work/sig" "$work/msg"
run openssl dgst -sha256 -verify "$work/web.pub.pem" -signature "$work/sig" "$work/msg"

# the public key (OSSL_STORE_expect PUBKEY, as pkey -pubin asks): the certificate's, no PIN
run ossl pkey -pubin -in "pico:id=%02" -pubout -out "$work/pico.pub.pem" </dev/null
cmp "$work/web.pub.pem" "$work/pico.pub.pem" || fail "public key differs from the certificate's"
# type=public alone: the public key, printed as storeutl prints a public key file
run openssl storeutl "$work/web.pub.pem" > "$work/file.pub"
run ossl storeutl "pico:id=%02;type=public" </dev/null > "$work/pico.pub"
cmp "$work/file.pub" "$work/pico.pub" || fail "type=public: not the public key file's output"

# a kind the URI rules out is not returned: type=private and -certs find nothing
run ossl storeutl -certs "pico:id=%02;type=private" </dev/null > "$work/none"
grep -q "^Total found: 0$" "$work/none" || fail "type=private -certs returned something"

# the listing names each kind
run ossl storeutl 'pico:' </dev/null > "$work/list"
cat "$work/list"
for t in private public cert; do
    grep -q "^[0-9]*: Name: pico:token=ESPICOHSMTR00001;object=web;id=02;type=$t$" "$work/list" ||
        fail "listing has no type=$t name"
done
echo PASS
