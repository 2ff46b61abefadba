#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A device whose firmware was built without EdDSA (the firmware's default,
# the virtual device without --eddsa): `openssl genpkey -algorithm ED25519`
# (and ED448) with pico-label fails with an error that names the reason,
# spending no PIN try and leaving no key and no key file behind; the same
# request without a label still makes a software key, and X25519 works.
. "$(dirname "$0")/provider-lib.sh"
with_devices

for alg in ED25519 ED448; do
    tries=$(pin_tries)
    keys_before=$(tool key list | wc -l)
    run_fails ossl genpkey -propquery provider=pico -algorithm "$alg" \
        -pkeyopt "pico-label:ed-$alg" -pkeyopt "pico-uri:pico:?pin-value=$PIN" -out "$work/ed.pem"
    grep -qi "without eddsa" "$work/err" || fail "$alg: the error does not say why"
    [ "$(pin_tries)" = "$tries" ] || fail "$alg: a refused generation spent or used the PIN"
    [ "$(tool key list | wc -l)" = "$keys_before" ] || fail "$alg: a key was left"
    run_fails ossl storeutl -keys "pico:object=ed-$alg?pin-value=$PIN"
    [ ! -s "$work/ed.pem" ] || fail "$alg: a key file was written"
    # no label: a software key, as the default provider makes it
    run ossl genpkey -algorithm "$alg" -out "$work/soft.pem"
    grep -q 'BEGIN PRIVATE KEY' "$work/soft.pem" || fail "$alg: not a software key"
done
pico_genkey X25519 "" still-x25519
echo PASS
