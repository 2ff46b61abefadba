#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# nginx and curl load device keys from PEM files that hold only a pico: URI
# (the provider's decoder), with the PIN from nginx's ssl_password_file and
# curl's --pass (the application's passphrase callback), the provider from
# openssl.cnf. nginx's master loads the key and its forked workers sign on
# the device; curl's client certificate key signs on the device too.
. "$(dirname "$0")/provider-lib.sh"
with_devices
command -v nginx >/dev/null || { echo "SKIP: nginx is not installed"; exit 77; }

pico_genkey EC group:P-256 web          # -> $work/web.uri.pem
pico_genkey RSA rsa_keygen_bits:2048 client
grep -q 'BEGIN PICO HSM KEY URI' "$work/web.uri.pem" || fail "genpkey did not write a URI file"
grep -q "$PIN" "$work/web.uri.pem" "$work/client.uri.pem" && fail "a key file holds the PIN"
for k in web client; do
    run ossl req -new -x509 -key "pico:object=$k?pin-value=$PIN" -subj "/CN=$k" \
        -addext "subjectAltName=DNS:localhost" -days 2 -out "$work/$k.crt"
done
echo "$PIN" > "$work/pin.txt"
# every curl process selects the application, which logs the workers out (protocol 4.6): a
# daemon sharing its device holds the PIN to log in again
pico_cnf "$work/openssl.cnf" "pico-cache-pin = yes"
export OPENSSL_CONF=$work/openssl.cnf
port=8443
mkdir -p "$work/nginx"
cat > "$work/nginx/nginx.conf" <<CONF
daemon off;
master_process on;
worker_processes 2;
user root;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log info;
env OPENSSL_CONF;
env OPENSSL_MODULES;
events { worker_connections 16; }
http {
    access_log $work/nginx/access.log;
    client_body_temp_path $work/nginx;
    proxy_temp_path $work/nginx;
    fastcgi_temp_path $work/nginx;
    uwsgi_temp_path $work/nginx;
    scgi_temp_path $work/nginx;
    server {
        listen 127.0.0.1:$port ssl;
        server_name localhost;
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_certificate $work/web.crt;
        ssl_certificate_key $work/web.uri.pem;
        ssl_password_file $work/pin.txt;
        ssl_client_certificate $work/client.crt;
        ssl_verify_client on;
        location / { return 200 "hello \$ssl_client_s_dn\n"; }
    }
}
CONF
start_nginx "$port"
signs=$(apdus 68)
# TLS 1.3 and 1.2: the server key (nginx workers) and the client key (curl) sign on the device;
# each curl logs the workers out, each worker logs in again with the PIN nginx gave it
for v in --tlsv1.3 "--tlsv1.2 --tls-max 1.2" --tlsv1.3 "--tlsv1.2 --tls-max 1.2" --tlsv1.3; do
    # shellcheck disable=SC2086
    out=$(curl -sS $v --resolve "localhost:$port:127.0.0.1" --cacert "$work/web.crt" \
        --cert "$work/client.crt" --key "$work/client.uri.pem" --pass "$PIN" \
        "https://localhost:$port/") || { cat "$work/nginx/error.log" >&2; fail "curl $v failed"; }
    echo "$out"
    [ "$out" = "hello CN=client" ] || fail "curl $v: unexpected answer '$out'"
done
[ $(($(apdus 68) - signs)) -ge 10 ] || fail "the handshakes did not sign on the device"
! grep -q "$PIN" "$work/nginx/error.log" || fail "the PIN is in nginx's log"
echo PASS
