#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Keys that are not on the device behave as with the default provider alone,
# in either provider order, in openssl.cnf and with -propquery ?provider=pico:
# key files sign, decrypt and derive (pico's key manager refuses a software
# private key, so OpenSSL runs the operation where the key lives); genpkey
# without pico-label makes a software key and leaves the device alone; with
# pico loaded alone genpkey makes a usable device key.
. "$(dirname "$0")/provider-lib.sh"
with_devices

echo "signed data" > "$work/msg"
sha256_bin() { openssl dgst -sha256 -binary "$1" > "$2"; }
sha256_bin "$work/msg" "$work/msg.sha256"

# Software keys and their public halves, made by plain openssl
run openssl genpkey -algorithm EC -pkeyopt group:P-256 -out "$work/ec.key"
run openssl genpkey -algorithm EC -pkeyopt group:P-256 -out "$work/peer.key"
run openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$work/rsa.key"
for k in ec peer rsa; do run openssl pkey -in "$work/$k.key" -pubout -out "$work/$k.pub"; done
keys_before=$(tool key list | wc -l)

# sign_verify KEY [options]: pkeyutl and dgst signatures through the providers,
# verified by plain openssl
sign_verify() {
    local key=$1
    shift
    run ossl pkeyutl "$@" -sign -inkey "$work/$key.key" -in "$work/msg.sha256" -out "$work/sig"
    run openssl pkeyutl -verify -pubin -inkey "$work/$key.pub" -in "$work/msg.sha256" \
        -sigfile "$work/sig"
    run ossl dgst "$@" -sha256 -sign "$work/$key.key" -out "$work/sig" "$work/msg"
    run openssl dgst -sha256 -verify "$work/$key.pub" -signature "$work/sig" "$work/msg"
}

for props in "" "-propquery ?provider=pico"; do
    # shellcheck disable=SC2086
    sign_verify ec $props
    # shellcheck disable=SC2086
    sign_verify rsa $props

    # RSA decryption (PKCS#1 v1.5 and OAEP) of what plain openssl encrypted
    for pad in pkcs1 oaep; do
        run openssl pkeyutl -encrypt -pubin -inkey "$work/rsa.pub" -pkeyopt "rsa_padding_mode:$pad" \
            -in "$work/msg" -out "$work/ct"
        # shellcheck disable=SC2086
        run ossl pkeyutl $props -decrypt -inkey "$work/rsa.key" -pkeyopt "rsa_padding_mode:$pad" \
            -in "$work/ct" -out "$work/pt"
        cmp -s "$work/pt" "$work/msg" || fail "rsa $pad decryption of a file key: wrong plaintext"
    done

    # ECDH: the same secret as the default provider alone derives
    run openssl pkeyutl -derive -inkey "$work/ec.key" -peerkey "$work/peer.pub" -out "$work/z.ref"
    # shellcheck disable=SC2086
    run ossl pkeyutl $props -derive -inkey "$work/ec.key" -peerkey "$work/peer.pub" -out "$work/z"
    cmp -s "$work/z" "$work/z.ref" || fail "ecdh with a file key: another secret"
done

# The same through openssl.cnf (providers activated in the order under test)
pico_cnf "$work/openssl.cnf"
OPENSSL_CONF=$work/openssl.cnf run openssl dgst -sha256 -sign "$work/ec.key" -out "$work/sig" \
    "$work/msg"
run openssl dgst -sha256 -verify "$work/ec.pub" -signature "$work/sig" "$work/msg"

# genpkey without pico-label: a software key, as the default provider alone makes it
# (also where the device could not: RSA-1536), and nothing changes on the device
verifies=$(apdus 20)
run ossl genpkey -algorithm EC -pkeyopt group:P-384 -out "$work/soft-ec.pem"
run ossl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1536 -out "$work/soft-rsa.pem"
run ossl genpkey -algorithm RSA-PSS -pkeyopt rsa_keygen_bits:2048 -out "$work/soft-pss.pem"
for k in soft-ec soft-rsa soft-pss; do
    grep -q 'BEGIN PRIVATE KEY' "$work/$k.pem" || fail "$k: not a software private key file"
    run openssl pkey -in "$work/$k.pem" -noout
done
# encrypted as asked, and printed as the default provider prints it
run ossl genpkey -algorithm EC -pkeyopt group:P-256 -aes256 -pass pass:secret-pw -out "$work/soft-enc.pem"
grep -q 'BEGIN ENCRYPTED PRIVATE KEY' "$work/soft-enc.pem" || fail "genpkey -aes256: not encrypted"
run openssl pkey -in "$work/soft-enc.pem" -passin pass:secret-pw -noout
ossl genpkey -algorithm EC -pkeyopt group:P-256 -text -out "$work/soft-text.pem" > "$work/text" ||
    fail "genpkey -text of a software key"
grep -q '^priv:' "$work/text" || grep -q 'priv:' "$work/soft-text.pem" ||
    fail "genpkey -text: no private key text"
expect_bits() { openssl pkey -in "$1" -text -noout | head -1 | grep -q "$2" || fail "$1: not $2"; }
expect_bits "$work/soft-ec.pem" "384 bit"
expect_bits "$work/soft-rsa.pem" "1536 bit"
[ "$(tool key list | wc -l)" = "$keys_before" ] || fail "genpkey without a label made a device key"
[ "$(apdus 20)" = "$verifies" ] || fail "genpkey without a label logged in"

# pico loaded alone: genpkey with a label makes a device key that works
run openssl genpkey -provider pico -algorithm EC -pkeyopt group:P-256 -pkeyopt pico-label:alone \
    -pkeyopt "pico-uri:pico:?pin-value=$PIN" -out "$work/alone.pem"
grep -q 'BEGIN PICO HSM KEY URI' "$work/alone.pem" || fail "pico alone: not a device key file"
run ossl pkey -pubin -in 'pico:object=alone' -pubout -out "$work/alone.pub"
run ossl dgst -sha256 -sign "pico:object=alone?pin-value=$PIN" -out "$work/sig" "$work/msg"
run openssl dgst -sha256 -verify "$work/alone.pub" -signature "$work/sig" "$work/msg"
# ... and without one it says what is missing, the device untouched
keys_before=$(tool key list | wc -l)
run_fails openssl genpkey -provider pico -algorithm EC -pkeyopt group:P-256 -out "$work/x.pem"
grep -q 'label' "$work/err" || fail "pico alone without pico-label: the label is not named"
[ "$(tool key list | wc -l)" = "$keys_before" ] || fail "a failed genpkey changed the device"
echo PASS
