#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ECDH with the X9.63 KDF (kdf-type:X963KDF), as CMS asks for it, on device
# keys: the derived key equals the default provider's from the peer side for
# the same digest, length and UKM (pkeyutl, and the EVP_PKEY_CTX_set_ecdh_*
# calls CMS makes, with the parameters read back); and a message that plain
# openssl encrypted to a certificate of the device key decrypts through pico.
. "$(dirname "$0")/provider-lib.sh"
with_devices

derive=$top_builddir/test/tools/ecdh-derive
for curve in P-256 secp521r1 secp256k1; do
    label="kdf-$curve"
    key="pico:object=$label?pin-value=$PIN"
    pico_genkey EC "group:$curve" "$label"
    run ossl pkey -pubin -in "pico:object=$label" -pubout -out "$work/dev.pub.pem"
    run openssl genpkey -algorithm EC -pkeyopt "ec_paramgen_curve:$curve" -out "$work/peer.pem"
    run openssl pkey -in "$work/peer.pem" -pubout -out "$work/peer.pub.pem"
    for spec in SHA256:32:00112233 SHA384:70:a0a1a2a3a4a5a6a7a8a9 SHA1:16:; do
        IFS=: read -r md len ukm <<<"$spec"
        opts=(-pkeyopt kdf-type:X963KDF -pkeyopt "kdf-digest:$md" -pkeyopt "kdf-outlen:$len")
        [ -n "$ukm" ] && opts+=(-pkeyopt "hexkdf-ukm:$ukm")
        # the device's secret through the KDF, and the default provider's from the peer side
        run ossl pkeyutl -derive -inkey "$key" -peerkey "$work/peer.pub.pem" "${opts[@]}" \
            -out "$work/k.dev"
        run openssl pkeyutl -derive -inkey "$work/peer.pem" -peerkey "$work/dev.pub.pem" \
            "${opts[@]}" -out "$work/k.sw"
        [ "$(stat -c %s "$work/k.sw")" = "$len" ] || fail "$curve $spec: default gave no $len bytes"
        cmp "$work/k.dev" "$work/k.sw" || fail "$curve $spec: derived keys differ"
    done
    # the calls CMS makes (cofactor mode 0, kdf type, md, outlen, set0 ukm), and the
    # parameters read back, are the default provider's
    run "$derive" "$key" "$work/peer.pub.pem" 64 SHA256 32 0123456789abcdef > "$work/c.dev"
    run "$derive" -d "$work/peer.pem" "$work/dev.pub.pem" 64 SHA256 32 0123456789abcdef > "$work/c.sw"
    cat "$work/c.dev"
    grep -q "kdf-type=2 kdf-md=SHA256 kdf-outlen=32 ukm=0123456789abcdef cofactor=0" \
        "$work/c.sw" || fail "$curve: default provider read back other parameters"
    cmp "$work/c.dev" "$work/c.sw" || fail "$curve: EVP_PKEY_CTX_set_ecdh_* derive differs"
    # cofactor mode 1 is accepted, as by the default provider (cofactor 1: the same secret)
    run ossl pkeyutl -derive -inkey "$key" -peerkey "$work/peer.pub.pem" \
        -pkeyopt ecdh_cofactor_mode:1 -out "$work/z.dev"
    run openssl pkeyutl -derive -inkey "$work/peer.pem" -peerkey "$work/dev.pub.pem" \
        -pkeyopt ecdh_cofactor_mode:1 -out "$work/z.sw"
    cmp "$work/z.dev" "$work/z.sw" || fail "$curve: cofactor-mode secrets differ"
done
# a KDF the default provider does not pair with ECDH is refused as well (the peer here
# is the last curve's: secp256k1)
run_fails ossl pkeyutl -derive -inkey "pico:object=kdf-secp256k1?pin-value=$PIN" \
    -peerkey "$work/peer.pub.pem" -pkeyopt kdf-type:HKDF
grep -q "only X963KDF" "$work/err" || fail "HKDF refused for another reason"
# the checks above can fail: another UKM gives another key
run openssl pkeyutl -derive -inkey "$work/peer.pem" -peerkey "$work/dev.pub.pem" \
    -pkeyopt kdf-type:X963KDF -pkeyopt kdf-digest:SHA256 -pkeyopt kdf-outlen:32 \
    -pkeyopt hexkdf-ukm:00 -out "$work/k.other"
if cmp -s "$work/k.dev" "$work/k.other"; then fail "the UKM changed nothing"; fi

# CMS: plain openssl encrypts to a certificate of the device key, pico decrypts
label=cms
pico_genkey EC group:P-256 "$label"
run ossl req -new -x509 -key "pico:object=$label?pin-value=$PIN" -subj /CN=cms -days 1 \
    -out "$work/cms.crt"
head -c 3000 /dev/urandom | base64 > "$work/plain"
for kdf in "" "-keyopt ecdh_kdf_md:sha256" "-keyopt ecdh_kdf_md:sha384"; do
    # shellcheck disable=SC2086
    run openssl cms -encrypt -binary -aes-256-cbc -in "$work/plain" -recip "$work/cms.crt" $kdf \
        -out "$work/msg.cms"
    run ossl cms -decrypt -binary -inkey "pico:object=$label?pin-value=$PIN" -recip "$work/cms.crt" \
        -in "$work/msg.cms" -out "$work/dec"
    cmp "$work/plain" "$work/dec" || fail "cms ($kdf): decrypted text differs"
done
# a message to another key does not decrypt with the device key
run openssl req -new -x509 -key "$work/peer.pem" -subj /CN=other -days 1 -out "$work/other.crt"
run openssl cms -encrypt -binary -aes-256-cbc -in "$work/plain" -recip "$work/other.crt" \
    -out "$work/other.cms"
run_fails ossl cms -decrypt -binary -inkey "pico:object=$label?pin-value=$PIN" -recip "$work/cms.crt" \
    -in "$work/other.cms" -out "$work/dec2"
echo PASS
