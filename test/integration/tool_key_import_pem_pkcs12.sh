#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# key import: a PEM key (EC, encrypted) and a PKCS#12 file (RSA and its certificate) go into
# the device under its DKEK (the key blob built on the host from sc-hsm-tool's share file):
# through the provider the imported keys then give what the default provider gives with the
# original PEM keys (the same RSA signature and plaintext, the same ECDH secret), and the
# certificate is stored with the key; a TLS server runs on the imported key and the stored
# certificate (TLS 1.3 and TLS 1.2 with RSA key exchange). Refused, saying why and before the share is opened: RSA
# with e = 3 (the device would use e = 65537), a curve the device lacks, a label in use; and
# before anything is sent to the device: shares that are not the device's DKEK.
. "$(dirname "$0")/provider-lib.sh"
with_devices

SEL=00A404000BE82B0601040181C31F020100
VERIFY=0020008106363438323139 # PIN 648219
SHARE=000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F
# that share in sc-hsm-tool's share file (--create-dkek-share), password wrap-test-share
SHARE_FILE=53616c7465645f5f57524150544553545d9b4f014244e8c9eb69d961456baa67073dcbc82283a5245c2f4b79cf863b6c901d4cc001690ceb3bd640295ae7d179
echo "$PIN" > "$work/pin"
echo wrap-test-share > "$work/share.pw"
echo pem-pass > "$work/pem.pw"
echo p12-pass > "$work/p12.pw"
pin=(--pin-source "file:$work/pin")
dkek=(--dkek-share "$work/share.pbe" --dkek-password-source "file:$work/share.pw")
echo "$SHARE_FILE" | xxd -r -p > "$work/share.pbe"
run tool init --yes --pin "$PIN" --so-pin "$SOPIN" --dkek-shares 1 >/dev/null
"$top_builddir/test/tools/pcsc-apdu" 0 $SEL $VERIFY "8052000020$SHARE" >/dev/null
key() { echo "pico:object=$1?pin-source=file:$work/pin"; }

# refusals before any share is opened (they would cost seconds), each saying why
run openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -pkeyopt rsa_keygen_pubexp:3 \
    -out "$work/e3.pem"
run_fails tool key import --pem "$work/e3.pem" --label e3 "${dkek[@]}" "${pin[@]}"
grep -q 'exponent is not 65537.*would use the key with e = 65537' "$work/err" ||
    fail "e=3: $(cat "$work/err")"
run openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:secp224r1 -out "$work/p224.pem"
run_fails tool key import --pem "$work/p224.pem" --label p224 "${dkek[@]}" "${pin[@]}"
grep -q 'no such ec curve' "$work/err" || fail "secp224r1: $(cat "$work/err")"
[ "$(tool key list)" = "No keys." ] || fail "a refused import left a key"

# PEM: an encrypted EC P-384 key
run openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:secp384r1 -aes256 \
    -pass "file:$work/pem.pw" -out "$work/ec.pem"
run tool key import --pem "$work/ec.pem" --pass-source "file:$work/pem.pw" --label ec \
    "${dkek[@]}" "${pin[@]}" --json > "$work/ec.json"
grep -q '"type":"EC","label":"ec","id":"[0-9a-f]\{40\}"' "$work/ec.json" || fail "$(cat "$work/ec.json")"
# the ID is OpenSC's intrinsic one: SHA-1 of the public point's x coordinate
x=$(openssl pkey -in "$work/ec.pem" -passin "file:$work/pem.pw" -pubout -outform DER | tail -c 96 |
    head -c 48 | openssl dgst -sha1 -r | cut -d' ' -f1)
grep -q "\"id\":\"$x\"" "$work/ec.json" || fail "id is not SHA-1(x) $x: $(cat "$work/ec.json")"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:secp384r1 -out "$work/peer.pem"
openssl pkey -in "$work/peer.pem" -pubout -out "$work/peer.pub"
run ossl pkeyutl -derive -inkey "$(key ec)" -peerkey "$work/peer.pub" -out "$work/z.pico"
run openssl pkeyutl -derive -inkey "$work/ec.pem" -passin "file:$work/pem.pw" \
    -peerkey "$work/peer.pub" -out "$work/z.default"
cmp -s "$work/z.pico" "$work/z.default" || fail "ECDH with the imported key differs"

# PKCS#12: RSA-2048 with its certificate
run openssl req -new -x509 -newkey rsa:2048 -nodes -keyout "$work/rsa.pem" -subj /CN=imported \
    -days 30 -out "$work/rsa.crt" 2>/dev/null
