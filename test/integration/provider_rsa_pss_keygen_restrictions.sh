#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# RSA-PSS keys generated on the device with rsa_pss_keygen_md, _mgf1_md and
# _saltlen are restricted as OpenSSL's own RSA-PSS keys are: the restrictions
# live in the key's description on the device (every later process, the key
# file genpkey wrote, a store lookup and OpenSC see the same key), the public
# key carries them (RSASSA-PSS parameters in the SubjectPublicKeyInfo of the
# key, of a CSR and of a certificate, as with a software RSA-PSS key), signing
# defaults to them and refuses another digest, MGF1 digest, padding or a
# shorter salt, as the default provider does with the software key.
. "$(dirname "$0")/provider-lib.sh"
with_devices

msg=$work/msg
echo "an RSA-PSS signed message" > "$msg"
module=/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so

# Device keys and their software twins (default provider), same parameters:
#   name        genpkey -pkeyopt options
keys=(
    "pss-full rsa_pss_keygen_md:sha256 rsa_pss_keygen_mgf1_md:sha256 rsa_pss_keygen_saltlen:32"
    "pss-md rsa_pss_keygen_md:sha384"
    "pss-salt rsa_pss_keygen_saltlen:48"
    "pss-any"
)
for entry in "${keys[@]}"; do
    read -r name opts <<<"$entry"
    o=(-pkeyopt rsa_keygen_bits:2048)
    for x in $opts; do o+=(-pkeyopt "$x"); done
    run ossl genpkey -propquery provider=pico -algorithm RSA-PSS "${o[@]}" \
        -pkeyopt "pico-label:$name" -pkeyopt "pico-uri:pico:?pin-value=$PIN" \
        -out "$work/$name.uri.pem"
    run openssl genpkey -algorithm RSA-PSS "${o[@]}" -out "$work/sw-$name.pem"
    run openssl pkey -in "$work/sw-$name.pem" -pubout -out "$work/sw-$name.pub.pem"
    # The public key, found again by a new process through the store, is an RSA-PSS key
    # with the same parameters as the software key: same AlgorithmIdentifier
    run ossl pkey -pubin -in "pico:object=$name;type=public" -pubout -out "$work/$name.pub.pem"
    openssl asn1parse -in "$work/$name.pub.pem" | grep -v "BIT STRING" > "$work/a"
    openssl asn1parse -in "$work/sw-$name.pub.pem" | grep -v "BIT STRING" > "$work/b"
    diff "$work/a" "$work/b" || fail "$name: public key AlgorithmIdentifier differs from openssl's"
    openssl pkey -pubin -in "$work/$name.pub.pem" -text -noout | sed -n '/^PSS/,$p' > "$work/a"
    openssl pkey -pubin -in "$work/sw-$name.pub.pem" -text -noout | sed -n '/^PSS/,$p' > "$work/b"
    cat "$work/a"
    diff "$work/a" "$work/b" || fail "$name: restrictions differ from openssl's"
    # the private key's public half (the exported key) is the same RSA-PSS key
    run ossl pkey -in "pico:object=$name?pin-value=$PIN" -pubout -out "$work/$name.pub2.pem"
    cmp "$work/$name.pub.pem" "$work/$name.pub2.pem" || fail "$name: exported public keys differ"
done
grep -q "RSA-PSS 2048-bit key 'pss-full'" <(ossl storeutl 'pico:') ||
    fail "storeutl does not list pss-full as an RSA-PSS key"
# Restrictions OpenSSL cannot hold are refused before the device makes a key
for bad in rsa_pss_keygen_md:nosuch rsa_pss_keygen_mgf1_md:md5 rsa_pss_keygen_saltlen:-5; do
    run_fails ossl genpkey -propquery provider=pico -algorithm RSA-PSS -pkeyopt "$bad" \
        -pkeyopt pico-label:bad -pkeyopt "pico-uri:pico:?pin-value=$PIN" -out "$work/bad.pem"
done
[ "$(ossl storeutl 'pico:' | grep -c "^[0-9]*: Name: .*type=private")" = "${#keys[@]}" ] ||
    fail "a refused key generation left a key on the device"

