#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Keys made by OpenSC's pkcs11-tool are found by label and id and used through
# the provider; keys the provider made are listed and used by pkcs11-tool.
. "$(dirname "$0")/provider-lib.sh"
with_devices

module=/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so
printf 'app default {\n framework pkcs15 {\n  use_file_caching = no;\n }\n}\n' > "$work/opensc.conf"
export OPENSC_CONF="$work/opensc.conf"
p11() { pkcs11-tool --module "$module" "$@"; }
echo "interop" > "$work/msg"

# OpenSC -> provider
run p11 --login --pin "$PIN" --keypairgen --key-type EC:prime256v1 --label from-opensc --id 4242
run ossl pkey -pubin -in "pico:object=from-opensc" -pubout -out "$work/a.pub.pem"
run ossl dgst -sha256 -sign "pico:id=4242?pin-value=$PIN" -out "$work/a.sig" "$work/msg"
run openssl dgst -sha256 -verify "$work/a.pub.pem" -signature "$work/a.sig" "$work/msg"
run p11 --login --pin "$PIN" --keypairgen --key-type rsa:2048 --label rsa-opensc --id 4343
run ossl pkey -pubin -in "pico:object=rsa-opensc" -pubout -out "$work/r.pub.pem"
run ossl dgst -sha256 -sign "pico:object=rsa-opensc;id=4343?pin-value=$PIN" -out "$work/r.sig" "$work/msg"
run openssl dgst -sha256 -verify "$work/r.pub.pem" -signature "$work/r.sig" "$work/msg"

# provider -> OpenSC
pico_genkey EC group:P-384 from-pico 5151
run p11 --list-objects > "$work/objects"
grep -q "from-pico" "$work/objects" || fail "pkcs11-tool does not list the provider's key"
openssl dgst -sha384 -binary "$work/msg" > "$work/dgst"
run p11 --login --pin "$PIN" --sign --mechanism ECDSA --id 5151 --input-file "$work/dgst" \
    --output-file "$work/b.sig" --signature-format openssl
run ossl pkey -pubin -in "pico:object=from-pico" -pubout -out "$work/b.pub.pem"
run openssl dgst -sha384 -verify "$work/b.pub.pem" -signature "$work/b.sig" "$work/msg"
echo PASS