run openssl pkcs12 -export -inkey "$work/rsa.pem" -in "$work/rsa.crt" -passout "file:$work/p12.pw" \
    -out "$work/rsa.p12"
run_fails tool key import --pkcs12 "$work/rsa.p12" --pass-source "file:$work/p12.pw" --label ec \
    "${dkek[@]}" "${pin[@]}"
grep -q "already has the label 'ec'" "$work/err" || fail "label in use: $(cat "$work/err")"
run tool key import --pkcs12 "$work/rsa.p12" --pass-source "file:$work/p12.pw" --label rsa \
    --id 0c0d "${dkek[@]}" "${pin[@]}"
tool key list | grep -Eq '^2 +RSA +2048 +- +yes +rsa +0c0d$' || fail "rsa: $(tool key list)"
ossl storeutl -certs "pico:object=rsa;type=cert" > "$work/cert.out"
openssl x509 -in "$work/cert.out" -noout -subject | grep -q 'CN *= *imported' || fail "no certificate"
echo "imported key, signed" > "$work/msg"
run ossl pkeyutl -sign -rawin -digest sha256 -inkey "$(key rsa)" -in "$work/msg" -out "$work/s.pico"
run openssl pkeyutl -sign -rawin -digest sha256 -inkey "$work/rsa.pem" -in "$work/msg" -out "$work/s.default"
cmp -s "$work/s.pico" "$work/s.default" || fail "RSA signatures differ"
run openssl pkeyutl -encrypt -certin -inkey "$work/rsa.crt" -in "$work/msg" -out "$work/ct"
run ossl pkeyutl -decrypt -inkey "$(key rsa)" -in "$work/ct" -out "$work/pt.pico"
cmp -s "$work/pt.pico" "$work/msg" || fail "decryption with the imported key differs"

# TLS with the imported key and the certificate read back from the device: s_server signs
# (TLS 1.3, RSA-PSS) and decrypts (TLS 1.2 RSA key exchange) on the device; a plain
# s_client verifies the server against the PKCS#12's certificate
ossl storeutl -certs "pico:object=rsa;type=cert" | openssl x509 > "$work/dev.crt"
tls() {
    local port=$1 server
    shift
    ossl s_server -accept "127.0.0.1:$port" -key "$(key rsa)" -cert "$work/dev.crt" -www \
        -naccept 1 "$@" > "$work/server$port.log" 2>&1 &
    server=$!
    for _ in $(seq 100); do
        grep -q ACCEPT "$work/server$port.log" 2>/dev/null && break
        sleep 0.1
    done
    printf 'GET / HTTP/1.0\r\n\r\n' | openssl s_client -connect "127.0.0.1:$port" \
        -CAfile "$work/rsa.crt" -verify_return_error -ign_eof "$@" > "$work/client.log" 2>&1 ||
        { cat "$work/server$port.log" "$work/client.log" >&2; kill $server 2>/dev/null; fail "TLS $*"; }
    wait $server 2>/dev/null || true
    grep -q 'Verify return code: 0 (ok)' "$work/client.log" || fail "TLS $*: not verified"
    grep -q 's_server' "$work/client.log" || fail "TLS $*: no page"
}
signs=$(apdus 68) deciphers=$(apdus 62)
tls 4441 -tls1_3
[ "$(apdus 68)" -gt "$signs" ] || fail "TLS 1.3: the handshake did not sign on the device"
tls 4442 -tls1_2 -cipher AES128-GCM-SHA256
[ "$(apdus 62)" -gt "$deciphers" ] || fail "TLS 1.2 RSA: the premaster was not decrypted on the device"

# a device with another DKEK: refused before the UNWRAP, naming both check values
run tool init --yes --pin "$PIN" --so-pin "$SOPIN" --dkek-shares 1 >/dev/null
"$top_builddir/test/tools/pcsc-apdu" 0 $SEL $VERIFY "8052000020FF${SHARE:2}" >/dev/null
unwraps=$(apdus 74)
run_fails tool key import --pem "$work/rsa.pem" --label rsa "${dkek[@]}" "${pin[@]}"
grep -q 'check value 630dcd2966c43366) is not the device' "$work/err" || fail "other dkek: $(cat "$work/err")"
[ "$(apdus 74)" = "$unwraps" ] || fail "an UNWRAP was sent to the device with another dkek"
echo "key import: ok"
