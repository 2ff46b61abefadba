#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Every key type of the device is a PKCS#11 object of its own type, never another's: with an
# EC key, an X25519, an X448, an Ed25519 and an Ed448 key made by pico-hsm-tool (an EdDSA build),
# and an X448 key the firmware described itself (a raw GENERATE: a plain EC description of
# 448 bits), pkcs11-tool lists CKK_EC for the EC key alone, EC_MONTGOMERY and EC_EDWARDS for
# the others, with and without a login, and signs with the EC key. A key whose type cannot be
# told (that X448 key with its public key deleted: its description alone says "EC") is left
# out instead of shown as an EC key it is not.
. "$(dirname "$0")/lib.sh"
need_devices --eddsa

module=$top_builddir/pkcs11/.libs/pico-pkcs11.so
m() { pkcs11-tool --module "$module" "$@"; }
pht() { "$top_builddir/tools/pico-hsm-tool" --reader "$PICO_READER1" "$@"; }
pht key generate --type ec:prime256v1 --label ec-key --id 01 --pin "$PICO_PIN" >/dev/null
pht key generate --type x25519 --label x-key --id 02 --pin "$PICO_PIN" >/dev/null
pht key generate --type x448 --label x448-key --id 03 --pin "$PICO_PIN" >/dev/null
pht key generate --type ed25519 --label ed-key --id 04 --pin "$PICO_PIN" >/dev/null
pht key generate --type ed448 --label ed448-key --id 05 --pin "$PICO_PIN" >/dev/null
# the firmware's own description: GENERATE of an X448 key into key 9, no PrKD written here
select=00A404000BE82B0601040181C31F020100
verify=0020008106$(printf %s "$PICO_PIN" | xxd -p)
p448=$(printf 'FF%.0s' $(seq 27))FE$(printf 'FF%.0s' $(seq 28))
apdu 0 $select "$verify" \
    "00460900000088 5F2901007F498180 060A04007F0007020202020381 38$p448 833805$(printf '00%.0s' $(seq 55)) 0000" |
    tail -1 | grep -q '9000$' || fail "raw GENERATE"

# "TYPE label": one line per key object pkcs11-tool lists
kinds() { awk '/Key Object;/ { t = $4 } $1 == "label:" { print t, $2 }'; }
for login in "" "--login --pin $PICO_PIN"; do
    # shellcheck disable=SC2086
    objs=$(m $login --list-objects)
    echo "$objs" >&2
    list=$(kinds <<<"$objs" | sort -u)
    expect_eq "$(grep -c . <<<"$list")" 6 "key objects ($login)"
    expect_match "$list" "^EC ec-key$" "the EC key ($login)"
    for l in x-key x448-key; do expect_match "$list" "^EC_MONTGOMERY $l$" "$l ($login)"; done
    for l in ed-key ed448-key; do expect_match "$list" "^EC_EDWARDS $l$" "$l ($login)"; done
    expect_match "$list" "^EC_MONTGOMERY $" "the firmware-described X448 key ($login)"
    expect_eq "$(grep -c '^EC ' <<<"$list")" 1 "keys shown as CKK_EC ($login)"
done
echo msg >"$tmp/msg"
m --login --pin "$PICO_PIN" --sign --id 01 -m ECDSA-SHA256 -i "$tmp/msg" -o "$tmp/sig" \
    --signature-format openssl >/dev/null
m --read-object --type pubkey --id 01 -o "$tmp/pub.der"
openssl pkey -pubin -inform DER -in "$tmp/pub.der" -out "$tmp/pub.pem"
openssl dgst -sha256 -verify "$tmp/pub.pem" -signature "$tmp/sig" "$tmp/msg" >/dev/null ||
    fail "the EC key's signature does not verify"

# key 9 without its public key (CE09 deleted): its description says EC, its type is unknown
apdu 0 $select "$verify" 00E4020002CE09 | tail -1 | grep -q '9000$' || fail "DELETE CE09"
for login in "" "--login --pin $PICO_PIN"; do
    # shellcheck disable=SC2086
    list=$(m $login --list-objects | kinds | sort -u)
    expect_eq "$(grep -c . <<<"$list")" 5 "key objects without key 9's public key ($login)"
    expect_eq "$(grep -c '^EC ' <<<"$list")" 1 "keys shown as CKK_EC ($login)"
done
echo PASS
