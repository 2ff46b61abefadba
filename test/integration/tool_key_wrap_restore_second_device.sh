#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Restore after a lost device: keys generated on device A are wrapped (key wrap, sc-hsm-tool's
# file format), device B initialized with the same DKEK share unwraps them: the same public
# keys, the same labels and IDs, and signatures made on B through the provider verify with
# A's public key and certificate (plain openssl). Both UNWRAP styles (data field, EF 2F10).
# Refused, leaving no orphan key on the device: a file from another DKEK, a damaged file, a
# label another key has, a failure after the UNWRAP (the key is deleted again); a device with
# no DKEK cannot wrap (6A88).
. "$(dirname "$0")/provider-lib.sh"
with_devices -n 3

SEL=00A404000BE82B0601040181C31F020100
VERIFY=0020008106363438323139 # PIN 648219
SHARE=000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F
OTHER=FF0102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F
echo "$PIN" > "$work/pin"
pin=(--pin-source "file:$work/pin")
enc() { echo "${1// /%20}"; }
readers=("$PICO_READER1" "$PICO_READER2" "$PICO_READER3")
on() { TOOL_READER=${readers[$1]} tool "${@:2}"; }

# A and B get the same DKEK share, C another one (VERIFY first: the share is sealed at once)
for i in 0 1 2; do
    run on $i init --yes --pin "$PIN" --so-pin "$SOPIN" --dkek-shares 1 >/dev/null
    share=$SHARE
    [ $i = 2 ] && share=$OTHER
    "$top_builddir/test/tools/pcsc-apdu" $i $SEL $VERIFY "8052000020$share" > "$work/imp$i"
    tail -1 "$work/imp$i" | grep -q '^ 610A$\| 9000$' || fail "share import on $i: $(cat "$work/imp$i")"
done

# keys on A: EC with a certificate, RSA
run on 0 key generate --type ec:prime256v1 --label web "${pin[@]}" >/dev/null
run on 0 key generate --type rsa:2048 --label mail --id 0a0b "${pin[@]}" >/dev/null
run ossl req -new -x509 -key "pico:reader=$(enc "$PICO_READER1");object=web?pin-source=file:$work/pin" \
    -subj /CN=web -days 30 -out "$work/web.crt"
run on 0 cert import --label web "$work/web.crt" "${pin[@]}"
for k in web mail; do
    run on 0 key export-public --label $k -o "$work/$k.A.pem"
    run on 0 key wrap --label $k --out "$work/$k.wrap" "${pin[@]}"
    # sc-hsm-tool's layout: 30 { 04 blob (KCV of the DKEK first), PrKD, certificate }
    head -c 12 "$work/$k.wrap" | od -An -tx1 | tr -d ' \n' | grep -Eq '^308[12]....0482....630dcd29|^308[12]....0481..630dcd29' ||
        fail "$k.wrap: not 30 { 04 blob(KCV 630DCD29...) ... }: $(od -An -tx1 "$work/$k.wrap" | head -2)"
done
run_fails on 0 key wrap --label web --out "$work/web.wrap" "${pin[@]}"
grep -q 'exists' "$work/err" || fail "wrap over an existing file: $(cat "$work/err")"

# B: unwrap both, one per style; the list shows them at once (JSON)
run on 1 key unwrap --in "$work/web.wrap" "${pin[@]}" --json > "$work/u1.json"
grep -q '"keyref":1,"type":"EC","label":"web","id":"' "$work/u1.json" || fail "unwrap JSON: $(cat "$work/u1.json")"
# a damaged blob (one byte changed): the device's MAC check refuses it, nothing is left
keysB() { "$top_builddir/test/tools/pcsc-apdu" 1 $SEL 8058000000 | tail -1; }
before=$(keysB)
cp "$work/mail.wrap" "$work/bad.wrap"
# (inverted, not overwritten: a fixed value would be the byte already there once in 256 runs)
byte=$(od -An -tu1 -j100 -N1 "$work/bad.wrap" | tr -d ' ')
printf '%b' "\\0$(printf '%03o' $((byte ^ 0xFF)))" | dd of="$work/bad.wrap" bs=1 seek=100 conv=notrunc 2>/dev/null
cmp -s "$work/mail.wrap" "$work/bad.wrap" && fail "the damaged copy is the same"
run_fails on 1 key unwrap --in "$work/bad.wrap" "${pin[@]}"
grep -q 'damaged' "$work/err" || fail "damaged blob: $(cat "$work/err")"
[ "$(keysB)" = "$before" ] || fail "B's files changed after a refused unwrap: $before / $(keysB)"
run on 1 key unwrap --in "$work/mail.wrap" --via-ef "${pin[@]}" > "$work/u2.txt"
grep -q "^Unwrapped key 2 ('mail', id 0a0b)" "$work/u2.txt" || fail "unwrap: $(cat "$work/u2.txt")"
on 1 key list > "$work/listB"
grep -Eq '^1 +EC +256 +prime256v1 +yes +web ' "$work/listB" || fail "B: web: $(cat "$work/listB")"
grep -Eq '^2 +RSA +2048 +- +no +mail +0a0b$' "$work/listB" || fail "B: mail: $(cat "$work/listB")"
grep -q '^> 8074..93$' "$PICO_SIM_LOG2" || fail "no UNWRAP via EF 2F10 in B's log"
grep -q '^> 8074..93..' "$PICO_SIM_LOG2" || fail "no UNWRAP with data in B's log"

