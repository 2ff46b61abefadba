#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Every Weierstrass curve the firmware generates (pico-keys-sdk ec_curves_mbed,
# sc-hsm-protocol.md 6.3) works end to end through the provider: key
# generation, public export (parsed by plain openssl on the right curve), ECDSA
# (verified by plain openssl), ECDH (equal to the default provider's derive
# from the peer side) and a CSR (verified by plain openssl).
# Not on the firmware, refused by the provider and, for secp224r1, by the
# virtual device as the firmware refuses it (6A81): secp224r1 and the
# brainpool t1 curves (a t1 prime is the r1 prime: the device would silently
# make an r1 key). The firmware's X25519/X448 keys are not EC keys to OpenSSL
# and are not offered by the provider.
. "$(dirname "$0")/provider-lib.sh"
with_devices

curves="prime192v1 prime256v1 secp384r1 secp521r1 brainpoolP256r1 brainpoolP384r1
    brainpoolP512r1 secp192k1 secp256k1"

echo "every curve signs" > "$work/msg"
for curve in $curves; do
    label="k-$curve"
    pico_genkey EC "group:$curve" "$label"
    # public export, parsed by openssl alone, on the curve asked for
    run ossl pkey -pubin -in "pico:object=$label" -pubout -out "$work/$label.pub.pem"
    run openssl pkey -pubin -in "$work/$label.pub.pem" -noout -text > "$work/$label.txt"
    grep -q "ASN1 OID: $curve" "$work/$label.txt" || fail "$curve: exported key on another curve"
    # ECDSA through the device, verified by openssl with the exported key
    run ossl dgst -sha256 -sign "pico:object=$label?pin-value=$PIN" -out "$work/$label.sig" \
        "$work/msg"
    run openssl dgst -sha256 -verify "$work/$label.pub.pem" -signature "$work/$label.sig" \
        "$work/msg"
    # ECDH with a software peer, compared with the default provider's derive from the peer side
    run openssl genpkey -algorithm EC -pkeyopt "ec_paramgen_curve:$curve" -out "$work/peer.pem"
    run openssl pkey -in "$work/peer.pem" -pubout -out "$work/peer.pub.pem"
    run ossl pkeyutl -derive -inkey "pico:object=$label?pin-value=$PIN" \
        -peerkey "$work/peer.pub.pem" -out "$work/z.dev"
    run openssl pkeyutl -derive -inkey "$work/peer.pem" -peerkey "$work/$label.pub.pem" \
        -out "$work/z.sw"
    [ -s "$work/z.sw" ] || fail "$curve: empty secret"
    cmp "$work/z.dev" "$work/z.sw" || fail "$curve: shared secrets differ"
    # a CSR signed by the device key, verified by openssl, carrying the device key
    run ossl req -new -key "pico:object=$label?pin-value=$PIN" -subj "/CN=$curve" \
        -out "$work/$label.csr"
    run openssl req -in "$work/$label.csr" -noout -verify
    run openssl req -in "$work/$label.csr" -noout -pubkey -out "$work/$label.csrpub.pem"
    cmp "$work/$label.pub.pem" "$work/$label.csrpub.pem" || fail "$curve: CSR carries another key"
done

# the checks above can fail: another key's signature does not verify
if openssl dgst -sha256 -verify "$work/k-prime256v1.pub.pem" -signature "$work/k-secp256k1.sig" \
    "$work/msg" >/dev/null 2>&1; then
    fail "a signature verified with another key"
fi

# curves the firmware does not have: the provider refuses them before the device
for curve in secp224r1 brainpoolP256t1; do
    run_fails ossl genpkey -propquery provider=pico -algorithm EC -pkeyopt "group:$curve" \
        -pkeyopt "pico-label:no-$curve" -pkeyopt "pico-uri:pico:?pin-value=$PIN"
    grep -q "curve $curve" "$work/err" || fail "$curve: refusal does not name the curve"
done
# and the virtual device refuses secp224r1's prime as the firmware does (6A81,
# ec_get_curve_from_prime), where secp256k1's prime makes a key
select=00A404000BE82B0601040181C31F0201
verify=0020008106$(printf %s "$PIN" | od -An -tx1 | tr -d ' \n')
oid=060A04007F00070202020203
gakp() { # gakp KEY-ID PRIME-HEX: GENERATE ASYMMETRIC KEY PAIR with OID + 81 only
    local p81
    p81=81$(printf %02X $((${#2} / 2)))$2
    local tmpl
    tmpl=$oid$p81
    local data
    data=7F49$(printf %02X $((${#tmpl} / 2)))$tmpl
    "$top_builddir/test/tools/pcsc-apdu" 0 "$select" "$verify" \
        "0046${1}00$(printf %02X $((${#data} / 2)))${data}00" | tail -1 | awk '{print $NF}'
}
sw=$(gakp 30 FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF000000000000000000000001)
[ "$sw" = 6A81 ] || fail "secp224r1 key generation answered $sw, not 6A81"
sw=$(gakp 31 FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFC2F)
case "$sw" in
9000 | 61*) ;;
*) fail "secp256k1 key generation answered $sw" ;;
esac
echo PASS
