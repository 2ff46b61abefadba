#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The device object stays true through the device-level changes: in one process
# (test/tools/device-cache, over common/ as pico-hsm-tool), a key deleted leaves
# the list and the others stay, without the list being read again; a certificate
# stored with a key and one stored without are known at once; read again from
# scratch the device holds the same. Other programs then see what it wrote: the
# tool, the provider, and OpenSC (which reads the certificate description).
. "$(dirname "$0")/provider-lib.sh"
with_devices

pico_genkey EC group:P-256 web
pico_genkey EC group:P-256 gone
pico_genkey EC group:P-384 mail
run ossl req -new -x509 -key "pico:object=web?pin-value=$PIN" -subj "/CN=web.example" -days 30 \
    -out "$work/web.crt"
run openssl req -new -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$work/ca.key" -subj "/CN=Example CA" -days 30 -out "$work/ca.crt"
echo "$PIN" > "$work/pin"

start=$(($(wc -l < "$PICO_SIM_LOG1") + 1))
run "$top_builddir/test/tools/device-cache" "$PICO_READER1" "$work/pin" "$work/web.crt" \
    "$work/ca.crt" > "$work/out"
cat "$work/out"
grep -q "^OK$" "$work/out" || fail "device-cache did not finish"
tail -n +"$start" "$PICO_SIM_LOG1" > "$work/apdus"
# the key list: read at the start and after the forget, not after the deletion
n=$(grep -ciE "^> 8058" "$work/apdus" || true)
[ "$n" = 2 ] || fail "ENUMERATE sent $n times (2 expected: at the start, after forget)"
# the deletion: exactly CC, C4, CE of the key (6.8)
n=$(grep -ciE "^> 00E4" "$work/apdus" || true)
[ "$n" = 3 ] || fail "$n DELETE FILE commands (3 expected)"

# what other processes read: the tool's list, the provider's certificates, OpenSC's objects
run tool key list > "$work/keys"
grep -q "web" "$work/keys" && grep -q "mail" "$work/keys" || fail "tool: a key is missing"
grep -q "gone" "$work/keys" && fail "tool: the deleted key is listed"
run openssl storeutl -certs "$work/web.crt" > "$work/web.file"
run ossl storeutl -certs "pico:object=web" </dev/null > "$work/web.pico"
cmp "$work/web.file" "$work/web.pico" || fail "web's certificate on the device differs"
run openssl storeutl "$work/ca.crt" > "$work/ca.file"
run ossl storeutl "pico:object=myca;type=cert" </dev/null > "$work/ca.pico"
cmp "$work/ca.file" "$work/ca.pico" || fail "myca on the device differs"
printf 'app default {\n framework pkcs15 {\n  use_file_caching = no;\n }\n}\n' > "$work/opensc.conf"
OPENSC_CONF="$work/opensc.conf" run pkcs11-tool \
    --module /usr/lib/x86_64-linux-gnu/opensc-pkcs11.so --list-objects > "$work/p11"
grep -A3 "label:      myca" "$work/p11" | grep -q "ID:         42" || fail "OpenSC does not list myca"
echo PASS
