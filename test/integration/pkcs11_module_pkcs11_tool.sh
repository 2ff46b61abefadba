#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# pico-pkcs11.so driven by OpenSC's pkcs11-tool, an independent client, on a
# PIN-only device: slots and token, mechanisms, key generation (EC P-256,
# P-384, RSA-2048), objects with and without login, a signature with every
# mechanism (each verified with plain openssl, a changed message refused),
# RSA decryption (PKCS#1 v1.5, OAEP, raw) of what plain openssl encrypted,
# ECDH equal to openssl's, one APDU per private-key operation.
. "$(dirname "$0")/lib.sh"
need_devices
[ -n "${PKCS11_TRACE:-}" ] && set -x

module=$top_builddir/pkcs11/.libs/pico-pkcs11.so
pin=$PICO_PIN
m() { pkcs11-tool --module "$module" "$@"; }
ml() { m --login --pin "$pin" "$@"; }
sends() { grep -c '^> ' "$PICO_SIM_LOG1" || true; }

# 1. the slot is the reader, the token the device (label: its name)
slots=$(m --list-slots)
expect_match "$slots" "Slot 0 \(0x0\): $PICO_READER1" "slot list"
expect_match "$slots" "token label *: ESPICOHSM" "token label"
expect_match "$slots" "token flags *: login required, token initialized, PIN initialized" "flags"
expect_match "$(m --show-info)" "Cryptoki version 3.0" "module info"
mechs=$(m --list-mechanisms)
for mech in RSA-PKCS-KEY-PAIR-GEN RSA-PKCS RSA-X-509 RSA-PKCS-OAEP RSA-PKCS-PSS SHA256-RSA-PKCS \
    SHA512-RSA-PKCS-PSS ECDSA-KEY-PAIR-GEN ECDSA ECDSA-SHA384 ECDH1-DERIVE; do
    expect_match "$mechs" "^  $mech," "mechanism list"
done

# 2. keys made on the device through the module
ml --keypairgen --key-type EC:prime256v1 --label p256 --id 01 >/dev/null
ml --keypairgen --key-type EC:secp384r1 --label p384 --id 02 >/dev/null
ml --keypairgen --key-type rsa:2048 --label rsa2048 --id 03 >/dev/null
# the public keys: RSA read as an object; EC from CKA_EC_POINT (pkcs11-tool 0.23 cannot
# rebuild a P-384 key with --read-object), the SubjectPublicKeyInfo put together here
m --read-object --type pubkey --id 03 -o "$tmp/pub03.der" >/dev/null
openssl pkey -pubin -inform der -in "$tmp/pub03.der" -out "$tmp/pub03.pem"
ec_pub() { # id spki-prefix-hex
    local point
    # (--list-objects lists every object, whatever --id says)
    point=$(m --list-objects --type pubkey |
        awk -v id="$1" '$1 == "EC_POINT:" { p = substr($2, 5) } $1 == "ID:" && $2 == id { print p }')
    [ -n "$point" ] || fail "no EC_POINT for key $1"
    echo "$2$point" | xxd -r -p | openssl pkey -pubin -inform der -out "$tmp/pub$1.pem" ||
        fail "EC_POINT of key $1 is no public key"
}
ec_pub 01 3059301306072a8648ce3d020106082a8648ce3d030107034200
ec_pub 02 3076301006072a8648ce3d020106052b81040022036200
expect_match "$(openssl pkey -pubin -in "$tmp/pub02.pem" -text -noout)" "384 bit" "P-384 key"

# 3. public keys without a login, private keys once logged in
public=$(m --list-objects)
expect_match "$public" "Public Key Object; EC  EC_POINT 384 bits" "public objects"
! grep -q "Private Key Object" <<<"$public" || fail "private keys listed without a login"
private=$(ml --list-objects --type privkey)
for l in p256 p384 rsa2048; do expect_match "$private" "label: *$l" "private objects"; done
expect_match "$private" "Access: *sensitive, always sensitive, never extractable, local" "access"

