#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A key's life through pico-hsm-tool: generate (EC P-256 and RSA-2048, with a
# progress indication), list (table and JSON), export the public key (PEM the
# same as the provider's, an OpenSSH line ssh-keygen reads), import a
# certificate (the provider's store then finds it), delete (gone from the
# tool's list and from OpenSC's); delete refuses without --yes.
. "$(dirname "$0")/provider-lib.sh"
with_devices

echo "$PIN" > "$work/pin"
p11_objects() {
    pkcs11-tool --module /usr/lib/x86_64-linux-gnu/opensc-pkcs11.so --login --pin "$PIN" -O \
        2>/dev/null
}

# 1. generate: the device makes the keys, the tool labels them
run tool key generate --type ec:prime256v1 --label web --pin-source "file:$work/pin" \
    2>"$work/gen-ec.err"
grep -q 'Generating an EC prime256v1 key' "$work/gen-ec.err" || fail "no progress for EC"
run tool key generate --type rsa:2048 --label mail --id 0a0b --pin-source "file:$work/pin" \
    2>"$work/gen-rsa.err"
grep -q 'Generating an RSA-2048 key.* done' "$work/gen-rsa.err" || fail "no progress for RSA"
# a second key under a label in use would be ambiguous: refused
run_fails tool key generate --type ec:P-256 --label web --pin-source "file:$work/pin"

# 2. list, as a table and as JSON
tool key list | tee "$work/list"
grep -Eq '^1 +EC +256 +prime256v1 +no +web ' "$work/list" || fail "EC key not listed"
grep -Eq '^2 +RSA +2048 +- +no +mail +0a0b$' "$work/list" || fail "RSA key not listed"
tool key list --json > "$work/list.json"
grep -q '{"keyref":2,"type":"RSA","bits":2048,"curve":null,"label":"mail","id":"0a0b","certificate":false}' \
    "$work/list.json" || fail "RSA key not in the JSON list: $(cat "$work/list.json")"
grep -q '"keyref":1,"type":"EC","bits":256,"curve":"prime256v1","label":"web"' \
    "$work/list.json" || fail "EC key not in the JSON list"

# 3. export-public: the same SubjectPublicKeyInfo the provider gives
for label in web mail; do
    run tool key export-public --label "$label" -o "$work/$label.tool.pem"
    run ossl pkey -pubin -in "pico:object=$label" -pubout -out "$work/$label.prov.pem"
    cmp -s "$work/$label.tool.pem" "$work/$label.prov.pem" ||
        fail "export-public of $label differs from the provider's public key"
done
# OpenSSH lines: the right key types, the label as comment, and ssh-keygen reads them
tool key export-public --label web --format ssh > "$work/web.pub"
tool key export-public --id 0a0b --format ssh -o "$work/mail.pub"
grep -q '^ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTY[A-Za-z0-9+/=]* web$' "$work/web.pub" ||
    fail "EC OpenSSH line: $(cat "$work/web.pub")"
grep -q '^ssh-rsa AAAAB3NzaC1yc2E[A-Za-z0-9+/=]* mail$' "$work/mail.pub" ||
    fail "RSA OpenSSH line: $(cat "$work/mail.pub")"
if command -v ssh-keygen >/dev/null; then
    ssh-keygen -l -f "$work/web.pub" | grep -q '^256 SHA256:.* web (ECDSA)$' ||
        fail "ssh-keygen does not read the EC line"
    ssh-keygen -l -f "$work/mail.pub" | grep -q '^2048 SHA256:.* mail (RSA)$' ||
        fail "ssh-keygen does not read the RSA line"
    # and the key inside is the same public key
    ssh-keygen -e -m PKCS8 -f "$work/web.pub" | openssl pkey -pubin -pubout |
        cmp -s - "$work/web.tool.pem" || fail "the OpenSSH key is not the device key"
else
    echo "ssh-keygen not installed (openssh-client): OpenSSH check skipped" >&2
fi

# 4. cert import: a certificate for the key, stored where OpenSC and the provider look
run ossl req -new -x509 -key "pico:object=web?pin-source=file:$work/pin" -subj /CN=web \
    -days 30 -out "$work/web.crt"
# a certificate of another key is refused
run_fails tool cert import --label mail "$work/web.crt" --pin-source "file:$work/pin"
run tool cert import --label web "$work/web.crt" --pin-source "file:$work/pin"
ossl storeutl -certs "pico:object=web;type=cert" > "$work/store.out"
openssl x509 -in "$work/store.out" -noout -subject | grep -q 'CN *= *web' ||
    fail "the provider's store does not show the imported certificate"
grep -Eq '^1 +EC +256 +prime256v1 +yes +web ' <(tool key list) || fail "list: certificate not shown"
p11_objects | grep -q 'Certificate Object' || fail "OpenSC does not see the certificate"

# 5. delete: never without --yes or without naming the key
status=0
tool key delete --label web --pin-source "file:$work/pin" 2>"$work/err" || status=$?
[ "$status" = 2 ] || fail "delete without --yes: exit $status, not 2"
status=0
tool key delete --yes --pin-source "file:$work/pin" 2>"$work/err" || status=$?
[ "$status" = 2 ] || fail "delete without a key named: exit $status, not 2"
grep -Eq ' web ' <(tool key list) || fail "a refused delete removed the key"
p11_objects | grep -q 'label: *web' || fail "OpenSC does not list the key before delete"
run tool key delete --label web --yes --pin-source "file:$work/pin"
! grep -Eq ' web ' <(tool key list) || fail "the deleted key is still listed"
p11_objects > "$work/p11.after"
! grep -q 'label: *web' "$work/p11.after" || fail "OpenSC still lists the deleted key: $(cat "$work/p11.after")"
! grep -q 'Certificate Object' "$work/p11.after" || fail "the deleted key's certificate remains"
grep -q 'label: *mail' "$work/p11.after" || fail "the other key went too"
# a new key takes the freed reference without inheriting anything
run tool key generate --type ec:secp384r1 --label fresh --pin-source "file:$work/pin"
grep -Eq '^1 +EC +384 +secp384r1 +no +fresh ' <(tool key list) || fail "reference 1 not clean"

for f in "$work"/*; do
    [ "$f" = "$work/pin" ] && continue
    ! grep -q "$PIN" "$f" || fail "the PIN appears in $f"
done
echo PASS