# the same public keys; signatures from B verify with A's key and certificate
echo "restore me" > "$work/msg"
for k in web mail; do
    run on 1 key export-public --label $k -o "$work/$k.B.pem"
    cmp -s "$work/$k.A.pem" "$work/$k.B.pem" || fail "$k: B holds another public key"
    run ossl dgst -sha256 -sign "pico:reader=$(enc "$PICO_READER2");object=$k?pin-source=file:$work/pin" \
        -out "$work/$k.sig" "$work/msg"
    run openssl dgst -sha256 -verify "$work/$k.A.pem" -signature "$work/$k.sig" "$work/msg"
done
openssl x509 -in "$work/web.crt" -pubkey -noout > "$work/web.crt.pub"
run openssl dgst -sha256 -verify "$work/web.crt.pub" -signature "$work/web.sig" "$work/msg"
ossl storeutl -certs "pico:reader=$(enc "$PICO_READER2");object=web;type=cert" > "$work/certB"
openssl x509 -in "$work/certB" -noout -subject | grep -q 'CN *= *web' || fail "B: no certificate"

# refusals, none of which leaves a key behind
before=$(keysB)
run_fails on 1 key unwrap --in "$work/web.wrap" "${pin[@]}" # label in use
grep -q "already has the label 'web'" "$work/err" || fail "label in use: $(cat "$work/err")"
run_fails on 2 key unwrap --in "$work/web.wrap" --label web2 "${pin[@]}" # C: another DKEK
grep -q 'no dkek on the device matches' "$work/err" || fail "another dkek: $(cat "$work/err")"
[ "$(on 2 key list)" = "No keys." ] || fail "C: a key left after the failed unwrap"
[ "$(keysB)" = "$before" ] || fail "B's files changed after refused unwraps: $before / $(keysB)"
# --label: a second copy under another label (IDs must differ too: the file's ID is in use)
run_fails on 1 key unwrap --in "$work/mail.wrap" --label mail2 "${pin[@]}"
grep -q 'already has that id' "$work/err" || fail "id in use: $(cat "$work/err")"

# a failure after the UNWRAP (the description cannot be written): the key goes again
run on 1 key delete --label mail --yes "${pin[@]}"
before=$(keysB)
sim_restart_with 2 --fail D7:6581
run_fails on 1 key unwrap --in "$work/mail.wrap" "${pin[@]}"
[ "$(keysB)" = "$before" ] || fail "an orphan key after a failed unwrap: $before / $(keysB)"
run on 1 key unwrap --in "$work/mail.wrap" "${pin[@]}"
on 1 key list | grep -Eq '^2 +RSA +2048 +- +no +mail +0a0b$' || fail "mail not back on B"

# --help of each command
for c in wrap unwrap import; do
    tool key $c --help | grep -q "^Usage: pico-hsm-tool key $c" || fail "key $c --help"
done

# a device without a DKEK cannot wrap: the tool says why
run on 2 init --yes --pin "$PIN" --so-pin "$SOPIN" >/dev/null
run on 2 key generate --type ec:prime256v1 --label lone "${pin[@]}" >/dev/null
run_fails on 2 key wrap --label lone --out "$work/lone.wrap" "${pin[@]}"
grep -q 'no complete dkek' "$work/err" || fail "wrap without dkek: $(cat "$work/err")"
[ ! -e "$work/lone.wrap" ] || fail "a file was written for a failed wrap"
echo "restore to a second device: ok"
