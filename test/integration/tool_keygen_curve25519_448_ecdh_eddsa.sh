#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# X25519, X448, Ed25519 and Ed448 keys through pico-hsm-tool and common/: generated on the
# device (device 1 modelling a firmware built with EdDSA, device 2 the default build), listed
# with their types and sizes, their public keys exported; an ECDH secret made by the device
# (DECIPHER 80) equals the default provider's from the other side; an EdDSA signature (SIGN 70)
# verifies with plain openssl. The default build refuses Ed25519/Ed448 and keeps no key; the
# EdDSA probe spends no PIN try and leaves no key behind.
. "$(dirname "$0")/provider-lib.sh"
with_devices -n 2 --eddsa=1

echo "$PIN" > "$work/pin"
export PICO_PIN=$PIN
K=$top_builddir/test/tools/pico-keyop
R1=$PICO_READER1 R2=$PICO_READER2
gen() { tool key generate --type "$1" --label "$2" --pin-source "file:$work/pin"; }

# 1. the EdDSA probe on a device with no key: unknown before a login, yes after, and the
# probe's key is gone again
out=$(run "$K" "$R1" - supports ed25519)
grep -Eq '^before=0 after=1 ' <<<"$out" || fail "probe on the EdDSA build: $out"
tool key list | grep -q '^No keys' || fail "the probe left a key on device 1"
out=$(run "$K" "$R2" - supports ed448)
grep -Eq '^before=0 after=0 ' <<<"$out" || fail "probe on the default build: $out"
TOOL_READER=$R2 tool key list | grep -q '^No keys' || fail "the probe left a key on device 2"

# 2. every type on the EdDSA build, in the tool's spelling (any case)
for t in x25519 X448 ed25519 Ed448; do
    run gen "$t" "k-${t,,}" 2>"$work/gen.err"
    grep -qi "Generating an $t key on the device done" "$work/gen.err" || fail "$t: no progress"
done
tool key list | tee "$work/list"
grep -Eq '^1 +X25519 +253 +- +no +k-x25519 ' "$work/list" || fail "X25519 not listed"
grep -Eq '^2 +X448 +448 +- +no +k-x448 ' "$work/list" || fail "X448 not listed"
grep -Eq '^3 +ED25519 +256 +- +no +k-ed25519 ' "$work/list" || fail "Ed25519 not listed"
grep -Eq '^4 +ED448 +456 +- +no +k-ed448 ' "$work/list" || fail "Ed448 not listed"
tool key list --json | python3 -c '
import json, sys
keys = json.load(sys.stdin)["keys"]
assert [(k["type"], k["bits"], k["curve"]) for k in keys] == [("X25519", 253, None),
    ("X448", 448, None), ("ED25519", 256, None), ("ED448", 456, None)], keys' ||
    fail "key list --json"
# a fresh process reads the types back from the PrKDs the tool wrote
run_fails gen x25519 k-x25519
grep -q "already has the label" "$work/err" || fail "label check"

# 3. public keys: PEM of the right OpenSSL type; OpenSSH lines for the Ed keys
for t in x25519 x448 ed25519 ed448; do
    run tool key export-public --label "k-$t" -o "$work/$t.pub"
    openssl pkey -pubin -in "$work/$t.pub" -noout -text | grep -qi "^$t Public-Key" ||
        fail "$t: exported public key is not $t"
done
tool key export-public --label k-ed25519 --format ssh | grep -q '^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5' ||
    fail "no ssh-ed25519 line"
if command -v ssh-keygen >/dev/null; then
    tool key export-public --label k-ed25519 --format ssh > "$work/ed.ssh"
    ssh-keygen -l -f "$work/ed.ssh" | grep -q 'ED25519' || fail "ssh-keygen does not read it"
fi
run_fails tool key export-public --label k-x25519 --format ssh
grep -q "OpenSSH has no key type for X25519" "$work/err" || fail "ssh refusal for X25519"

# 4. ECDH: the device's secret (common/, DECIPHER 80) equals the default provider's
for t in x25519 x448; do
    openssl genpkey -algorithm "$t" -out "$work/peer-$t.pem"
    openssl pkey -in "$work/peer-$t.pem" -pubout -out "$work/peer-$t.pub"
    run "$K" "$R1" "k-$t" derive "$work/peer-$t.pub" "$work/dev-$t.secret"
    openssl pkeyutl -derive -inkey "$work/peer-$t.pem" -peerkey "$work/$t.pub" \
        -out "$work/ref-$t.secret"
    cmp "$work/dev-$t.secret" "$work/ref-$t.secret" || fail "$t: secrets differ"
    [ "$(stat -c %s "$work/dev-$t.secret")" = "$([ $t = x25519 ] && echo 32 || echo 56)" ] ||
        fail "$t: secret length"
