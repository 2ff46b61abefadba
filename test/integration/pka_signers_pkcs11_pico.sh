#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# PKA signers other than files, three of three required: a SoftHSM2 token
# (PKCS#11 through libp11), OpenSC's PKCS#11 module driving a second virtual
# Pico HSM, and a pico: key on that second device through the provider's own
# code. The factors come from openssl.cnf, as a daemon gets them; with
# pico-cache-pin the opened PKCS#11 signers are held to the end of the process,
# which still exits 0 with nothing leaked (valgrind, or ASan in test/asan-check).
. "$(dirname "$0")/provider-lib.sh"
with_devices --blank -n 2

softhsm=/usr/lib/softhsm/libsofthsm2.so
opensc=$(find /usr/lib -name opensc-pkcs11.so 2>/dev/null | head -1)
echo "$PIN" > "$work/pin"
enc() { printf '%s' "$1" | sed 's/ /%20/g; s/(/%28/g; s/)/%29/g'; }
r2=$(enc "$PICO_READER2")

# the second device: PIN only, two keys the signers will use
TOOL_READER=$PICO_READER2 run tool init --yes --pin "$PIN" --so-pin "$SOPIN"
for label in pka-pico pka-sc; do
    run ossl genpkey -propquery provider=pico -algorithm EC -pkeyopt group:P-256 \
        -pkeyopt "pico-label:$label" -pkeyopt "pico-uri:pico:reader=$r2?pin-value=$PIN" \
        -out "$work/$label.uri.pem"
done
# both virtual devices look alike to OpenSC (label, serial): its slot, the reader, tells them apart
pkcs11-tool --module "$opensc" -L 2>/dev/null | grep -q "$PICO_READER2" ||
    fail "OpenSC does not see the second device"

# a SoftHSM2 token of its own
export SOFTHSM2_CONF=$work/softhsm2.conf
mkdir -p "$work/tokens"
echo "directories.tokendir = $work/tokens" > "$SOFTHSM2_CONF"
run softhsm2-util --init-token --free --label pka --pin 1234 --so-pin 5678 >/dev/null
run pkcs11-tool --module "$softhsm" --token-label pka --login --pin 1234 --keypairgen \
    --key-type EC:prime256v1 --label pka-soft --id 01 >/dev/null

soft="pkcs11:token=pka;object=pka-soft?module-path=$softhsm&pin-value=1234"
sc="pkcs11:slot-description=$r2;object=pka-sc?module-path=$opensc&pin-source=file:$work/pin"
pico="pico:reader=$r2;object=pka-pico?pin-source=file:$work/pin"

# the first device: PIN + three PKA keys, all required; each registered by the tool
run tool init --yes --pin "$PIN" --so-pin "$SOPIN" --pka 3/3
for k in "$soft" "$sc" "$pico"; do
    run tool pka register --key "$k" --pin-source "file:$work/pin"
done
run tool pka status

pico_cnf "$work/openssl.cnf" "pico-reader = $PICO_READER1" "pico-pin-source = file:$work/pin" \
    "pico-pka-key = $soft $sc $pico"
export OPENSSL_CONF=$work/openssl.cnf
run openssl genpkey -propquery provider=pico -algorithm EC -pkeyopt group:P-384 \
    -pkeyopt pico-label:guarded -out "$work/guarded.pem"
run openssl pkey -pubin -in "pico:reader=$(enc "$PICO_READER1");object=guarded" -pubout \
    -out "$work/guarded.pub"
echo data > "$work/data"
run openssl dgst -sha384 -sign "pico:reader=$(enc "$PICO_READER1");object=guarded" \
    -out "$work/sig" "$work/data"
run openssl dgst -sha384 -verify "$work/guarded.pub" -signature "$work/sig" "$work/data"
# Held PKCS#11 signers (pico-cache-pin): released at exit before the modules' own
# destructors run (they crashed the exit with status 139 before)
pico_cnf "$work/openssl.cnf" "pico-reader = $PICO_READER1" "pico-pin-source = file:$work/pin" \
    "pico-pka-key = $soft $sc $pico" "pico-cache-pin = yes"
run openssl dgst -sha384 -sign "pico:reader=$(enc "$PICO_READER1");object=guarded" \
    -out "$work/sig" "$work/data"
run openssl dgst -sha384 -verify "$work/guarded.pub" -signature "$work/sig" "$work/data"
run memcheck -q --keep-debuginfo=yes --leak-check=full --errors-for-leak-kinds=definite \
    --suppressions="$top_srcdir/test/valgrind.supp" --error-exitcode=99 -- \
    openssl dgst -sha384 -sign "pico:reader=$(enc "$PICO_READER1");object=guarded" \
    -out "$work/sig" "$work/data"
pico_cnf "$work/openssl.cnf" "pico-reader = $PICO_READER1" "pico-pin-source = file:$work/pin" \
    "pico-pka-key = $soft $sc $pico"
# pka login through the tool with the same three signers: exit 0
run tool pka login --key "$soft" --key "$sc" --key "$pico" --pin-source "file:$work/pin"
# two of the three required keys: exit 3 (authentication), naming the count
set +e
tool pka login --key "$soft" --key "$pico" --pin-source "file:$work/pin" 2>"$work/err"
rc=$?
set -e
cat "$work/err" >&2
[ "$rc" = 3 ] || fail "pka login with 2 of 3 keys: exit $rc, not 3"
echo PASS
