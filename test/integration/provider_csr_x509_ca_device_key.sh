#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A CA whose key is on the device issues certificates: `openssl req -verify`
# through pico accepts a CSR signed by a device key, `openssl x509 -req
# -CAkey <device key>` and `openssl ca` accept it and issue a certificate that
# plain openssl verifies. Both once rejected good CSRs (the CSR's signature,
# verified through pico, failed: the software verify context never saw the
# digest).
. "$(dirname "$0")/provider-lib.sh"
with_devices

pico_genkey RSA rsa_keygen_bits:2048 ca-rsa
pico_genkey EC group:P-256 ca-ec
pico_genkey EC group:P-384 leaf-ec
pico_genkey RSA rsa_keygen_bits:2048 leaf-rsa
# the property query makes pico's signature code verify, in either provider order
pq=(-propquery '?provider=pico')

# `req -verify` exits 0 on a bad signature (OpenSSL 3.0): its message tells.
#   req_verify OK|failure REQ-ARGS...
req_verify() {
    local want=$1
    shift
    echo "+ $*" >&2
    "$@" -noout -verify > "$work/req.out" 2>&1 || true
    cat "$work/req.out" >&2
    grep -q "self-signature verify $want" "$work/req.out" ||
        fail "expected 'verify $want' from: $*"
}
for ca in ca-rsa ca-ec; do
    # the CA's self-signed certificate, made with its device key
    run ossl req -new -x509 -key "pico:object=$ca?pin-value=$PIN" -subj "/CN=$ca" -days 30 \
        -addext basicConstraints=critical,CA:true -addext keyUsage=keyCertSign,cRLSign \
        -out "$work/$ca.crt"
    run openssl verify -CAfile "$work/$ca.crt" "$work/$ca.crt"
    # openssl ca's files
    mkdir -p "$work/$ca.d/new"
    : > "$work/$ca.d/index.txt"
    echo 01 > "$work/$ca.d/serial"
    cat > "$work/$ca.cnf" <<CNF
[ca]
default_ca = ca_sect
[ca_sect]
dir = $work/$ca.d
database = \$dir/index.txt
new_certs_dir = \$dir/new
serial = \$dir/serial
certificate = $work/$ca.crt
private_key = pico:object=$ca?pin-value=$PIN
default_md = sha256
default_days = 10
policy = policy_any
[policy_any]
commonName = supplied
CNF
    for leaf in leaf-ec leaf-rsa; do
        for md in sha256 sha384; do
            name="$ca-$leaf-$md"
            run ossl req -new -key "pico:object=$leaf?pin-value=$PIN" -"$md" -subj "/CN=$name" \
                -out "$work/$name.csr"
            # the CSR's signature: through pico and with plain openssl
            req_verify OK ossl req "${pq[@]}" -in "$work/$name.csr"
            req_verify OK openssl req -in "$work/$name.csr"
            # x509 -req with the CA key on the device
            run ossl x509 "${pq[@]}" -req -in "$work/$name.csr" -CA "$work/$ca.crt" \
                -CAkey "pico:object=$ca?pin-value=$PIN" -CAcreateserial -days 5 -"$md" \
                -out "$work/$name.x509.crt"
            run openssl verify -CAfile "$work/$ca.crt" "$work/$name.x509.crt"
            # openssl ca (key from its configuration)
            run ossl ca "${pq[@]}" -batch -config "$work/$ca.cnf" -md "$md" \
                -in "$work/$name.csr" -out "$work/$name.ca.crt"
            run openssl verify -CAfile "$work/$ca.crt" "$work/$name.ca.crt"
        done
    done
done
# a CSR whose signature is broken is refused by both, through pico and without
csr=$work/ca-rsa-leaf-rsa-sha256.csr
openssl req -in "$csr" -outform DER -out "$work/csr.der"
n=$(stat -c %s "$work/csr.der")
printf '\125' | dd of="$work/csr.der" bs=1 seek=$((n - 10)) conv=notrunc status=none
req_verify failure ossl req "${pq[@]}" -inform DER -in "$work/csr.der"
req_verify failure openssl req -inform DER -in "$work/csr.der"
run_fails ossl x509 "${pq[@]}" -req -inform DER -in "$work/csr.der" -CA "$work/ca-rsa.crt" \
    -CAkey "pico:object=ca-rsa?pin-value=$PIN" -CAcreateserial -days 5 -out "$work/bad.crt"
echo PASS