done
# a peer key of the other curve is refused by common/, not sent
run_fails "$K" "$R1" k-x25519 derive "$work/peer-x448.pub" "$work/bad.secret"
grep -q "peer key of 56 bytes" "$work/err" || fail "X25519 with an X448 peer"

# 5. EdDSA: PureEdDSA over the whole message; plain openssl verifies it
printf 'the message, whole: PureEdDSA hashes nothing first\n' > "$work/msg"
for t in ed25519 ed448; do
    run "$K" "$R1" "k-$t" sign "$work/msg" "$work/$t.sig"
    [ "$(stat -c %s "$work/$t.sig")" = "$([ $t = ed25519 ] && echo 64 || echo 114)" ] ||
        fail "$t: signature length"
    run openssl pkeyutl -verify -pubin -inkey "$work/$t.pub" -rawin -in "$work/msg" \
        -sigfile "$work/$t.sig"
    printf 'x' >> "$work/msg.bad"
    cat "$work/msg" >> "$work/msg.bad"
    run_fails openssl pkeyutl -verify -pubin -inkey "$work/$t.pub" -rawin -in "$work/msg.bad" \
        -sigfile "$work/$t.sig"
done
# longer than one command APDU: refused before any SIGN
head -c 3000 /dev/zero > "$work/big"
signs=$(apdus 68)
run_fails "$K" "$R1" k-ed25519 sign "$work/big" "$work/big.sig"
grep -q "signs at most 2029 bytes" "$work/err" || fail "long message not refused clearly"
[ "$(apdus 68)" = "$signs" ] || fail "a SIGN was sent for a message over the limit"
# the probe answers yes without a login once an Ed key is on the device
out=$(run "$K" "$R1" - supports ed448)
grep -Eq '^before=1 after=1 ' <<<"$out" || fail "probe with an Ed key on the device: $out"

# 6. the default build: X25519 yes; Ed25519/Ed448 refused with the reason, nothing left behind
TOOL_READER=$R2 run gen x25519 k2-x
for t in ed25519 ed448; do
    TOOL_READER=$R2 run_fails gen "$t" "k2-$t"
    grep -q "built without EdDSA" "$work/err" || fail "$t on the default build: no reason given"
done
TOOL_READER=$R2 tool key list | tee "$work/list2"
[ "$(grep -c '^[0-9]' "$work/list2")" = 1 ] || fail "the refused keys left something on device 2"
grep -Eq '^1 +X25519 ' "$work/list2" || fail "X25519 on the default build"
# the firmware's answer to an Ed448 request was 9000 with an X448 key (83 = 05 00..), which
# common/ deleted at once with its files (key 2: key 1 is the X25519 one)
grep -A1 '^> 0046020000008' "$PICO_SIM_LOG2" | tail -1 | grep -q '8338050000.*9000$' ||
    fail "device 2 did not answer the Ed448 request with an X448 key"
for f in CC02 C402 CE02; do
    [ "$(grep -c "^> 00E4020002$f\$" "$PICO_SIM_LOG2")" -ge 2 ] || fail "$f not deleted after each refusal"
done

# keys another tool made (raw GENERATE: the firmware's own PrKD, a plain EC description with an
# ASCII ID) are listed with the type their public key has
oid=060A04007F0007020202020381
p25519=7F$(printf 'FF%.0s' $(seq 30))ED p448=$(printf 'FF%.0s' $(seq 27))FE$(printf 'FF%.0s' $(seq 28))
"$top_builddir/test/tools/pcsc-apdu" 1 00A404000BE82B0601040181C31F020100 \
    "0020008106$(printf %s "$PIN" | xxd -p)" \
    "00460800000057 5F2901007F4950 ${oid}20$p25519 832009$(printf '00%.0s' $(seq 31)) 0000" \
    "00460900000088 5F2901007F498180 ${oid}38$p448 833805$(printf '00%.0s' $(seq 55)) 0000" |
    tail -2 | cut -c1-8 | tee "$work/raw"
[ "$(grep -c '^678201' "$work/raw")" = 2 ] || fail "raw GENERATE on device 2"
TOOL_READER=$R2 tool key list | tee "$work/list3"
grep -Eq '^8 +X25519 +253 +- +no +\(none\) +38$' "$work/list3" || fail "a foreign X25519 key"
grep -Eq '^9 +X448 +448 +- +no +\(none\) +39$' "$work/list3" || fail "a foreign X448 key"

# 7. no PIN try was spent anywhere
[ "$(pin_tries 0)" = 3 ] || [ "$(pin_tries 0)" = verified ] || fail "device 1: PIN tries $(pin_tries 0)"
[ "$(pin_tries 1)" = 3 ] || [ "$(pin_tries 1)" = verified ] || fail "device 2: PIN tries $(pin_tries 1)"
echo "PASS"
