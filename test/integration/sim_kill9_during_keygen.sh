#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# kill -9 of the sim at any moment of key generation (before, during the
# GAKP, while the state is written) leaves a state it starts from, in which
# every key listed is whole: it signs and the signature verifies.
. "$(dirname "$0")/lib.sh"
need_devices

echo "survivor" >"$tmp/msg"
log=$PICO_SIM_LOG1
for round in 1 2 3 4 5 6; do
    before=$(grep -c '^> 0046' "$log" || true)
    p11 --login --pin "$PICO_PIN" --keypairgen --key-type rsa:2048 --id "2$round" \
        >/dev/null 2>&1 &
    gen=$!
    # Wait for the GAKP to reach the sim, then kill it after a varying delay
    # (0 to 2.5 ms per round: during generation, or while the state is written).
    for _ in $(seq 1 1000); do
        [ "$(grep -c '^> 0046' "$log" || true)" -gt "$before" ] && break
        sleep 0.005
    done
    sleep "0.000$((round * 4))"
    sim_restart 1 KILL
    wait "$gen" || true
done

# Every key the device lists is usable.
ids=$(p11 --list-objects --type pubkey | sed -n 's/^ *ID: *//p')
[ -n "$ids" ] || echo "note: no key survived the kills (all were killed before their write)"
for id in $ids; do
    pkcs15-tool --reader 0 --read-public-key "$id" -o "$tmp/pub$id.pem" >/dev/null
    p11 --login --pin "$PICO_PIN" --sign --mechanism SHA256-RSA-PKCS --id "$id" \
        -i "$tmp/msg" -o "$tmp/sig$id" >/dev/null
    openssl dgst -sha256 -verify "$tmp/pub$id.pem" -signature "$tmp/sig$id" "$tmp/msg" \
        >/dev/null || fail "key $id listed after a kill does not verify"
done
# And the device still generates and signs.
p11 --login --pin "$PICO_PIN" --keypairgen --key-type EC:prime256v1 --id 30 >/dev/null
pkcs15-tool --reader 0 --read-public-key 30 -o "$tmp/pub30.pem" >/dev/null
p11 --login --pin "$PICO_PIN" --sign --mechanism ECDSA-SHA256 --id 30 -i "$tmp/msg" \
    -o "$tmp/sig30" --signature-format openssl
openssl dgst -sha256 -verify "$tmp/pub30.pem" -signature "$tmp/sig30" "$tmp/msg" >/dev/null ||
    fail "a key made after the kills does not verify"
echo "keys that survived the kills: ${ids:-none}"
