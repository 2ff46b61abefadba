#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# X25519 and X448 device keys made by `openssl genpkey` with pico-label (and
# pico-id) are found by the store and their key files load back: storeutl
# lists them as X25519/X448 keys, `pkey -pubout` of the URI, of the key file
# and of the public key object give the same SubjectPublicKeyInfo, which
# plain openssl reads; `pkey -text` says what the key is; the sizes the key
# reports are the default provider's for the same public key. A label
# another key has is refused without a login; genpkey without a label makes
# an ordinary software key (written as the default provider writes it).
. "$(dirname "$0")/provider-lib.sh"
with_devices

sizes="$top_builddir/test/tools/pkey-sizes"
for alg in X25519 X448; do
    pico_genkey "$alg" "" "gen-$alg" "$([ $alg = X25519 ] && echo 0a0b || echo 0c0d)"
    file=$work/gen-$alg.uri.pem
    grep -q 'BEGIN PICO HSM KEY URI' "$file" || fail "$alg: not a key file"
    # the store lists it with its type and size, and loads it
    run ossl storeutl -text "pico:" > "$work/list"
    grep -q "private key: $alg $([ $alg = X25519 ] && echo 253 || echo 448)-bit key 'gen-$alg'" \
        "$work/list" || { cat "$work/list" >&2; fail "$alg: the listing does not say $alg"; }
    run ossl storeutl -keys -text "pico:object=gen-$alg?pin-value=$PIN" > "$work/list"
    grep -q "Pico HSM $alg Private Key" "$work/list" || fail "$alg: storeutl loads no $alg key"
    # one public key, whichever way it is reached
    run ossl pkey -in "pico:object=gen-$alg?pin-value=$PIN" -pubout -out "$work/a.pub"
    run ossl pkey -in "$file" -passin "pass:$PIN" -pubout -out "$work/b.pub"
    run ossl pkey -pubin -in "pico:object=gen-$alg;type=public" -pubout -out "$work/c.pub"
    cmp "$work/a.pub" "$work/b.pub" && cmp "$work/a.pub" "$work/c.pub" ||
        fail "$alg: the public keys differ"
    run openssl pkey -pubin -in "$work/a.pub" -noout -text > "$work/pub.txt"
    grep -q "^$alg Public-Key" "$work/pub.txt" || fail "$alg: plain openssl reads no $alg key"
    # the text of the device key
    run ossl pkey -in "$file" -passin "pass:$PIN" -noout -text > "$work/text"
    grep -q "Pico HSM $alg Private Key" "$work/text" || fail "$alg: text does not say $alg"
    # sizes (bits, security bits, max size, digest) as the default provider reports them
    run "$sizes" "pico:object=gen-$alg?pin-value=$PIN" > "$work/s.dev"
    run "$sizes" -pub "pico:object=gen-$alg?pin-value=$PIN" > "$work/s.sw"
    cat "$work/s.dev" >&2
    cmp "$work/s.dev" "$work/s.sw" || fail "$alg: sizes differ from the default provider's"
    # the same label again: refused before the login
    tries=$(pin_tries)
    run_fails ossl genpkey -propquery provider=pico -algorithm "$alg" \
        -pkeyopt "pico-label:gen-$alg" -pkeyopt "pico-uri:pico:?pin-value=$PIN" -out "$work/dup.pem"
    [ "$(pin_tries)" = "$tries" ] || fail "$alg: a refused generation logged in"
    # no label: a software key, the default provider's own file
    run ossl genpkey -algorithm "$alg" -out "$work/soft.pem"
    grep -q 'BEGIN PRIVATE KEY' "$work/soft.pem" || fail "$alg: soft key not a software key file"
    run openssl pkey -in "$work/soft.pem" -noout
done
echo PASS