# Signs as the software twin does (pico) and must refuse what it refuses:
#   sign_like NAME MD [OPTS...]   where OPTS are -sigopt values
sign_like() {
    local name=$1 md=$2 so=() x pico=0 soft=0
    shift 2
    for x in "$@"; do so+=(-sigopt "$x"); done
    echo "+ $name $md [$*]" >&2
    ossl dgst -"$md" "${so[@]}" -sign "pico:object=$name?pin-value=$PIN" -out "$work/sig" \
        "$msg" 2>"$work/err.pico" || pico=$?
    openssl dgst -"$md" "${so[@]}" -sign "$work/sw-$name.pem" -out "$work/sw.sig" "$msg" \
        2>"$work/err.sw" || soft=$?
    if [ "$soft" != 0 ]; then
        cat "$work/err.pico" >&2
        [ "$pico" != 0 ] || fail "$name $md [$*]: the default provider refuses, pico signs"
        grep -q "rsa-pss key" "$work/err.pico" || fail "$name $md [$*]: no clear error"
        return
    fi
    [ "$pico" = 0 ] || { cat "$work/err.pico" >&2; fail "$name $md [$*]: pico refuses"; }
    # plain openssl verifies both with each public key's own defaults (the minimum
    # salt of a restricted key) and with the options given
    run openssl dgst -"$md" -verify "$work/$name.pub.pem" "${so[@]}" -signature "$work/sig" "$msg"
    run openssl dgst -"$md" -verify "$work/sw-$name.pub.pem" "${so[@]}" \
        -signature "$work/sw.sig" "$msg"
    if [ $# -eq 0 ]; then
        run openssl dgst -"$md" -verify "$work/$name.pub.pem" -signature "$work/sig" "$msg"
    fi
}
# pss-full: SHA-256, MGF1 SHA-256, salt >= 32
sign_like pss-full sha256
sign_like pss-full sha256 rsa_pss_saltlen:32
sign_like pss-full sha256 rsa_pss_saltlen:64
sign_like pss-full sha256 rsa_pss_saltlen:max
sign_like pss-full sha256 rsa_pss_saltlen:digest
sign_like pss-full sha256 rsa_pss_saltlen:20
sign_like pss-full sha384
sign_like pss-full sha256 rsa_mgf1_md:sha1
sign_like pss-full sha256 rsa_padding_mode:pkcs1
# pss-md: SHA-384 with OpenSSL's defaults for the rest (MGF1 SHA-1, salt >= 20)
sign_like pss-md sha384
sign_like pss-md sha384 rsa_pss_saltlen:digest
sign_like pss-md sha384 rsa_pss_saltlen:19
sign_like pss-md sha256
sign_like pss-md sha384 rsa_mgf1_md:sha384
# pss-salt: SHA-1 both, salt >= 48
sign_like pss-salt sha1
sign_like pss-salt sha1 rsa_pss_saltlen:digest
sign_like pss-salt sha256
# pss-any: unrestricted
sign_like pss-any sha256
sign_like pss-any sha512 rsa_pss_saltlen:digest rsa_mgf1_md:sha1
sign_like pss-any sha1 rsa_pss_saltlen:0
# The key file genpkey wrote, read back as nginx and curl read key files
# (PEM_read_bio_PrivateKey): the same restricted key, SHA-256 and its salt
echo "$PIN" > "$work/pin"
run "$top_builddir/test/tools/pem-key-sign" "$work/pss-full.uri.pem" "$work/pin" "$msg" \
    "$work/sig"
run openssl dgst -sha256 -verify "$work/pss-full.pub.pem" -signature "$work/sig" "$msg"
run openssl dgst -sha256 -verify "$work/pss-full.pub.pem" -sigopt rsa_pss_saltlen:32 \
    -signature "$work/sig" "$msg"
# No decryption with an RSA-PSS key (OpenSSL's are for signing only)
run_fails ossl pkeyutl -decrypt -inkey "pico:object=pss-any?pin-value=$PIN" -in "$work/sig" \
    -out "$work/pt"
run_fails openssl pkeyutl -encrypt -pubin -inkey "$work/sw-pss-any.pub.pem" -in "$msg" \
    -out "$work/ct"

# CSRs and certificates carry the RSASSA-PSS parameters as with the software key
algs() { grep -E "Algorithm|Salt|Trailer" "$1" | sed 's/^ *//'; }
for name in pss-full pss-md pss-any; do
    run ossl req -new -key "pico:object=$name?pin-value=$PIN" -subj "/CN=$name" \
        -out "$work/$name.csr"
    run openssl req -new -key "$work/sw-$name.pem" -subj "/CN=$name" -out "$work/sw-$name.csr"
    openssl req -in "$work/$name.csr" -noout -text > "$work/a.txt"
    openssl req -in "$work/sw-$name.csr" -noout -text > "$work/b.txt"
    algs "$work/a.txt"
    diff <(algs "$work/a.txt") <(algs "$work/b.txt") || fail "$name: CSR algorithms differ"
    run openssl req -in "$work/$name.csr" -noout -verify
    run ossl req -new -x509 -key "pico:object=$name?pin-value=$PIN" -subj "/CN=$name" -days 3 \
        -out "$work/$name.crt"
    run openssl req -new -x509 -key "$work/sw-$name.pem" -subj "/CN=$name" -days 3 \
        -out "$work/sw-$name.crt"
    openssl x509 -in "$work/$name.crt" -noout -text > "$work/a.txt"
    openssl x509 -in "$work/sw-$name.crt" -noout -text > "$work/b.txt"
    diff <(algs "$work/a.txt") <(algs "$work/b.txt") || fail "$name: certificate algorithms differ"
    run openssl verify -CAfile "$work/$name.crt" "$work/$name.crt"
done

# OpenSC still reads the description (the restriction is an extension it skips)
OPENSC_CONF=$work/opensc.conf
printf 'app default {\n framework pkcs15 {\n  use_file_caching = no;\n }\n}\n' > "$OPENSC_CONF"
export OPENSC_CONF
run pkcs11-tool --module "$module" --list-objects > "$work/objects"
grep -q "pss-full" "$work/objects" || fail "pkcs11-tool does not list pss-full"
echo PASS
