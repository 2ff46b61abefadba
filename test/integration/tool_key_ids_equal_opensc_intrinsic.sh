#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A key made without --id gets the ID OpenSC gives the keys it makes (its intrinsic ID): the
# SHA-1 of the EC point's x coordinate or of the RSA modulus, and of the raw public key for
# X25519. Checked against plain openssl's view of each public key, and against OpenSC's own
# pkcs11-tool --keypairgen on the same device; pico-hsm-tool key generate, openssl genpkey
# through the provider and key import give the same kind of ID.
. "$(dirname "$0")/provider-lib.sh"
with_devices

module=/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so
printf 'app default {\n framework pkcs15 {\n  use_file_caching = no;\n }\n}\n' > "$work/opensc.conf"
export OPENSC_CONF="$work/opensc.conf"
echo "$PIN" > "$work/pin"
pin=(--pin-source "file:$work/pin")

id_of() { tool key list | awk -v l="$1" '$6 == l { print $NF }'; }
# the intrinsic ID of a public key file, computed with openssl alone
want() {
    local der text bytes
    der=$(openssl pkey -pubin -in "$1" -outform DER | xxd -p | tr -d '\n')
    text=$(openssl pkey -pubin -in "$1" -noout -text)
    if grep -q '^Modulus' <<<"$text"; then
        openssl rsa -pubin -in "$1" -modulus -noout | cut -d= -f2 | xxd -r -p
    elif grep -q '^X25519' <<<"$text"; then
        printf '%s' "${der: -64}" | xxd -r -p
    else # EC: the uncompressed point 04 || x || y ends the DER
        bytes=$(( ($(grep -o '[0-9]* bit' <<<"$text" | head -1 | cut -d' ' -f1) + 7) / 8 ))
        printf '%s' "${der: -$((4 * bytes))}" | cut -c1-$((2 * bytes)) | xxd -r -p
    fi | sha1sum | cut -d' ' -f1
}
check() {
    local label=$1 got
    run tool key export-public --label "$label" -o "$work/$label.pem"
    got=$(id_of "$label")
    [ "$got" = "$(want "$work/$label.pem")" ] ||
        fail "$label: ID $got, OpenSC's intrinsic ID $(want "$work/$label.pem")"
}

run tool key generate --type ec:prime256v1 --label ec256 "${pin[@]}" >/dev/null
run tool key generate --type ec:secp521r1 --label ec521 "${pin[@]}" >/dev/null
run tool key generate --type rsa:2048 --label rsa2k "${pin[@]}" >/dev/null
run tool key generate --type x25519 --label x "${pin[@]}" >/dev/null
pico_genkey EC group:P-384 gen384
for l in ec256 ec521 rsa2k x gen384; do check "$l"; done
# OpenSC's own keys on the same device: the same rule
run pkcs11-tool --module "$module" --login --pin "$PIN" --keypairgen --key-type EC:prime256v1 \
    --label osc-ec
run pkcs11-tool --module "$module" --login --pin "$PIN" --keypairgen --key-type rsa:1024 \
    --label osc-rsa
for l in osc-ec osc-rsa; do check "$l"; done
tool key list
