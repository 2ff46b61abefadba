#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Certificates through pico-pkcs11.so, readable without a login: a key's own
# certificate (CExx, pico-hsm-tool cert import) under the key's ID and label,
# and a certificate stored without a key (CAxx, written by OpenSC). pkcs11-tool
# reads each back byte for byte (CKA_VALUE) and shows its subject (CKA_SUBJECT);
# p11tool (GnuTLS) lists them and finds the key's certificate by its ID.
. "$(dirname "$0")/lib.sh"
need_devices

module=$top_builddir/pkcs11/.libs/pico-pkcs11.so
m() { pkcs11-tool --module "$module" "$@"; }
export OPENSSL_MODULES=$top_builddir/provider/.libs
echo "$PICO_PIN" >"$tmp/pin"

# 1. a key made through the module, its certificate made by the provider, stored by the tool
m --login --pin "$PICO_PIN" --keypairgen --key-type EC:prime256v1 --label web --id 01 >/dev/null
openssl req -provider default -provider pico -new -x509 -subj /CN=web.example -days 30 \
    -key "pico:object=web?pin-source=file:$tmp/pin" -outform der -out "$tmp/web.der"
"$top_builddir/tools/pico-hsm-tool" --reader "$PICO_READER1" cert import --label web \
    --pin-source "file:$tmp/pin" "$tmp/web.der"
# 2. a CA certificate without a key, written through OpenSC's module
openssl req -new -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$tmp/ca.key" \
    -subj "/CN=Example CA" -days 30 -outform der -out "$tmp/ca.der" 2>/dev/null
p11 --login --pin "$PICO_PIN" --write-object "$tmp/ca.der" --type cert --id 42 --label myca \
    >/dev/null
# 3. both listed without a login, with their labels, IDs and subjects
certs=$(m --list-objects --type cert)
echo "$certs" >&2
expect_match "$certs" "label: *web" "the key's certificate"
expect_match "$certs" "subject: *DN: CN=web.example" "its subject"
expect_match "$certs" "label: *myca" "the keyless certificate"
expect_match "$certs" "subject: *DN: CN=Example CA" "its subject"
# 4. read back byte for byte
m --read-object --type cert --id 01 -o "$tmp/web.out"
cmp -s "$tmp/web.der" "$tmp/web.out" || fail "the key's certificate differs"
m --read-object --type cert --id 42 -o "$tmp/ca.out"
cmp -s "$tmp/ca.der" "$tmp/ca.out" || fail "the keyless certificate differs"
# 5. GnuTLS's p11tool loads the module itself and sees both, the key's one under its ID
if command -v p11tool >/dev/null; then
    all=$(p11tool --provider "$module" --list-all-certs "pkcs11:token=ESPICOHSMTR00001")
    expect_match "$all" "Label: web" "p11tool: the key's certificate"
    expect_match "$all" "Label: myca" "p11tool: the keyless certificate"
    expect_match "$(p11tool --provider "$module" --export "pkcs11:id=%01;type=cert")" \
        "BEGIN CERTIFICATE" "p11tool: the certificate by ID"
fi
echo PASS
