#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# pico-pkcs11.so registered with p11-kit (a private registry: a pico.module
# mounted over p11-kit's module directory, in the harness's own mount
# namespace): p11-kit lists its token; GnuTLS's p11tool lists the keys and
# signs (it verifies with the public key itself); the registration's
# x-init-reserved: settings reach C_Initialize: pkcs11-tool through
# p11-kit-proxy.so logs in with no PIN of its own (the token has a protected
# authentication path from pin-source=), openssl verifies its signature.
. "$(dirname "$0")/lib.sh"
need_devices
command -v p11tool >/dev/null || { echo "SKIP: no p11tool (gnutls-bin)"; exit 77; }

module=$top_builddir/pkcs11/.libs/pico-pkcs11.so
proxy=$(pkg-config --variable=proxy_module p11-kit-1)
registry=$(pkg-config --variable=p11_module_configs p11-kit-1)
token="pkcs11:model=SmartCard-HSM;token=ESPICOHSMTR00001"

# 1. two keys made through the module
for k in "EC:prime256v1 ec 01" "rsa:2048 rsa 02"; do
    set -- $k
    pkcs11-tool --module "$module" --login --pin "$PICO_PIN" --keypairgen --key-type "$1" \
        --label "$2" --id "$3" >/dev/null
done
# 2. the private registry: only pico.module, as conf/pico.module with settings
echo "$PICO_PIN" >"$tmp/pin"
mkdir "$tmp/modules"
sed "s|^module: .*|module: $module|" "$top_srcdir/conf/pico.module" >"$tmp/modules/pico.module"
echo "x-init-reserved: pin-source=file:$tmp/pin debug=$tmp/debug.log" >>"$tmp/modules/pico.module"
mount --bind "$tmp/modules" "$registry"
trap 'umount "$registry"; rm -rf "$tmp"' EXIT
# 3. p11-kit sees the module and its token, with the protected authentication path
mods=$(p11-kit list-modules)
expect_match "$mods" "^pico: $module" "p11-kit list-modules"
expect_match "$mods" "token: ESPICOHSMTR00001" "the token through p11-kit"
expect_match "$mods" "protected-authentication-path" "pin-source= from x-init-reserved"
# 4. p11tool lists the public keys, and after a login the private ones
expect_match "$(p11tool --list-all "$token")" "object=rsa;type=public" "p11tool public keys"
privs=$(GNUTLS_PIN=$PICO_PIN p11tool --login --list-privkeys "$token")
expect_match "$privs" "object=ec;type=private" "p11tool private EC key"
expect_match "$privs" "object=rsa;type=private" "p11tool private RSA key"
# 5. p11tool signs with each key and verifies the signature with the public key
for k in ec rsa; do
    out=$(GNUTLS_PIN=$PICO_PIN p11tool --login --test-sign "$token;object=$k;type=private" 2>&1)
    expect_match "$out" "Verifying against public key.*ok" "p11tool --test-sign $k"
done
# 6. through p11-kit's proxy, with the PIN from the registration's settings only
echo "signed through p11-kit-proxy" >"$tmp/msg"
pkcs11-tool --module "$proxy" --token-label ESPICOHSMTR00001 --login --sign --id 01 \
    -m ECDSA-SHA256 -i "$tmp/msg" -o "$tmp/sig" --signature-format openssl </dev/null
pkcs11-tool --module "$module" --read-object --type pubkey --id 01 -o "$tmp/pub.der"
openssl dgst -sha256 -verify <(openssl pkey -pubin -inform der -in "$tmp/pub.der") \
    -signature "$tmp/sig" "$tmp/msg" || fail "the signature through the proxy does not verify"
# 7. the settings were read (the debug log says so), the PIN is in no log
expect_match "$(cat "$tmp/debug.log")" "settings: .*pin-source=\(set\)" "settings in the debug log"
! grep -q "$PICO_PIN" "$tmp/debug.log" "$PICO_SIM_LOG1" || fail "the PIN is in a log"
echo PASS
