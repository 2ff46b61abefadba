#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Through OpenSC as an independent client: a wrong PIN is refused and the retry
# counter drops by one per try; the PIN blocks after the configured tries (3);
# the SO PIN unblocks it with a new PIN, which then signs.
. "$(dirname "$0")/lib.sh"
need_devices

tries() { sc-hsm-tool -r 0 | sed -n 's/^User PIN tries left *: *//p'; }
expect_eq "$(tries)" 3 "tries of a fresh device"

for left in 2 1; do
    out=$(p11 --login --pin 111111 --list-objects 2>&1) && fail "a wrong PIN was accepted"
    expect_match "$out" "CKR_PIN_INCORRECT" "wrong PIN"
    expect_eq "$(tries)" "$left" "tries after a wrong PIN"
done
out=$(p11 --login --pin 111111 --list-objects 2>&1) && fail "a wrong PIN was accepted"
expect_eq "$(apdu 0 00A404000BE82B0601040181C31F020100 00200081 | tail -1)" " 6983" \
    "PIN status after the last try"
out=$(p11 --login --pin "$PICO_PIN" --list-objects 2>&1) && fail "a blocked PIN logged in"
expect_match "$out" "CKR_PIN_LOCKED" "right PIN on a blocked device"

p11 --login --login-type so --so-pin "$PICO_SO_PIN" --init-pin --new-pin 20242025 >/dev/null
expect_eq "$(tries)" 3 "tries after the SO-PIN reset"
p11 --login --pin "$PICO_PIN" --list-objects >/dev/null 2>&1 && fail "the old PIN works after the reset"
expect_eq "$(tries)" 2 "tries after the old PIN"

echo data >"$tmp/msg"
p11 --login --pin 20242025 --keypairgen --key-type EC:prime256v1 --id 07 >/dev/null
pkcs15-tool --reader 0 --read-public-key 07 -o "$tmp/pub.pem" >/dev/null
p11 --login --pin 20242025 --sign --mechanism ECDSA-SHA256 --id 07 -i "$tmp/msg" \
    -o "$tmp/sig" --signature-format openssl
openssl dgst -sha256 -verify "$tmp/pub.pem" -signature "$tmp/sig" "$tmp/msg" >/dev/null ||
    fail "signature with the new PIN does not verify"
expect_eq "$(tries)" 3 "tries after a good PIN"
