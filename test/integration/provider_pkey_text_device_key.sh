#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `openssl pkey -text` and `openssl storeutl -text` on a device key print
# where the private key is (its URI, path only, and the reader of its device)
# and its public half exactly as plain `openssl pkey -pubin -text` prints the
# exported public key; a PIN given in the URI is never printed. EC and RSA,
# from a pico: URI, from a key file, with the providers from -provider
# options and from openssl.cnf.
. "$(dirname "$0")/provider-lib.sh"
with_devices

pico_cnf "$work/openssl.cnf"

# contains FILE PART: PART's lines appear in FILE, in one piece
contains() {
    awk 'NR == FNR { p = p $0 "\n"; next } { t = t $0 "\n" } END { exit index(t, p) ? 0 : 1 }' \
        "$2" "$1"
}

# check WHAT FILE KEY TYPE: FILE is the text of KEY (type= TYPE) without the PIN
check() {
    local what=$1 out=$2 k=$3 type=$4
    cat "$out" >&2
    grep -q "$PIN" "$out" && fail "$what: the PIN is printed"
    grep -q "^URI: pico:.*object=$k;.*type=$type" "$out" || fail "$what: no URI of the key"
    grep -qF "Reader: $PICO_READER1" "$out" || fail "$what: no reader"
    contains "$out" "$work/$k.pubtext" || fail "$what: the public key text differs from openssl's"
}

for alg in EC RSA; do
    k=text-${alg,,}
    if [ "$alg" = EC ]; then
        pico_genkey EC group:P-384 "$k"
    else
        pico_genkey RSA rsa_keygen_bits:2048 "$k"
    fi
    # what plain openssl prints for the exported public key
    run ossl pkey -pubin -in "pico:object=$k" -pubout -out "$work/$k.pub"
    openssl pkey -pubin -in "$work/$k.pub" -text -noout > "$work/$k.pubtext"
    grep -q 'Public-Key' "$work/$k.pubtext" || fail "$k: no public key text from openssl"
    uri="pico:object=$k?pin-value=$PIN"

    # pkey -text on the URI, with the providers as options and from openssl.cnf
    run ossl pkey -in "$uri" -text -noout > "$work/out"
    check "$k: pkey -text" "$work/out" "$k" private
    grep -q "^Pico HSM $alg Private Key" "$work/out" || fail "$k: pkey -text: no key type"
    OPENSSL_CONF=$work/openssl.cnf run openssl pkey -in "$uri" -text -noout > "$work/out"
    check "$k: pkey -text (openssl.cnf)" "$work/out" "$k" private

    # the key file genpkey wrote
    run ossl pkey -in "$work/$k.uri.pem" -passin "pass:$PIN" -text -noout > "$work/out"
    check "$k: pkey -text on the key file" "$work/out" "$k" private

    # the public part alone
    run ossl pkey -in "$uri" -text_pub -noout > "$work/out"
    check "$k: pkey -text_pub" "$work/out" "$k" public

    # storeutl -text: the text, then the key file's PEM block
    run ossl storeutl -text "$uri" > "$work/out"
    check "$k: storeutl -text" "$work/out" "$k" private
    grep -q 'BEGIN PICO HSM KEY URI' "$work/out" || fail "$k: storeutl wrote no key block"
done
echo PASS
