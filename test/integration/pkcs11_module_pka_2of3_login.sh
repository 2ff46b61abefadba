#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# m-of-n PKA through pico-pkcs11.so: three PKA keys registered (EC P-256 and
# RSA-2048 PEM files), two required. The settings name PKA keys with one
# pka-key line each: two registered keys log in (p11-kit's x-init-reserved
# form, through p11-kit-proxy.so) and sign; one key alone is refused, naming
# how many keys it needs, and costs no PIN try.
. "$(dirname "$0")/lib.sh"
need_devices --blank

module=$top_builddir/pkcs11/.libs/pico-pkcs11.so
PIN=648219
tool() { "$top_builddir/tools/pico-hsm-tool" --reader "$PICO_READER1" "$@"; }
tries() {
    local sw
    sw=$(apdu 0 00A404000BE82B0601040181C31F020100 00200081 | tail -1 | tr -d ' ')
    case "$sw" in 63C*) echo "${sw:3:1}" ;; 9000) echo verified ;; *) echo "$sw" ;; esac
}
echo "$PIN" >"$tmp/pin"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$tmp/a.pem" 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$tmp/b.pem" 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$tmp/c.pem" 2>/dev/null
tool init --yes --pin "$PIN" --so-pin 3537363231383830 --pka 3/2 >/dev/null
for k in a b c; do
    tool pka register --key "file:$tmp/$k.pem" --pin-source "file:$tmp/pin" >/dev/null
done
# 1. two of the three keys, as p11-kit passes them (x-init-reserved, a private registry)
registry=$(pkg-config --variable=p11_module_configs p11-kit-1)
mkdir "$tmp/modules"
printf 'module: %s\nx-init-reserved: pka-key=file:%s pka-key=file:%s\n' "$module" \
    "$tmp/a.pem" "$tmp/b.pem" >"$tmp/modules/pico.module"
mount --bind "$tmp/modules" "$registry"
trap 'umount "$registry"; rm -rf "$tmp"' EXIT
proxy=$(pkg-config --variable=proxy_module p11-kit-1)
pkcs11-tool --module "$proxy" --login --pin "$PIN" --keypairgen --key-type EC:prime256v1 \
    --label two --id 01 >/dev/null
echo "two of three" >"$tmp/msg"
pkcs11-tool --module "$proxy" --login --pin "$PIN" --sign --id 01 -m ECDSA-SHA256 \
    -i "$tmp/msg" -o "$tmp/sig" --signature-format openssl
pkcs11-tool --module "$module" --read-object --type pubkey --id 01 -o "$tmp/pub.der"
openssl dgst -sha256 -verify <(openssl pkey -pubin -inform der -in "$tmp/pub.der") \
    -signature "$tmp/sig" "$tmp/msg" || fail "the 2-of-3 signature does not verify"
# 2. one key only (PICO_PKCS11_CONFIG, loaded directly): refused, no PIN try spent
echo "pka-key = file:$tmp/c.pem" >"$tmp/one.conf"
if PICO_PKCS11_CONFIG=$tmp/one.conf pkcs11-tool --module "$module" --login --pin "$PIN" \
    --list-objects >"$tmp/out" 2>&1; then
    fail "logged in with one PKA key of the two required"
fi
cat "$tmp/out" >&2
expect_match "$(cat "$tmp/out")" "needs 2 pka keys, 1 given" "the missing PKA key"
expect_eq "$(tries)" 3 "tries after the refused login"
echo PASS
