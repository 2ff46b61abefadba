#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# pico-pkcs11.so's settings with blanks in their values, in double quotes (\"
# and \\ inside): a pin-source file and a pka-key PEM file in a directory
# whose name has spaces, on a device that needs PIN and PKA. Through p11-kit
# (the registration's x-init-reserved, passed raw to C_Initialize) and from
# PICO_PKCS11_CONFIG's file, the login takes both factors from there and the
# key signs (verified with plain openssl). Malformed quoting makes
# C_Initialize fail, naming the problem, in either place.
. "$(dirname "$0")/lib.sh"
need_devices --blank

module=$top_builddir/pkcs11/.libs/pico-pkcs11.so
proxy=$(pkg-config --variable=proxy_module p11-kit-1)
registry=$(pkg-config --variable=p11_module_configs p11-kit-1)
PIN=648219
tool() { "$top_builddir/tools/pico-hsm-tool" --reader "$PICO_READER1" "$@"; }
dir="$tmp/dir with space"
register() { # x-init-reserved value
    printf 'module: %s\nx-init-reserved: %s\n' "$module" "$1" >"$tmp/modules/pico.module"
}
signs() { # module [pkcs11-tool options]: a signature with key 01, no PIN given
    local mod=$1
    shift
    echo "signed with settings from a directory with spaces" >"$tmp/msg"
    pkcs11-tool --module "$mod" "$@" --login --sign --id 01 -m ECDSA-SHA256 -i "$tmp/msg" \
        -o "$tmp/sig" --signature-format openssl </dev/null
    openssl dgst -sha256 -verify "$tmp/pub.pem" -signature "$tmp/sig" "$tmp/msg" >/dev/null ||
        fail "the signature does not verify"
}

# 1. a PIN + PKA device whose factors are in "$dir"
mkdir "$dir" "$tmp/modules"
echo "$PIN" >"$dir/pin"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$dir/pka.pem" 2>/dev/null
tool init --yes --pin "$PIN" --so-pin 3537363231383830 --pka 1/1 --pin-and-pka >/dev/null
tool pka register --key "file:$dir/pka.pem" --pin-source "file:$dir/pin" >/dev/null
mount --bind "$tmp/modules" "$registry"
trap 'umount "$registry"; rm -rf "$tmp"' EXIT

# 2. x-init-reserved through p11-kit: quotes around a part of a value, or a whole setting
register "pin-source=file:\"$dir/pin\" \"pka-key=file:$dir/pka.pem\"; debug=\"$dir/debug.log\""
expect_match "$(p11-kit list-modules)" "protected-authentication-path" "pin-source= read"
pkcs11-tool --module "$proxy" --login --keypairgen --key-type EC:prime256v1 --label k --id 01 \
    </dev/null >/dev/null
point=$(pkcs11-tool --module "$module" --list-objects --type pubkey |
    awk '$1 == "EC_POINT:" { print substr($2, 5) }')
echo "3059301306072a8648ce3d020106082a8648ce3d030107034200$point" | xxd -r -p |
    openssl pkey -pubin -inform der -out "$tmp/pub.pem"
signs "$proxy" --token-label ESPICOHSMTR00001
[ -s "$dir/debug.log" ] || fail "no debug log at the quoted path"
expect_match "$(cat "$dir/debug.log")" "settings: .*pin-source=\(set\) pka-keys=\(set\)" \
    "settings in the debug log"

# 3. the same from PICO_PKCS11_CONFIG's file, with an escaped quote in an unused reader name
printf 'pin-source = "file:%s/pin"\npka-key = file:"%s/pka.pem"\nreader = "%s"\n' "$dir" "$dir" \
    "$PICO_READER1" >"$tmp/p11.conf"
PICO_PKCS11_CONFIG=$tmp/p11.conf signs "$module"
printf 'reader = "no \\"such\\" reader"\n' >"$tmp/other.conf"
expect_match "$(PICO_PKCS11_CONFIG=$tmp/other.conf pkcs11-tool --module "$module" --list-slots)" \
    "Available slots:$" "no slot for a reader named with quotes"

# 4. malformed quoting: C_Initialize fails, naming the problem
printf 'pin-source = "file:%s/pin\n' "$dir" >"$tmp/bad.conf"
if PICO_PKCS11_CONFIG=$tmp/bad.conf pkcs11-tool --module "$module" --list-slots \
    >"$tmp/out" 2>&1; then
    fail "an unterminated quote was accepted"
fi
expect_match "$(cat "$tmp/out")" \
    "malformed quoting in $tmp/bad.conf: an unterminated quote in 'pin-source'" "file error"
expect_match "$(cat "$tmp/out")" "C_Initialize" "the function that failed"
register "pin-source=file:\"$dir/pin\\n\""
expect_match "$(p11-kit list-modules 2>&1)" \
    "malformed quoting in x-init-reserved: a backslash before other than \" or \\\\ inside quotes" \
    "x-init-reserved error"
echo PASS
