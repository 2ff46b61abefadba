#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Ed25519 and Ed448 keys through pico-pkcs11.so (PKCS#11 3.0 CKK_EC_EDWARDS, CKM_EDDSA):
# device 1 models a firmware built with EdDSA, device 2 the default build. OpenSC 0.23's
# pkcs11-tool makes an Ed25519 key (CKA_EC_PARAMS the curveName "edwards25519"), signs with
# -m EDDSA and reads the public key; test/tools/p11-ecx does what it cannot (Ed448, the OID
# form, CK_EDDSA_PARAMS). Every signature verifies with plain openssl (-rawin), a changed
# message does not; one SIGN APDU per signature. PureEdDSA only: HashEdDSA (phFlag) and a
# context are refused with CKR_MECHANISM_PARAM_INVALID and nothing is sent. The default
# build lists no EdDSA mechanism and refuses the key generation, leaving no key.
. "$(dirname "$0")/lib.sh"
need_devices -n 2 --eddsa=1

module=$top_builddir/pkcs11/.libs/pico-pkcs11.so
pin=$PICO_PIN
m() { pkcs11-tool --module "$module" "$@"; }
ml() { m --login --pin "$pin" "$@"; }
x() { "$top_builddir/test/tools/p11-ecx" "$module" "$@"; }
# the last line of p11-ecx's answer ("COMMAND: 0xRV"), whatever the status
xrv() { { x "$@" || true; } | tail -1; }
apdus() { grep -ciE "^> [0-9a-f]{2}$1" "$PICO_SIM_LOG1" || true; }
spki_ed25519=302a300506032b6570032100 spki_ed448=3043300506032b6571033a00

# 1. the mechanisms: on a device without an Ed key the EdDSA probe needs a login (before it,
# the token does not know and lists none); logged in, EC_EDWARDS_KEY_PAIR_GEN (0x1055) and
# EDDSA (0x1057). pkcs11-tool (its list comes before its login) makes an Ed25519 key with the
# curveName form of CKA_EC_PARAMS, finding the mechanism once logged in
! x - mechs | grep -Eq " 0x1055| 0x1057" || fail "EdDSA listed before the device was asked"
expect_match "$(x "$pin" mechs)" " 0x1056 0x1055 0x1057$" "mechanism list once logged in"
ml --keypairgen --key-type EC:edwards25519 --label ed1 --id 01 >/dev/null
expect_eq "$(xrv "$pin" gen edwards 06032b6571 ed2 02)" "gen: 0x0" "Ed448 key (OID form)"
expect_eq "$(xrv "$pin" gen edwards 130a65647761726473343438 ed3)" "gen: 0x0" "Ed448 key (curveName form)"
# a curve of another mechanism
expect_eq "$(xrv "$pin" gen edwards 06032b656e edx)" "gen: 0xd1" "X25519 OID with EDWARDS"
expect_eq "$(xrv "$pin" gen ec 06032b6570 edx)" "gen: 0xd1" "Ed25519 OID with EC_KEY_PAIR_GEN"

# with an Ed key on the device the answer needs no login
mechs=$(m --list-mechanisms)
expect_match "$mechs" "^  EC-EDWARDS-KEY-PAIR-GEN, keySize=\{255,448\}, hw, generate_key_pair" "list"
expect_match "$mechs" "^  EDDSA, keySize=\{255,448\}, hw, sign" "mechanism list"

# 2. the objects: CKK_EC_EDWARDS (0x40), CKA_EC_PARAMS the OID of RFC 8410, CKA_EC_POINT an
# OCTET STRING of the raw key; sign only, no derive
objs=$(m --list-objects --type pubkey)
echo "$objs" >&2
expect_match "$objs" "Public Key Object; EC_EDWARDS" "pkcs11-tool's listing"
attrs=$(x "$pin" attrs ed1)
expect_match "$attrs" "^public: type 0x40 params 06032b6570 point 0420[0-9a-f]{64} sign -1 verify 1 derive 0$" "Ed25519 public"
expect_match "$attrs" "^private: type 0x40 params 06032b6570 point 0420[0-9a-f]{64} sign 1 verify -1 derive 0$" "Ed25519 private"
attrs2=$(x "$pin" attrs ed2)
expect_match "$attrs2" "^public: type 0x40 params 06032b6571 point 0439[0-9a-f]{114} " "Ed448 public"
# a search by the curveName finds what the OID finds
expect_match "$(x - find 130c656477617264733235353139)" "^find: 1$" "search by edwards25519"
expect_match "$(x - find 06032b6571)" "^find: 2$" "search by the Ed448 OID"

# 3. the public keys: pkcs11-tool reads Ed25519 (PEM); Ed448 is built from CKA_EC_POINT
m --read-object --type pubkey --label ed1 -o "$tmp/ed1.pem" >/dev/null
openssl pkey -pubin -in "$tmp/ed1.pem" -noout -text | grep -q "^ED25519 Public-Key" ||
    fail "pkcs11-tool's Ed25519 public key"
for k in ed2 ed3; do
    point=$(x "$pin" attrs $k | sed -n 's/^public: .* point 0439\([0-9a-f]*\) .*/\1/p')
    echo "$spki_ed448$point" | xxd -r -p | openssl pkey -pubin -inform der -out "$tmp/$k.pem"
