#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The quick-start demo, run by `./quickstart demo` inside test/with-devices:
# pico-hsm-tool shows the virtual Pico HSM; a key is generated on it through
# the pico provider, signs a message there, and plain openssl verifies the
# signature with the exported public key. Then the same with a second factor:
# the device is set up for PIN + Public Key Authentication with a key in a PEM
# file, and signing needs both.
set -euo pipefail

: "${PICO_READER1:?run me through test/with-devices}"
: "${top_builddir:?}"
pin=${PICO_PIN:-648219}
so_pin=${PICO_SO_PIN:-3537363231383830}
export OPENSSL_MODULES="$top_builddir/provider/.libs"
tool() { "$top_builddir/tools/pico-hsm-tool" --reader "$PICO_READER1" "$@"; }
p=(-provider default -provider pico)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
echo "$pin" > pin.txt

step() { printf '\n== %s\n' "$*"; }

step "the device in reader '$PICO_READER1'"
tool status

step "generate an EC P-256 key on the device (openssl genpkey through the provider)"
openssl genpkey "${p[@]}" -propquery provider=pico -algorithm EC -pkeyopt group:P-256 \
    -pkeyopt pico-label:demo -pkeyopt 'pico-uri:pico:?pin-source=file:pin.txt' -out demo.pem
cat demo.pem
openssl storeutl "${p[@]}" 'pico:'

step "sign a message on the device"
echo "Private keys live in the HSM." > message.txt
openssl dgst "${p[@]}" -sha256 -sign 'pico:object=demo?pin-source=file:pin.txt' \
    -out message.sig message.txt

step "export the public key and verify with plain openssl"
openssl pkey "${p[@]}" -pubin -in 'pico:object=demo' -pubout -out demo.pub.pem
cat demo.pub.pem
openssl dgst -sha256 -verify demo.pub.pem -signature message.sig message.txt

step "a second factor: PIN + Public Key Authentication with a key in a file"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out pka.pem
tool init --yes --pin "$pin" --so-pin "$so_pin" --pka 1/1
tool pka register --key file:pka.pem --pin-source file:pin.txt
factors="pin-source=file:pin.txt&pka-key=file:$work/pka.pem"
openssl genpkey "${p[@]}" -propquery provider=pico -algorithm EC -pkeyopt group:P-256 \
    -pkeyopt pico-label:guarded -pkeyopt "pico-uri:pico:?$factors" -out guarded.pem
openssl dgst "${p[@]}" -sha256 -sign "pico:object=guarded?$factors" -out guarded.sig message.txt
openssl pkey "${p[@]}" -pubin -in 'pico:object=guarded' -pubout -out guarded.pub.pem
openssl dgst -sha256 -verify guarded.pub.pem -signature guarded.sig message.txt
echo "without the PKA key, the device refuses:"
if openssl dgst "${p[@]}" -sha256 -sign 'pico:object=guarded?pin-source=file:pin.txt' \
    -out /dev/null message.txt </dev/null; then
    echo "demo: signed without the second factor" >&2
    exit 1
fi
