#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Wrapped-key files interoperate with OpenSC's sc-hsm-tool both ways, between two devices
# that share a DKEK: sc-hsm-tool --wrap-key on A, pico-hsm-tool key unwrap on B; pico-hsm-tool
# key wrap on A, sc-hsm-tool --unwrap-key on B. Each time B holds A's public key under the
# file's label and ID (OpenSC lists it too), and B's signature verifies with A's key.
. "$(dirname "$0")/provider-lib.sh"
with_devices -n 2

SEL=00A404000BE82B0601040181C31F020100
VERIFY=0020008106363438323139 # PIN 648219
SHARE=000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F
echo "$PIN" > "$work/pin"
pin=(--pin-source "file:$work/pin")
enc() { echo "${1// /%20}"; }
readers=("$PICO_READER1" "$PICO_READER2")
on() { TOOL_READER=${readers[$1]} tool "${@:2}"; }
for i in 0 1; do
    run on $i init --yes --pin "$PIN" --so-pin "$SOPIN" --dkek-shares 1 >/dev/null
    "$top_builddir/test/tools/pcsc-apdu" $i $SEL $VERIFY "8052000020$SHARE" >/dev/null
done
run on 0 key generate --type ec:prime256v1 --label ec1 "${pin[@]}" >/dev/null
run on 0 key generate --type rsa:2048 --label rsa1 --id 5151 "${pin[@]}" >/dev/null
echo "interop" > "$work/msg"

# verify KEY: B's signature with KEY verifies with A's public key
same_key() {
    run on 0 key export-public --label "$1" -o "$work/$1.A.pem"
    run on 1 key export-public --label "$1" -o "$work/$1.B.pem"
    cmp -s "$work/$1.A.pem" "$work/$1.B.pem" || fail "$1: B holds another public key"
    run ossl dgst -sha256 -sign "pico:reader=$(enc "$PICO_READER2");object=$1?pin-source=file:$work/pin" \
        -out "$work/$1.sig" "$work/msg"
    run openssl dgst -sha256 -verify "$work/$1.A.pem" -signature "$work/$1.sig" "$work/msg"
}

# 1. sc-hsm-tool wraps (key reference 1 = ec1), we unwrap
run sc-hsm-tool -r 0 --wrap-key "$work/ec1.sc" --key-reference 1 --pin "$PIN"
run on 1 key unwrap --in "$work/ec1.sc" "${pin[@]}"
same_key ec1
on 1 key list | grep -Eq '^1 +EC +256 +prime256v1 +no +ec1 ' || fail "B: ec1 not listed as wrapped"

# 2. we wrap (rsa1, reference 2), sc-hsm-tool unwraps into reference 2 of B
run on 0 key wrap --label rsa1 --out "$work/rsa1.pico" "${pin[@]}"
run sc-hsm-tool -r 1 --unwrap-key "$work/rsa1.pico" --key-reference 2 --pin "$PIN"
on 1 key list > "$work/listB"
grep -Eq '^2 +RSA +2048 +- +no +rsa1 +5151$' "$work/listB" || fail "B: rsa1: $(cat "$work/listB")"
same_key rsa1
pkcs11-tool --module /usr/lib/x86_64-linux-gnu/opensc-pkcs11.so --slot-index 1 --login \
    --pin "$PIN" -O 2>/dev/null | grep -A3 'Private Key Object' | grep -q 'label: *rsa1' ||
    fail "OpenSC does not list rsa1 on B"

# 3. sc-hsm-tool reads our file as its own: it refuses a reference whose PrKD exists
! sc-hsm-tool -r 1 --unwrap-key "$work/rsa1.pico" --key-reference 2 --pin "$PIN" 2>"$work/err" ||
    fail "sc-hsm-tool unwrapped over an existing key"
grep -q 'existing private key description' "$work/err" || fail "sc-hsm-tool: $(cat "$work/err")"
echo "sc-hsm-tool interop: ok"
