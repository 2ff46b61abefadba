#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The quick-start demo, run by `./quickstart demo` inside test/with-devices:
# a key is generated on the virtual Pico HSM, signs a message there, and plain
# openssl verifies the signature with the exported public key. Until the pico
# provider lands, OpenSC's pkcs11-tool drives the device.
set -euo pipefail

: "${PICO_READER1:?run me through test/with-devices}"
pin=${PICO_PIN:-648219}
module=$(pkg-config --variable=libdir p11-kit-1 2>/dev/null || echo /usr/lib/x86_64-linux-gnu)/opensc-pkcs11.so
[ -f "$module" ] || module=/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

# Every emulated Pico reports the same serial; OpenSC must not serve files it
# cached from another device.
printf 'app default {\n framework pkcs15 {\n  use_file_caching = no;\n }\n}\n' > opensc.conf
export OPENSC_CONF="$work/opensc.conf"

p11() { pkcs11-tool --module "$module" --slot-index 0 "$@"; }

step() { printf '\n== %s\n' "$*"; }

step "the device in reader '$PICO_READER1'"
opensc-tool --reader 0 --atr
opensc-tool --reader 0 --name

step "generate an EC P-256 key on the device"
p11 --login --pin "$pin" --keypairgen --key-type EC:prime256v1 --label demo --id 01

step "sign a message on the device (ECDSA over its SHA-256 digest)"
echo "Private keys live in the HSM." > message.txt
openssl dgst -sha256 -binary message.txt > message.sha256
p11 --login --pin "$pin" --sign --mechanism ECDSA --id 01 \
    --input-file message.sha256 --output-file message.sig --signature-format openssl

step "export the public key and verify with plain openssl"
p11 --read-object --type pubkey --id 01 --output-file demo.pub.der
openssl pkey -pubin -inform DER -in demo.pub.der -out demo.pub.pem
cat demo.pub.pem
openssl dgst -sha256 -verify demo.pub.pem -signature message.sig message.txt
