#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Key policy at generation (6.2 tags 90/91/92): a key with --use-counter 2 signs twice
# through the provider (the signatures verify with plain openssl) and the third signature
# fails saying the use counter is exhausted; a key allowed only "ecdsa" (SIGN 70, what
# the provider sends) refuses ECDH with a message naming its allowed algorithms; `key info`
# shows the uses left going down, the algorithms by name and the domain.
. "$(dirname "$0")/provider-lib.sh"
with_devices

info_field() { # info_field LABEL FIELD: the JSON field of key info, compact
    tool key info --label "$1" --json | python3 -c \
        "import json,sys; print(json.dumps(json.load(sys.stdin)['$2'], separators=(',',':')))"
}

# refused before the device is asked: a name the key type does not offer, a bad counter
run_fails tool key generate --type ec:prime256v1 --label bad --allow rsa-pss --pin "$PIN"
grep -q "rsa-pss is not one of this key type" "$work/err" || fail "no message for rsa-pss on EC"
run_fails tool key generate --type ec:prime256v1 --label bad --use-counter 0 --pin "$PIN"
run tool key generate --type ec:prime256v1 --label counted --use-counter 2 --allow ecdsa \
    --domain 0 --pin "$PIN"
[ "$(info_field counted use_counter)" = 2 ] || fail "counter at generation: $(info_field counted use_counter)"
[ "$(info_field counted allowed)" = '["ecdsa"]' ] || fail "allowed: $(info_field counted allowed)"
[ "$(info_field counted domain)" = 0 ] || fail "domain: $(info_field counted domain)"
tool key info --label counted | grep -Eq "uses left: +2" || fail "key info text"

# a key without a policy: none shown
run tool key generate --type ec:prime256v1 --label free --pin "$PIN"
[ "$(info_field free use_counter)" = null ] && [ "$(info_field free allowed)" = null ] &&
    [ "$(info_field free domain)" = null ] || fail "policy shown for a key without one"

run ossl pkey -pubin -in "pico:object=counted" -pubout -out "$work/pub.pem"
printf 'use counter test' | openssl dgst -sha256 -binary >"$work/dgst"
for n in 1 2; do
    run ossl pkeyutl -sign -inkey "pico:object=counted?pin-value=$PIN" -in "$work/dgst" \
        -out "$work/sig$n"
    run openssl pkeyutl -verify -pubin -inkey "$work/pub.pem" -in "$work/dgst" -sigfile "$work/sig$n"
    [ "$(info_field counted use_counter)" = $((2 - n)) ] || fail "counter after $n signatures"
done
run_fails ossl pkeyutl -sign -inkey "pico:object=counted?pin-value=$PIN" -in "$work/dgst" \
    -out "$work/sig3"
grep -q "use counter is exhausted" "$work/err" || fail "no use-counter message"

# ECDH on the key allowed only "ecdsa": refused by the device, said so
run tool key generate --type ec:prime256v1 --label signonly --allow ecdsa --pin "$PIN"
run ossl pkey -pubin -in "pico:object=signonly" -pubout -out "$work/so.pub.pem"
run openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$work/peer.pem"
run openssl pkey -in "$work/peer.pem" -pubout -out "$work/peer.pub.pem"
run_fails ossl pkeyutl -derive -inkey "pico:object=signonly?pin-value=$PIN" \
    -peerkey "$work/peer.pub.pem" -out "$work/z"
grep -q "allowed algorithms do not include" "$work/err" || fail "no allowed-algorithm message"
# and it still signs
run ossl pkeyutl -sign -inkey "pico:object=signonly?pin-value=$PIN" -in "$work/dgst" \
    -out "$work/sig4"
run openssl pkeyutl -verify -pubin -inkey "$work/so.pub.pem" -in "$work/dgst" -sigfile "$work/sig4"
echo PASS