# 4. every signature mechanism; openssl verifies, a changed message does not verify
echo "signed inside the virtual HSM through PKCS#11" >"$tmp/msg"
{ cat "$tmp/msg"; echo x; } >"$tmp/bad"
verify() { # pub digest sig [openssl dgst -sigopt ...]
    local pub=$1 md=$2 sig=$3
    shift 3
    openssl dgst "-$md" -verify "$pub" -signature "$sig" "$@" "$tmp/msg" >/dev/null ||
        fail "$sig does not verify"
    ! openssl dgst "-$md" -verify "$pub" -signature "$sig" "$@" "$tmp/bad" >/dev/null 2>&1 ||
        fail "$sig verifies a changed message"
}
for md in sha1 sha224 sha256 sha384 sha512; do
    MD=${md^^}
    for id in 01 02; do
        ml --sign --id $id -m "ECDSA-$MD" -i "$tmp/msg" -o "$tmp/ec$id$md" \
            --signature-format openssl
        verify "$tmp/pub$id.pem" $md "$tmp/ec$id$md"
    done
    ml --sign --id 03 -m "$MD-RSA-PKCS" -i "$tmp/msg" -o "$tmp/rsa$md"
    verify "$tmp/pub03.pem" $md "$tmp/rsa$md"
    ml --sign --id 03 -m "$MD-RSA-PKCS-PSS" --mgf "MGF1-$MD" -i "$tmp/msg" -o "$tmp/pss$md" \
       
    verify "$tmp/pub03.pem" $md "$tmp/pss$md" -sigopt rsa_padding_mode:pss \
        -sigopt rsa_pss_saltlen:digest
done
# PSS with a salt that is not the hash length: the block is encoded on the host
ml --sign --id 03 -m SHA256-RSA-PKCS-PSS --mgf MGF1-SHA256 --salt-len 20 -i "$tmp/msg" \
    -o "$tmp/pss20"
verify "$tmp/pub03.pem" sha256 "$tmp/pss20" -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:20
# the mechanisms without a hash sign what they are given: a hash, a DigestInfo, a block
openssl dgst -sha256 -binary "$tmp/msg" >"$tmp/hash"
ml --sign --id 01 -m ECDSA -i "$tmp/hash" -o "$tmp/ecraw" --signature-format openssl
verify "$tmp/pub01.pem" sha256 "$tmp/ecraw"
ml --sign --id 03 -m RSA-PKCS-PSS --hash-algorithm SHA256 --mgf MGF1-SHA256 -i "$tmp/hash" \
    -o "$tmp/pssraw"
verify "$tmp/pub03.pem" sha256 "$tmp/pssraw" -sigopt rsa_padding_mode:pss \
    -sigopt rsa_pss_saltlen:digest
ml --sign --id 03 -m RSA-PKCS -i "$tmp/msg" -o "$tmp/pkcs1raw"
openssl pkeyutl -verify -pubin -inkey "$tmp/pub03.pem" -in "$tmp/msg" -sigfile "$tmp/pkcs1raw" \
    >/dev/null || fail "RSA-PKCS over raw data does not verify"
{ printf '\0'; head -c 255 /dev/urandom; } >"$tmp/block"
ml --sign --id 03 -m RSA-X-509 -i "$tmp/block" -o "$tmp/x509sig"
openssl pkeyutl -verifyrecover -pubin -inkey "$tmp/pub03.pem" -pkeyopt rsa_padding_mode:none \
    -in "$tmp/x509sig" -out "$tmp/recovered"
cmp -s "$tmp/block" "$tmp/recovered" || fail "RSA-X-509 does not raise the block to d"