done
point=$(x "$pin" attrs ed1 | sed -n 's/^public: .* point 0420\([0-9a-f]*\) .*/\1/p')
echo "$spki_ed25519$point" | xxd -r -p | openssl pkey -pubin -inform der -out "$tmp/ed1b.pem"
cmp -s <(openssl pkey -pubin -in "$tmp/ed1.pem") <(openssl pkey -pubin -in "$tmp/ed1b.pem") ||
    fail "CKA_EC_POINT is not the key pkcs11-tool read"

# 4. signatures: PureEdDSA over the whole message, verified by plain openssl (pkcs11-tool
# finds the key to sign with by --id only)
printf 'signed whole, PureEdDSA\n' >"$tmp/msg"
{ printf 'x'; cat "$tmp/msg"; } >"$tmp/bad"
verify() { # pub sig
    openssl pkeyutl -verify -pubin -inkey "$1" -rawin -in "$tmp/msg" -sigfile "$2" >/dev/null ||
        fail "$2 does not verify"
    ! openssl pkeyutl -verify -pubin -inkey "$1" -rawin -in "$tmp/bad" -sigfile "$2" \
        >/dev/null 2>&1 || fail "$2 verifies a changed message"
}
s0=$(apdus 68)
ml --sign --id 01 -m EDDSA -i "$tmp/msg" -o "$tmp/ed1.sig" >/dev/null
[ "$(stat -c %s "$tmp/ed1.sig")" = 64 ] || fail "Ed25519 signature length"
verify "$tmp/ed1.pem" "$tmp/ed1.sig"
ml --sign --id 02 -m EDDSA -i "$tmp/msg" -o "$tmp/ed2.sig" >/dev/null
expect_eq "$(stat -c %s "$tmp/ed2.sig")" 114 "Ed448 signature length"
verify "$tmp/ed2.pem" "$tmp/ed2.sig"
expect_eq "$(($(apdus 68) - s0))" 2 "SIGN APDUs of two signatures"
for how in none pure parts; do
    expect_eq "$(xrv "$pin" sign ed3 "$tmp/msg" "$tmp/ed3$how.sig" $how)" "sign: 0x0" "Ed448 signature ($how)"
    verify "$tmp/ed3.pem" "$tmp/ed3$how.sig"
done
# a message longer than pkcs11-tool's 1025-byte buffer goes in parts (C_SignUpdate)
head -c 2000 /dev/urandom >"$tmp/msg"
{ printf 'x'; cat "$tmp/msg"; } >"$tmp/bad"
ml --sign --id 01 -m EDDSA -i "$tmp/msg" -o "$tmp/long.sig" >/dev/null
verify "$tmp/ed1.pem" "$tmp/long.sig"
expect_eq "$(xrv "$pin" sign ed2 "$tmp/msg" "$tmp/long2.sig" parts)" "sign: 0x0" "Ed448 parts"
verify "$tmp/ed2.pem" "$tmp/long2.sig"
# longer than one command APDU: refused before any SIGN
head -c 3000 /dev/zero >"$tmp/big"
s0=$(apdus 68)
expect_eq "$(xrv "$pin" sign ed1 "$tmp/big" "$tmp/big.sig")" "sign: 0x21" "3000 bytes"
# HashEdDSA and a context: CKR_MECHANISM_PARAM_INVALID, nothing sent
for how in ph ctx; do
    expect_eq "$(xrv "$pin" sign ed1 "$tmp/msg" "$tmp/no.sig" $how)" "sign: 0x71" "Ed25519 with $how not refused"
    expect_eq "$(xrv "$pin" sign ed2 "$tmp/msg" "$tmp/no.sig" $how)" "sign: 0x71" "Ed448 with $how not refused"
done
expect_eq "$(apdus 68)" "$s0" "SIGN APDUs of the refused signatures"
# EDDSA with an EC key, ECDSA with an Ed key: the key's type is inconsistent
ml --keypairgen --key-type EC:prime256v1 --label p256 --id 09 >/dev/null
! ml --sign --id 09 -m EDDSA -i "$tmp/msg" -o "$tmp/no.sig" >"$tmp/out" 2>&1 ||
    fail "EDDSA with an EC key"
expect_match "$(cat "$tmp/out")" "CKR_KEY_TYPE_INCONSISTENT" "EDDSA with an EC key"
! ml --sign --id 01 -m ECDSA -i "$tmp/msg" -o "$tmp/no.sig" >"$tmp/out" 2>&1 ||
    fail "ECDSA with an Ed key"
expect_match "$(cat "$tmp/out")" "CKR_KEY_TYPE_INCONSISTENT" "ECDSA with an Ed key"

# 5. the default build (slot 1): no EdDSA mechanism, logged in or not; the key generation
# refused as a mechanism the token does not have, no key left behind
for login in "" "--login --pin $pin"; do
    # shellcheck disable=SC2086
    mechs=$(m --slot-index 1 $login --list-mechanisms)
    ! grep -Eq "EDDSA|EC-EDWARDS" <<<"$mechs" || fail "EdDSA listed on the default build ($login)"
    expect_match "$mechs" "^  EC-MONTGOMERY-KEY-PAIR-GEN," "default build ($login)"
done
expect_eq "$(P11_SLOT=1 xrv "$pin" gen edwards 06032b6570 none)" "gen: 0x70" "Ed25519 on the default build not refused with CKR_MECHANISM_INVALID"
"$top_builddir/tools/pico-hsm-tool" --reader "$PICO_READER2" key list | grep -q '^No keys' ||
    fail "the refused generation left a key"
echo PASS
