#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The sim's state survives a restart: a key made before it signs after it, the
# PIN counter stays where it was, and a factory reset really erases.
. "$(dirname "$0")/lib.sh"
need_devices

echo "restart me" >"$tmp/msg"
p11 --login --pin "$PICO_PIN" --keypairgen --key-type EC:prime256v1 --label kept --id 11 >/dev/null
pkcs15-tool --reader 0 --read-public-key 11 -o "$tmp/pub.pem" >/dev/null
p11 --login --pin 000000 --list-objects >/dev/null 2>&1 && fail "wrong PIN accepted"

sim_restart 1 TERM

expect_eq "$(apdu 0 00A404000BE82B0601040181C31F020100 00200081 | tail -1)" " 63C2" \
    "PIN tries after the restart"
p11 --login --pin "$PICO_PIN" --sign --mechanism ECDSA-SHA256 --id 11 -i "$tmp/msg" \
    -o "$tmp/sig" --signature-format openssl
openssl dgst -sha256 -verify "$tmp/pub.pem" -signature "$tmp/sig" "$tmp/msg" >/dev/null ||
    fail "the key kept across the restart does not verify"

# --factory-reset starts blank from the same state file.
kill "$PICO_SIM_PID1"; while kill -0 "$PICO_SIM_PID1" 2>/dev/null; do sleep 0.01; done
${PICO_SIM_CMD1/--init-pin*/} --factory-reset &
export PICO_SIM_PID1=$!
sim_wait_card 0
expect_eq "$(apdu 0 00A404000BE82B0601040181C31F020100 00200081 | tail -1)" " 6A88" \
    "PIN status after a factory reset"
