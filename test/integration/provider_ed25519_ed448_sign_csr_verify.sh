#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Ed25519 and Ed448 device keys (devices whose firmware has EdDSA: the
# virtual device with --eddsa) sign what plain openssl verifies: `pkeyutl
# -sign -rawin` (PureEdDSA over the message, one SIGN on the device),
# verified by plain openssl with the device key's public key and through the
# providers; a CSR made with `req -new -key pico:...` and a self-signed
# certificate verify with plain openssl, and s_server serves TLS 1.3 with
# that certificate and the device key to a plain s_client; the key reports the default
# provider's sizes and no default digest; a message longer than the device
# takes in one command and a digest are refused.
. "$(dirname "$0")/provider-lib.sh"
with_devices --eddsa

sizes="$top_builddir/test/tools/pkey-sizes"
port=4600
head -c 1000 /dev/urandom > "$work/msg"
for alg in ED25519 ED448; do
    pico_genkey "$alg" "" "ed-$alg"
    key="pico:object=ed-$alg?pin-value=$PIN"
    run ossl pkey -in "$key" -pubout -out "$work/pub.pem"
    run openssl pkey -pubin -in "$work/pub.pem" -noout
    # a signature over the raw message: one SIGN (68) on the device
    before=$(apdus 68)
    run ossl pkeyutl -sign -rawin -inkey "$key" -in "$work/msg" -out "$work/sig"
    [ "$(apdus 68)" = $((before + 1)) ] || fail "$alg: not one signature on the device"
    [ "$(stat -c %s "$work/sig")" = "$([ $alg = ED25519 ] && echo 64 || echo 114)" ] ||
        fail "$alg: signature of the wrong length"
    run openssl pkeyutl -verify -rawin -pubin -inkey "$work/pub.pem" -in "$work/msg" \
        -sigfile "$work/sig"
    # verification through the providers (the software shadow) says the same
    run ossl pkeyutl -verify -rawin -inkey "$key" -in "$work/msg" -sigfile "$work/sig"
    printf x >> "$work/msg"
    run_fails openssl pkeyutl -verify -rawin -pubin -inkey "$work/pub.pem" -in "$work/msg" \
        -sigfile "$work/sig"
    run_fails ossl pkeyutl -verify -rawin -inkey "$key" -in "$work/msg" -sigfile "$work/sig"
    # with ?provider=pico as well
    run ossl pkeyutl -sign -rawin -propquery '?provider=pico' -inkey "$key" -in "$work/msg" \
        -out "$work/sig2"
    run openssl pkeyutl -verify -rawin -pubin -inkey "$work/pub.pem" -in "$work/msg" \
        -sigfile "$work/sig2"
    # a CSR and a self-signed certificate: plain openssl verifies them with the device's key
    run ossl req -new -key "$key" -subj "/CN=ed-$alg" -out "$work/csr.pem"
    run openssl req -in "$work/csr.pem" -verify -noout
    run openssl req -in "$work/csr.pem" -noout -pubkey -out "$work/csr.pub"
    cmp "$work/csr.pub" "$work/pub.pem" || fail "$alg: the CSR holds another key"
    run ossl req -new -x509 -key "$key" -subj "/CN=localhost" -days 2 -out "$work/crt.pem"
    run openssl verify -CAfile "$work/crt.pem" "$work/crt.pem"
    # TLS 1.3 with the certificate and the device key (s_server matches them: has/match),
    # the handshake signed on the device and verified by a plain s_client
    port=$((port + 1))
    signs=$(apdus 68)
    # (a log per server: the last one's ACCEPT must not pass for this one's)
    slog=$work/server-$port.log
    ossl s_server -accept "127.0.0.1:$port" -key "$key" -cert "$work/crt.pem" -www -naccept 1 \
        > "$slog" 2>&1 &
    server=$!
    for _ in $(seq 100); do
        grep -q ACCEPT "$slog" 2>/dev/null && break
        kill -0 "$server" 2>/dev/null || break
        sleep 0.1
    done
    printf 'GET / HTTP/1.0\r\n\r\n' | openssl s_client -connect "127.0.0.1:$port" -tls1_3 \
        -CAfile "$work/crt.pem" -verify_return_error -ign_eof > "$work/client.log" 2>&1 ||
        { cat "$slog" "$work/client.log" >&2; fail "$alg: TLS 1.3 handshake failed"; }
    wait "$server" || true
    grep -q 'Verify return code: 0 (ok)' "$work/client.log" || fail "$alg: certificate not verified"
    # (s_client of OpenSSL 3.0 names no EdDSA signature type: the device's count says it)
    [ "$(apdus 68)" = $((signs + 1)) ] || fail "$alg: the handshake was not signed on the device"
    # the default provider's sizes, and no default digest (UNDEF)
    run "$sizes" "$key" > "$work/s.dev"
    run "$sizes" -pub "$key" > "$work/s.sw"
    cmp "$work/s.dev" "$work/s.sw" || fail "$alg: sizes differ from the default provider's"
    grep -q 'default-digest=UNDEF' "$work/s.dev" || fail "$alg: a default digest"
    # the device takes the message in one command: 2029 bytes sign, one more is refused
    # on the host with an error, nothing sent
    head -c 2029 /dev/urandom > "$work/big"
    run ossl pkeyutl -sign -rawin -inkey "$key" -in "$work/big" -out "$work/sig4"
    run openssl pkeyutl -verify -rawin -pubin -inkey "$work/pub.pem" -in "$work/big" \
        -sigfile "$work/sig4"
    printf x >> "$work/big"
    before=$(apdus 68)
    run_fails ossl pkeyutl -sign -rawin -inkey "$key" -in "$work/big" -out "$work/sig4"
    grep -q 'pico:' "$work/err" || fail "$alg: no error of the provider for a long message"
    [ "$(apdus 68)" = "$before" ] || fail "$alg: a too long message went to the device"
    # PureEdDSA takes no digest
    run_fails ossl dgst -sha256 -sign "$key" -out "$work/sig3" "$work/msg"
done
echo PASS
