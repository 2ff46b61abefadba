#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# libssl serves TLS with device keys: `openssl s_server -key pico:...` and a
# plain `openssl s_client` that verifies the certificate. TLS 1.3 with ECDSA
# and RSA-PSS, TLS 1.2 with ECDHE-RSA (PKCS#1 signatures) and with RSA key
# exchange (the premaster secret decrypted on the device).
. "$(dirname "$0")/provider-lib.sh"
with_devices

pico_genkey EC group:P-256 tls-ec
pico_genkey RSA rsa_keygen_bits:2048 tls-rsa
port=4433
server=
stop_server() {
    # s_server -naccept 1 may have exited already, or be killed here: neither is a failure
    if [ -n "$server" ]; then
        kill "$server" 2>/dev/null || true
        wait "$server" 2>/dev/null || true
    fi
    server=
    return 0
}
trap 'stop_server; rm -rf "$work"' EXIT

# serve LABEL [s_server options]: starts s_server on the device key and waits for it
serve() {
    local label=$1
    shift
    stop_server
    port=$((port + 1))
    ossl s_server -accept "127.0.0.1:$port" -key "pico:object=$label?pin-value=$PIN" \
        -cert "$work/$label.crt" -www -naccept 1 "$@" > "$work/server.log" 2>&1 &
    server=$!
    for _ in $(seq 100); do
        grep -q ACCEPT "$work/server.log" && return 0
        kill -0 "$server" 2>/dev/null || break
        sleep 0.1
    done
    cat "$work/server.log" >&2
    fail "s_server on $label did not start"
}

# connect [s_client options]: a handshake that verifies the server's certificate
connect() {
    echo "+ s_client $*" >&2
    printf 'GET / HTTP/1.0\r\n\r\n' |
        openssl s_client -connect "127.0.0.1:$port" -CAfile "$work/ca.crt" -verify_return_error \
            -servername localhost -ign_eof "$@" > "$work/client.log" 2>&1 ||
        { cat "$work/client.log" "$work/server.log" >&2; fail "handshake failed: $*"; }
    grep -q 'Verify return code: 0 (ok)' "$work/client.log" || fail "certificate not verified: $*"
    grep -q 's_server' "$work/client.log" || fail "no page served over TLS: $*"
}

# one self-signed certificate per key, both in the client's trust store
for label in tls-ec tls-rsa; do
    run ossl req -new -x509 -key "pico:object=$label?pin-value=$PIN" -subj "/CN=localhost" \
        -addext "subjectAltName=DNS:localhost" -days 2 -out "$work/$label.crt"
done
cat "$work/tls-ec.crt" "$work/tls-rsa.crt" > "$work/ca.crt"
# from here on the device generates nothing: libssl's ephemeral (EC)DHE keys are software keys
keygens=$(apdus 46)

serve tls-ec
connect -tls1_3
grep -q 'Peer signature type: ECDSA' "$work/client.log" || fail "TLS 1.3 did not use ECDSA"

serve tls-rsa
connect -tls1_3
grep -q 'Peer signature type: RSA-PSS' "$work/client.log" || fail "TLS 1.3 did not use RSA-PSS"

serve tls-rsa
connect -tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256 -sigalgs RSA+SHA256
grep -q 'Peer signature type: RSA$' "$work/client.log" || fail "TLS 1.2 did not sign PKCS#1"

serve tls-rsa
connect -tls1_2 -cipher AES128-GCM-SHA256
grep -q 'Cipher is AES128-GCM-SHA256' "$work/client.log" || fail "not the RSA key exchange"

serve tls-ec
connect -tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256
stop_server
[ "$(apdus 46)" = "$keygens" ] || fail "a TLS handshake generated a key on the device"
echo PASS
