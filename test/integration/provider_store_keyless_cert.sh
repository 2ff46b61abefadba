#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A certificate stored without a key (OpenSC writes it to EF CAxx with a
# description in C8xx) is listed and loaded under the label and ID OpenSC
# shows, and equals the certificate file. Each file is read once per process.
. "$(dirname "$0")/provider-lib.sh"
with_devices

printf 'app default {\n framework pkcs15 {\n  use_file_caching = no;\n }\n}\n' > "$work/opensc.conf"
export OPENSC_CONF="$work/opensc.conf"
p11() { pkcs11-tool --module /usr/lib/x86_64-linux-gnu/opensc-pkcs11.so "$@"; }

pico_genkey EC group:P-256 web 02
run openssl req -new -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$work/ca.key" -subj "/CN=Example CA" -days 30 -out "$work/ca.crt"
run openssl x509 -in "$work/ca.crt" -outform DER -out "$work/ca.der"
# no key has ID 42: OpenSC stores the certificate on its own
run p11 --login --pin "$PIN" --write-object "$work/ca.der" --type cert --id 42 --label myca

# OpenSC itself finds it again (the device lists its description C800)
run p11 --list-objects > "$work/p11"
grep -A3 "label:      myca" "$work/p11" | grep -q "ID:         42" || fail "OpenSC does not list myca"

# the listing names it with OpenSC's label and ID
run ossl storeutl 'pico:' </dev/null > "$work/list"
cat "$work/list"
grep -q "^[0-9]*: Name: pico:token=ESPICOHSMTR00001;object=myca;id=42;type=cert$" "$work/list" ||
    fail "storeutl does not list the certificate stored without a key"

# loaded by label, by ID and by its listed name: the file's certificate
run openssl storeutl "$work/ca.crt" > "$work/file.out"
for uri in "pico:object=myca" "pico:id=%42" "pico:object=myca;id=42;type=cert" \
    "pico:token=ESPICOHSMTR00001;object=myca;id=42;type=cert"; do
    run ossl storeutl "$uri" </dev/null > "$work/pico.out"
    cmp "$work/file.out" "$work/pico.out" || fail "$uri: not the certificate of the file"
done
# -certs and the x509 command read it too
run ossl x509 -in "pico:object=myca" -noout -fingerprint -sha256 > "$work/fp.pico"
run openssl x509 -in "$work/ca.crt" -noout -fingerprint -sha256 > "$work/fp.file"
cmp "$work/fp.file" "$work/fp.pico" || fail "x509 -in pico:object=myca differs"
# it is no key: asking for one finds nothing
run_fails ossl pkey -pubin -in "pico:object=myca" -noout </dev/null

# -r opens every listed name in one process: each description and certificate file
# is read once (design.md: once per device per process)
start=$(($(wc -l < "$PICO_SIM_LOG1") + 1))
run ossl storeutl -r 'pico:' </dev/null > "$work/rec"
tail -n +"$start" "$PICO_SIM_LOG1" > "$work/apdus"
grep -q "^ *[0-9]*: Certificate$" "$work/rec" || fail "-r loads no certificate"
for fid in C800 CA00 C401 CE01; do
    n=$(grep -ciE "^> 00B1$fid" "$work/apdus" || true)
    [ "$n" = 1 ] || fail "EF $fid read $n times in one process"
done
echo PASS
