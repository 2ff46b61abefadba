#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# OSSL_STORE searches on pico: (storeutl -alias, -subject, -issuer/-serial,
# -fingerprint) return exactly the matching objects, each equal to the
# certificate file; a search that matches nothing returns nothing, no error.
. "$(dirname "$0")/provider-lib.sh"
with_devices

printf 'app default {\n framework pkcs15 {\n  use_file_caching = no;\n }\n}\n' > "$work/opensc.conf"
export OPENSC_CONF="$work/opensc.conf"
p11() { pkcs11-tool --module /usr/lib/x86_64-linux-gnu/opensc-pkcs11.so "$@"; }

# a key with its certificate, a second key without one, a certificate without a key
pico_genkey EC group:P-256 web 02
pico_genkey EC group:P-256 mail 03
run ossl req -new -x509 -key "pico:object=web?pin-value=$PIN" -subj "/CN=web.example/O=Pico" \
    -days 30 -out "$work/web.crt"
run tool cert import --label web --pin "$PIN" "$work/web.crt"
run openssl req -new -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$work/ca.key" -subj "/CN=Example CA" -days 30 -out "$work/ca.crt"
run openssl x509 -in "$work/ca.crt" -outform DER -out "$work/ca.der"
run p11 --login --pin "$PIN" --write-object "$work/ca.der" --type cert --id 42 --label myca

# storeutl prints a match as it prints the certificate file
run openssl storeutl "$work/web.crt" > "$work/web.out"
run openssl storeutl "$work/ca.crt" > "$work/ca.out"
same() { # same EXPECTED-FILE storeutl-arguments...
    local want=$1
    shift
    run ossl storeutl "$@" </dev/null > "$work/got"
    cmp "$want" "$work/got" || fail "storeutl $*: $(cat "$work/got")"
}
nothing() { # nothing storeutl-arguments...: no object, status 0
    run ossl storeutl "$@" </dev/null > "$work/got"
    [ "$(cat "$work/got")" = "Total found: 0" ] || fail "storeutl $* found: $(cat "$work/got")"
}

# by alias (the label): every object of that label; -certs narrows it
run ossl storeutl -noout -alias web "pico:?pin-value=$PIN" </dev/null > "$work/alias"
[ "$(cat "$work/alias")" = "0: Pkey
1: Public key
2: Certificate
Total found: 3" ] || fail "-alias web: $(cat "$work/alias")"
same "$work/web.out" -certs -alias web 'pico:'
same "$work/ca.out" -alias myca 'pico:'
# a key without a certificate: its two keys
run ossl storeutl -noout -alias mail "pico:?pin-value=$PIN" </dev/null > "$work/mail"
[ "$(cat "$work/mail")" = "0: Pkey
1: Public key
Total found: 2" ] || fail "-alias mail: $(cat "$work/mail")"
nothing -alias nosuchlabel 'pico:'

# by subject: certificates only
same "$work/web.out" -subject "/CN=web.example/O=Pico" 'pico:'
same "$work/ca.out" -subject "/CN=Example CA" 'pico:'
nothing -subject "/CN=web.example" 'pico:'

# by issuer and serial
serial=$(openssl x509 -in "$work/ca.crt" -noout -serial | cut -d= -f2)
same "$work/ca.out" -issuer "/CN=Example CA" -serial "0x$serial" 'pico:'
serial=$(openssl x509 -in "$work/web.crt" -noout -serial | cut -d= -f2)
same "$work/web.out" -issuer "/CN=web.example/O=Pico" -serial "0x$serial" 'pico:'
nothing -issuer "/CN=Example CA" -serial "0x$serial" 'pico:'

# by fingerprint, as x509 -fingerprint prints it, with the digest named
for md in sha1 sha256; do
    fp=$(openssl x509 -in "$work/ca.crt" -noout -fingerprint -$md | cut -d= -f2 | tr -d :)
    same "$work/ca.out" -$md -fingerprint "$fp" 'pico:'
    fp=$(openssl x509 -in "$work/web.crt" -noout -fingerprint -$md | cut -d= -f2 | tr -d :)
    same "$work/web.out" -$md -fingerprint "$fp" 'pico:'
done
nothing -sha1 -fingerprint 0000000000000000000000000000000000000000 'pico:'

# libcrypto's own subject search (X509_LOOKUP_store): the device as a CA store
run openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/leaf.key" \
    -subj "/CN=leaf" -out "$work/leaf.csr"
run openssl x509 -req -in "$work/leaf.csr" -CA "$work/ca.crt" -CAkey "$work/ca.key" -days 3 \
    -out "$work/leaf.crt"
run openssl verify -CAfile "$work/ca.crt" "$work/leaf.crt"
run ossl verify -CAstore 'pico:' "$work/leaf.crt" </dev/null
run openssl x509 -req -in "$work/leaf.csr" -key "$work/leaf.key" -days 3 -out "$work/self.crt"
run_fails ossl verify -CAstore 'pico:' "$work/self.crt" </dev/null

# a search and the URI's attributes both hold
same "$work/web.out" -alias web 'pico:type=cert'
nothing -alias myca 'pico:object=web'
echo PASS
