#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# libssl serves TLS with device keys: `openssl s_server -key pico:...` and a
# plain `openssl s_client` that verifies the certificate. TLS 1.3 with ECDSA
# and RSA-PSS, TLS 1.2 with ECDHE-RSA (PKCS#1 signatures) and with RSA key
# exchange (the premaster secret decrypted on the device). Then the same
# server and a client through the provider with key files (software keys):
# in either provider order the EC groups are there and TLS works as with the
# default provider alone; the X25519 and X448 key shares too (soft keys of
# pico's X25519/X448 key managers when pico is first).
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

# start_server KEY CERT [s_server options]: starts s_server and waits for it
start_server() {
    local key=$1 cert=$2
    shift 2
    stop_server
    port=$((port + 1))
    # a log per server: the last server's ACCEPT must not pass for this one's
    server_log=$work/server-$port.log
    ossl s_server -accept "127.0.0.1:$port" -key "$key" -cert "$cert" -www -naccept 1 "$@" \
        > "$server_log" 2>&1 &
    server=$!
    for _ in $(seq 100); do
        grep -q ACCEPT "$server_log" 2>/dev/null && return 0
        kill -0 "$server" 2>/dev/null || break
        sleep 0.1
    done
    cat "$server_log" >&2
    fail "s_server on $key did not start"
}
# serve LABEL [options]: on the device key; serve_file NAME [options]: on a key file
serve() {
    local label=$1
    shift
    start_server "pico:object=$label?pin-value=$PIN" "$work/$label.crt" "$@"
}
serve_file() {
    local name=$1
    shift
    start_server "$work/$name.key" "$work/$name.crt" "$@"
}

# connect [s_client options]: a handshake that verifies the server's certificate
# (CLIENT="ossl" runs the client with the providers too)
connect() {
    echo "+ ${CLIENT:-openssl} s_client $*" >&2
    printf 'GET / HTTP/1.0\r\n\r\n' |
        ${CLIENT:-openssl} s_client -connect "127.0.0.1:$port" -CAfile "$work/ca.crt" -verify_return_error \
            -servername localhost -ign_eof "$@" > "$work/client.log" 2>&1 ||
        { cat "$work/client.log" "$server_log" >&2; fail "handshake failed: $*"; }
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

# The EC groups the default provider declares, through pico's key manager when it
# is the one fetched: TLS 1.3 key shares and TLS 1.2 ECDHE, the client through pico
# too (its ephemeral keys and its view of the server's)
for group in prime256v1:P-256 secp384r1:P-384 secp521r1:P-521; do
    serve tls-ec -groups "${group#*:}"
    CLIENT=ossl connect -tls1_3 -groups "${group#*:}"
    grep -q "Server Temp Key: ECDH, ${group%:*}" "$work/client.log" ||
        fail "TLS 1.3 without ${group%:*}: $(grep 'Temp Key' "$work/client.log")"
done
serve tls-ec -groups secp384r1
# (TLS 1.2: the client lists the certificate's curve too, RFC 8422 5.1)
CLIENT=ossl connect -tls1_2 -cipher ECDHE-ECDSA-AES256-GCM-SHA384 -groups secp384r1:prime256v1
grep -q 'Server Temp Key: ECDH, secp384r1' "$work/client.log" || fail "TLS 1.2 not ECDHE on P-384"

# Key files, no device key: the server and client with both providers serve and
# connect as the default provider alone does
run openssl genpkey -algorithm EC -pkeyopt group:P-256 -out "$work/file-ec.key"
run openssl req -new -x509 -key "$work/file-ec.key" -subj "/CN=localhost" \
    -addext "subjectAltName=DNS:localhost" -days 2 -out "$work/file-ec.crt"
run openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$work/file-rsa.key"
run openssl req -new -x509 -key "$work/file-rsa.key" -subj "/CN=localhost" \
    -addext "subjectAltName=DNS:localhost" -days 2 -out "$work/file-rsa.crt"
cat "$work/file-ec.crt" "$work/file-rsa.crt" >> "$work/ca.crt"
serve_file file-ec
CLIENT=ossl connect -tls1_3
serve_file file-ec -groups P-256
CLIENT=ossl connect -tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256 -groups P-256
grep -q 'Server Temp Key: ECDH, prime256v1' "$work/client.log" || fail "file key: not ECDHE"
serve_file file-rsa
connect -tls1_3
serve_file file-rsa
CLIENT=ossl connect -tls1_2 -cipher AES128-GCM-SHA256
serve_file file-rsa
connect -tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256
# pico preferred (-propquery ?provider=pico): the same, with key files and device keys
serve_file file-ec -propquery '?provider=pico'
CLIENT=ossl connect -tls1_3 -propquery '?provider=pico'
serve_file file-rsa -propquery '?provider=pico' -groups P-384
CLIENT=ossl connect -tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256 -propquery '?provider=pico' \
    -groups P-384
grep -q 'Server Temp Key: ECDH, secp384r1' "$work/client.log" || fail "?provider=pico: no ECDHE"
serve tls-ec -propquery '?provider=pico'
CLIENT=ossl connect -tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256 -propquery '?provider=pico'
# X25519 and X448 key shares (pico has X25519/X448 key managers: with pico first their
# groups are the software provider's, forwarded, and the key shares soft keys): the
# server through the providers and a plain client, then the client through them too;
# TLS 1.2 ECDHE with x25519 as well (the client lists the certificate's curve, RFC 8422)
for group in x25519:X25519 x448:X448; do
    serve tls-ec -groups "${group%:*}"
    connect -tls1_3 -groups "${group%:*}"
    grep -q "Server Temp Key: ${group#*:}" "$work/client.log" || fail "TLS 1.3 without ${group%:*}"
    serve_file file-ec -groups "${group%:*}"
    CLIENT=ossl connect -tls1_3 -groups "${group%:*}"
    grep -q "Server Temp Key: ${group#*:}" "$work/client.log" || fail "client: no ${group%:*}"
done
serve tls-ec -groups x25519
CLIENT=ossl connect -tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256 -groups x25519:P-256
grep -q 'Server Temp Key: X25519' "$work/client.log" || fail "TLS 1.2 not ECDHE on x25519"
serve_file file-rsa -groups x25519 -propquery '?provider=pico'
CLIENT=ossl connect -tls1_3 -groups x25519 -propquery '?provider=pico'
grep -q 'Server Temp Key: X25519' "$work/client.log" || fail "?provider=pico: no x25519"
stop_server
[ "$(apdus 46)" = "$keygens" ] || fail "a TLS handshake generated a key on the device"
echo PASS