# 5. decryption of what plain openssl encrypted
head -c 40 /dev/urandom >"$tmp/plain"
openssl pkeyutl -encrypt -pubin -inkey "$tmp/pub03.pem" -in "$tmp/plain" -out "$tmp/ct1"
ml --decrypt --id 03 -m RSA-PKCS -i "$tmp/ct1" -o "$tmp/pt1"
cmp -s "$tmp/plain" "$tmp/pt1" || fail "RSA-PKCS decryption differs"
for md in sha1 sha256 sha512; do
    openssl pkeyutl -encrypt -pubin -inkey "$tmp/pub03.pem" -in "$tmp/plain" -out "$tmp/ct2" \
        -pkeyopt rsa_padding_mode:oaep -pkeyopt "rsa_oaep_md:$md" -pkeyopt "rsa_mgf1_md:$md"
    MD=${md^^}
    [ $md = sha1 ] && MD=SHA-1 # pkcs11-tool's name of CKM_SHA_1
    ml --decrypt --id 03 -m RSA-PKCS-OAEP --hash-algorithm "$MD" --mgf "MGF1-${md^^}" \
        -i "$tmp/ct2" -o "$tmp/pt2"
    cmp -s "$tmp/plain" "$tmp/pt2" || fail "RSA-PKCS-OAEP $md decryption differs"
done
openssl pkeyutl -encrypt -pubin -inkey "$tmp/pub03.pem" -pkeyopt rsa_padding_mode:none \
    -in "$tmp/block" -out "$tmp/ct3"
ml --decrypt --id 03 -m RSA-X-509 -i "$tmp/ct3" -o "$tmp/pt3"
cmp -s "$tmp/block" "$tmp/pt3" || fail "RSA-X-509 decryption differs"

# 6. ECDH: the device's secret equals openssl's with the peer's private key
for id in 01 02; do
    curve=$([ $id = 01 ] && echo P-256 || echo P-384)
    openssl genpkey -algorithm EC -pkeyopt "ec_paramgen_curve:$curve" -out "$tmp/peer$id.pem"
    openssl pkey -in "$tmp/peer$id.pem" -pubout -outform der -out "$tmp/peer$id.der"
    ml --derive --id $id -m ECDH1-DERIVE -i "$tmp/peer$id.der" -o "$tmp/z$id"
    openssl pkeyutl -derive -inkey "$tmp/peer$id.pem" -peerkey "$tmp/pub$id.pem" -out "$tmp/zz$id"
    cmp -s "$tmp/z$id" "$tmp/zz$id" || fail "ECDH secret of key $id differs from openssl's"
done

# 7. one APDU per private-key operation: a signing process sends one SIGN (INS 68)
# and nothing asked twice that is known: the PIN probe (PKA status) once per process, kept
# for the slot across pkcs11-tool's C_GetTokenInfo calls and its C_Login; 11 APDUs and two
# per key on the device (SELECT, device name, 2 x the two PIN states, the PKA status, the
# login's state and VERIFY, ENUMERATE, each key's two descriptions, SIGN)
signs() { grep -ciE '^> [0-9a-f]{2}68' "$PICO_SIM_LOG1" || true; }
pkas() { grep -ci '^> 8054' "$PICO_SIM_LOG1" || true; }
n0=$(sends) s0=$(signs) p0=$(pkas)
ml --sign --id 01 -m ECDSA-SHA256 -i "$tmp/msg" -o "$tmp/one"
n1=$(sends) s1=$(signs) p1=$(pkas)
expect_eq "$((s1 - s0))" 1 "SIGN APDUs of one pkcs11-tool --sign"
expect_eq "$((p1 - p0))" 1 "PKA status queries of one pkcs11-tool --sign"
[ $((n1 - n0)) -le $((11 + 2 * 3)) ] ||
    fail "one pkcs11-tool --login --sign process sent $((n1 - n0)) APDUs ($((11 + 2 * 3)) expected)"
echo "APDUs of one pkcs11-tool --login --sign process: $((n1 - n0))" >&2
echo "PASS"
