#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Two library contexts of one process, each configured by its own openssl.cnf
# (two libraries of a daemon): each pico instance uses its own section. A's
# names device 1 and its PIN, B's device 2 and another PIN; a URI naming
# neither reader nor PIN must give A device 1's key and B device 2's, both
# signing, whichever configuration was loaded last.
. "$(dirname "$0")/provider-lib.sh"
with_devices -n 2

reader2=${PICO_READER2// /%20}
pin2=246813
TOOL_READER=$PICO_READER2 run tool pin change --pin "$PIN" --new-pin "$pin2"
run ossl genpkey -propquery provider=pico -algorithm EC -pkeyopt group:P-256 \
    -pkeyopt pico-label:same -pkeyopt "pico-uri:pico:?pin-value=$PIN" -out "$work/a.uri.pem"
run ossl genpkey -propquery provider=pico -algorithm EC -pkeyopt group:P-256 \
    -pkeyopt pico-label:same -pkeyopt "pico-uri:pico:reader=$reader2?pin-value=$pin2" \
    -out "$work/b.uri.pem"
run ossl pkey -passin "pass:$PIN" -in "$work/a.uri.pem" -pubout -out "$work/a.pub"
run ossl pkey -passin "pass:$pin2" -in "$work/b.uri.pem" -pubout -out "$work/b.pub"
cmp -s "$work/a.pub" "$work/b.pub" && fail "the two devices made the same key"

printf '%s\n' "$PIN" > "$work/pin-a"
printf '%s\n' "$pin2" > "$work/pin-b"
pico_cnf "$work/a.cnf" "pico-reader = $PICO_READER1" "pico-pin-source = file:$work/pin-a"
pico_cnf "$work/b.cnf" "pico-reader = $PICO_READER2" "pico-pin-source = file:$work/pin-b"
before1=$(pin_tries 0) before2=$(pin_tries 1)
out=$("$top_builddir/test/tools/two-libctx-config" "$work/a.cnf" "$work/a.pub" \
    "$work/b.cnf" "$work/b.pub" "pico:object=same") || fail "two-libctx-config: $out"
[ "$out" = "a ok
b ok
a again ok" ] || fail "unexpected output: $out"
# no wrong PIN was sent to either device on the way
[ "$(pin_tries 0)" = "$before1" ] || fail "a PIN try was spent on device 1"
[ "$(pin_tries 1)" = "$before2" ] || fail "a PIN try was spent on device 2"
echo PASS
