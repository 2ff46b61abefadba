#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Data encrypted by plain openssl to a device RSA key comes back through the
# provider: OAEP with SHA-1/256/384/512 and a label, and PKCS#1 v1.5.
. "$(dirname "$0")/provider-lib.sh"
with_devices

pico_genkey RSA rsa_keygen_bits:2048 dec
run ossl pkey -pubin -in "pico:object=dec" -pubout -out "$work/dec.pub.pem"
printf 'secret session key 0123456789' > "$work/plain"
key="pico:object=dec?pin-value=$PIN"
for md in sha1 sha256 sha384 sha512; do
    run openssl pkeyutl -encrypt -pubin -inkey "$work/dec.pub.pem" -pkeyopt rsa_padding_mode:oaep \
        -pkeyopt "rsa_oaep_md:$md" -in "$work/plain" -out "$work/ct"
    run ossl pkeyutl -decrypt -inkey "$key" -pkeyopt rsa_padding_mode:oaep \
        -pkeyopt "rsa_oaep_md:$md" -in "$work/ct" -out "$work/out"
    cmp "$work/plain" "$work/out" || fail "OAEP $md: decrypted data differs"
done
# OAEP with a label
run openssl pkeyutl -encrypt -pubin -inkey "$work/dec.pub.pem" -pkeyopt rsa_padding_mode:oaep \
    -pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_oaep_label:0011aabb -in "$work/plain" -out "$work/ct"
run ossl pkeyutl -decrypt -inkey "$key" -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 \
    -pkeyopt rsa_oaep_label:0011aabb -in "$work/ct" -out "$work/out"
cmp "$work/plain" "$work/out" || fail "OAEP with label: decrypted data differs"
# the wrong label is refused
run_fails ossl pkeyutl -decrypt -inkey "$key" -pkeyopt rsa_padding_mode:oaep \
    -pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_oaep_label:0011aabc -in "$work/ct" -out "$work/out"
# PKCS#1 v1.5
run openssl pkeyutl -encrypt -pubin -inkey "$work/dec.pub.pem" -in "$work/plain" -out "$work/ct"
run ossl pkeyutl -decrypt -inkey "$key" -in "$work/ct" -out "$work/out"
cmp "$work/plain" "$work/out" || fail "PKCS#1 v1.5: decrypted data differs"
# raw RSA: the whole block comes back, padding left in place
run ossl pkeyutl -decrypt -inkey "$key" -pkeyopt rsa_padding_mode:none -in "$work/ct" -out "$work/raw"
[ "$(stat -c %s "$work/raw")" = 256 ] || fail "raw decryption is not modulus-sized"
[ "$(head -c 2 "$work/raw" | xxd -p)" = 0002 ] || fail "raw block does not start 00 02"
tail -c "$(stat -c %s "$work/plain")" "$work/raw" | cmp - "$work/plain" || fail "raw block lacks the data"
# a block that is not PKCS#1 (random bytes below the modulus) is refused, nothing returned
head -c 1 /dev/zero > "$work/bad"
head -c 255 /dev/urandom >> "$work/bad"
run_fails ossl pkeyutl -decrypt -inkey "$key" -in "$work/bad" -out "$work/out2"
[ ! -s "$work/out2" ] || fail "a bad block produced output"

# A ciphertext not below the modulus is refused on the host, as the default provider
# refuses it (the device would answer 6400); nothing is sent, the login is kept
head -c 256 /dev/zero | tr '\0' '\377' > "$work/big"
decipher=$(apdus 62)
run_fails ossl pkeyutl -decrypt -inkey "$key" -pkeyopt rsa_padding_mode:none -in "$work/big" \
    -out "$work/out3"
grep -q 'not smaller than the modulus' "$work/err" || fail "ciphertext >= n: not explained"
! grep -qi 'locked\|pin' "$work/err" || fail "ciphertext >= n reported as a login problem"
[ "$(apdus 62)" = "$decipher" ] || fail "ciphertext >= n was sent to the device"
run openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$work/soft.key"
run_fails openssl pkeyutl -decrypt -inkey "$work/soft.key" -pkeyopt rsa_padding_mode:none \
    -in "$work/big" -out "$work/out3"
# 6400 from the device while this process's PIN login holds: the device refused the
# input, not "locked" (which is 6400 without a PIN session: PKA alone)
sim_restart_with 1 --fail 62:6400
run_fails ossl pkeyutl -decrypt -inkey "$key" -in "$work/ct" -out "$work/out3"
grep -q 'refused the input (6400)' "$work/err" || fail "6400 after a PIN login: not explained"
! grep -qi 'locked' "$work/err" || fail "6400 after a PIN login reported as locked keys"
echo PASS
