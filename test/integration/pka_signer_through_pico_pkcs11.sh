#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The project's own PKCS#11 module as the PKA token: a second Pico HSM holds the PKA key and
# pico-pkcs11.so (loaded by libp11 inside the provider's process) signs the first device's
# challenge with it. Two copies of common/ in one process (the provider's and the module's),
# each on its own device behind the same pcscd: the first device's key signs (the signature
# verifies with plain openssl), pico-hsm-tool's pka login passes, and with pico-cache-pin the
# held module signer is released at exit (exit 0).
. "$(dirname "$0")/provider-lib.sh"
with_devices --blank -n 2

module=$top_builddir/pkcs11/.libs/pico-pkcs11.so
echo "$PIN" > "$work/pin"
enc() { printf '%s' "$1" | sed 's/ /%20/g; s/(/%28/g; s/)/%29/g'; }
r1=$(enc "$PICO_READER1") r2=$(enc "$PICO_READER2")

# the second device: PIN only, the PKA key
TOOL_READER=$PICO_READER2 run tool init --yes --pin "$PIN" --so-pin "$SOPIN"
run ossl genpkey -propquery provider=pico -algorithm EC -pkeyopt group:P-256 \
    -pkeyopt pico-label:pka-p11 -pkeyopt "pico-uri:pico:reader=$r2?pin-value=$PIN" \
    -out "$work/pka-p11.uri.pem"
run pkcs11-tool --module "$module" -L > "$work/slots"
grep -q "$PICO_READER2" "$work/slots" || fail "pico-pkcs11 does not show the second device"
p11="pkcs11:slot-description=$r2;object=pka-p11?module-path=$module&pin-source=file:$work/pin"

# the first device: PIN + that key (1 of 1)
run tool init --yes --pin "$PIN" --so-pin "$SOPIN" --pka 1/1
run tool pka register --key "$p11" --pin-source "file:$work/pin"
run tool pka status

pico_cnf "$work/openssl.cnf" "pico-reader = $PICO_READER1" "pico-pin-source = file:$work/pin" \
    "pico-pka-key = $p11"
export OPENSSL_CONF=$work/openssl.cnf
run openssl genpkey -propquery provider=pico -algorithm EC -pkeyopt group:P-384 \
    -pkeyopt pico-label:guarded -out "$work/guarded.pem"
run openssl pkey -pubin -in "pico:reader=$r1;object=guarded" -pubout -out "$work/guarded.pub"
echo data > "$work/data"
signs2=$(PICO_SIM_LOG1=$PICO_SIM_LOG2 apdus 68)
run openssl dgst -sha384 -sign "pico:reader=$r1;object=guarded" -out "$work/sig" "$work/data"
run openssl dgst -sha384 -verify "$work/guarded.pub" -signature "$work/sig" "$work/data"
[ "$(PICO_SIM_LOG1=$PICO_SIM_LOG2 apdus 68)" -gt "$signs2" ] ||
    fail "the PKA challenge was not signed on the second device"
# held signers (pico-cache-pin): the module's copy is released at exit, exit 0
pico_cnf "$work/openssl.cnf" "pico-reader = $PICO_READER1" "pico-pin-source = file:$work/pin" \
    "pico-pka-key = $p11" "pico-cache-pin = yes"
run openssl dgst -sha384 -sign "pico:reader=$r1;object=guarded" -out "$work/sig" "$work/data"
run openssl dgst -sha384 -verify "$work/guarded.pub" -signature "$work/sig" "$work/data"
run tool pka login --key "$p11" --pin-source "file:$work/pin"
for i in 0 1; do
    [ "$(pin_tries $i)" = 3 ] || [ "$(pin_tries $i)" = verified ] ||
        fail "PIN tries on device $((i + 1)): $(pin_tries $i)"
done
