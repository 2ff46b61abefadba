#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# X25519 and X448 keys through pico-pkcs11.so (PKCS#11 3.0 CKK_EC_MONTGOMERY): made with
# CKM_EC_MONTGOMERY_KEY_PAIR_GEN (pkcs11-tool's EC:curve25519, the curveName form; X448 and the
# OID form through test/tools/p11-ecx: pkcs11-tool 0.23 has neither, nor an X25519 derive), on
# the default firmware build. CKM_ECDH1_DERIVE with CKD_NULL and the peer's raw public key (or
# the same in an OCTET STRING) gives the secret plain openssl derives with the peer's private
# key and the device key's public key (built from CKA_EC_POINT), byte for byte, in one DECIPHER
# APDU; a peer key of the other curve's size is refused without an APDU.
. "$(dirname "$0")/lib.sh"
need_devices

module=$top_builddir/pkcs11/.libs/pico-pkcs11.so
pin=$PICO_PIN
m() { pkcs11-tool --module "$module" "$@"; }
ml() { m --login --pin "$pin" "$@"; }
x() { "$top_builddir/test/tools/p11-ecx" "$module" "$@"; }
# the last line of p11-ecx's answer ("COMMAND: 0xRV"), whatever the status
xrv() { { x "$@" || true; } | tail -1; }
apdus() { grep -ciE "^> [0-9a-f]{2}$1" "$PICO_SIM_LOG1" || true; }

# 1. the keys: X25519 by pkcs11-tool (CKA_EC_PARAMS "curve25519", which pkcs11-tool 0.23
# encodes with a length of 11 for its 10 characters), X448 by OID and by name
expect_match "$(m --list-mechanisms)" "^  EC-MONTGOMERY-KEY-PAIR-GEN, keySize=\{255,448\}" "list"
ml --keypairgen --key-type EC:curve25519 --label x1 --id 01 >/dev/null
expect_eq "$(xrv "$pin" gen montgomery 06032b656f x2)" "gen: 0x0" "X448 key (OID form)"
# a curveName of no curve, or longer than its content: CKR_CURVE_NOT_SUPPORTED
expect_eq "$(xrv "$pin" gen montgomery 13086375727665393939 x3)" "gen: 0x140" "curve999"
expect_eq "$(xrv "$pin" gen montgomery 130863757276653434380a x3)" "gen: 0x140" \
    "a curveName longer than its content"
expect_eq "$(xrv "$pin" gen montgomery 13086375727665343438 x3)" "gen: 0x0" \
    "X448 key (curveName form)"
expect_eq "$(xrv "$pin" gen montgomery 06032b6570 x4)" "gen: 0xd1" "Ed25519 OID with MONTGOMERY"

# 2. the objects: CKK_EC_MONTGOMERY (0x41), the OIDs of RFC 8410, the raw keys; derive only
objs=$(m --list-objects --type pubkey)
echo "$objs" >&2
expect_match "$objs" "Public Key Object; EC_MONTGOMERY" "pkcs11-tool's listing"
attrs=$(x "$pin" attrs x1)
expect_match "$attrs" "^public: type 0x41 params 06032b656e point 0420[0-9a-f]{64} sign -1 verify 0 derive 0$" "X25519 public"
expect_match "$attrs" "^private: type 0x41 params 06032b656e point 0420[0-9a-f]{64} sign 0 verify -1 derive 1$" "X25519 private"
expect_match "$(x "$pin" attrs x2)" "^public: type 0x41 params 06032b656f point 0438[0-9a-f]{112} " "X448"
expect_match "$(x - find 130a63757276653235353139)" "^find: 1$" "search by curve25519"
expect_match "$(x - find 06032b656f)" "^find: 2$" "search by the X448 OID"
# an X25519 key signs nothing
echo msg >"$tmp/msg"
! ml --sign --id 01 -m ECDSA -i "$tmp/msg" -o "$tmp/no.sig" >"$tmp/out" 2>&1 ||
    fail "signed with an X25519 key"
expect_match "$(cat "$tmp/out")" "CKR_KEY_TYPE_INCONSISTENT" "ECDSA with an X25519 key"

# 3. ECDH: the device's secret equals openssl's, one DECIPHER (INS 62) each
pub_of() { # label spki-prefix len
    local point
    point=$(x "$pin" attrs "$1" | sed -n "s/^public: .* point 04$3\([0-9a-f]*\) .*/\1/p")
    echo "$2$point" | xxd -r -p | openssl pkey -pubin -inform der -out "$tmp/$1.pem"
}
pub_of x1 302a300506032b656e032100 20
pub_of x2 3042300506032b656f033900 38
pub_of x3 3042300506032b656f033900 38
for k in x1:X25519:32 x2:X448:56 x3:X448:56; do
    IFS=: read -r label alg len <<<"$k"
    openssl genpkey -algorithm "$alg" -out "$tmp/peer-$label.pem"
    openssl pkey -in "$tmp/peer-$label.pem" -pubout -outform der | tail -c "$len" \
        >"$tmp/peer-$label.raw"
    openssl pkeyutl -derive -inkey "$tmp/peer-$label.pem" -peerkey "$tmp/$label.pem" \
        -out "$tmp/ref-$label"
    for form in raw der; do
        d0=$(apdus 62)
        expect_eq "$(xrv "$pin" derive "$label" "$tmp/peer-$label.raw" "$tmp/z-$label" $form)" \
            "derive: 0x0" "derive with $label ($form)"
        expect_eq "$(($(apdus 62) - d0))" 1 "DECIPHER APDUs of one derive with $label"
        cmp "$tmp/z-$label" "$tmp/ref-$label" || fail "$label: the secret differs from openssl's"
        expect_eq "$(stat -c %s "$tmp/z-$label")" "$len" "$label: secret length"
    done
done
# the other curve's peer key: refused, nothing sent
d0=$(apdus 62)
expect_eq "$(xrv "$pin" derive x1 "$tmp/peer-x2.raw" "$tmp/no")" "derive: 0x71" "X448 peer, X25519 key"
expect_eq "$(xrv "$pin" derive x2 "$tmp/peer-x1.raw" "$tmp/no")" "derive: 0x71" "X25519 peer, X448 key"
expect_eq "$(apdus 62)" "$d0" "DECIPHER APDUs of the refused derivations"
echo PASS
