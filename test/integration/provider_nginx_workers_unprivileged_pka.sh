#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A daemon with PIN + PKA from openssl.cnf, as an operator runs it: nginx's
# master (root) loads the device key, its workers run as nobody and cannot
# read the PIN file or the PKA key file (root's, mode 600). The factors are
# read where the key is loaded, before the fork and the privilege drop, so
# the workers' first login (PIN, then the PKA key) works without them.
. "$(dirname "$0")/provider-lib.sh"
with_devices --blank
command -v nginx >/dev/null || { echo "SKIP: nginx is not installed"; exit 77; }

# root's secrets, which the workers' user cannot read
echo "$PIN" > "$work/pin"
pka_file pka -algorithm EC -pkeyopt ec_paramgen_curve:P-256
chmod 600 "$work/pin" "$work/pka.pem"
run tool init --yes --pin "$PIN" --so-pin "$SOPIN" --pka 1/1
run tool pka register --key "file:$work/pka.pem" --pin-source "file:$work/pin"
pico_cnf "$work/openssl.cnf" "pico-pin-source = file:$work/pin" "pico-pka-key = file:$work/pka.pem"
export OPENSSL_CONF=$work/openssl.cnf
run openssl genpkey -propquery provider=pico -algorithm EC -pkeyopt group:P-256 \
    -pkeyopt pico-label:web -out "$work/web.uri.pem"
run openssl req -new -x509 -key "$work/web.uri.pem" -subj /CN=localhost \
    -addext "subjectAltName=DNS:localhost" -days 2 -out "$work/web.crt"
su nobody -s /bin/sh -c "cat '$work/pin' '$work/pka.pem'" >/dev/null 2>&1 &&
    fail "the workers' user can read the factors: the test proves nothing"

# another client's SELECT logs out this process's own login of the key generation
"$top_builddir/test/tools/pcsc-apdu" 0 00A404000BE82B0601040181C31F020100 >/dev/null
port=8453
mkdir -p "$work/nginx"
cat > "$work/nginx/nginx.conf" <<CONF
daemon off;
master_process on;
worker_processes 2;
user nobody nogroup;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log info;
env OPENSSL_CONF;
env OPENSSL_MODULES;
events { worker_connections 16; }
http {
    access_log $work/nginx/access.log;
    server {
        listen 127.0.0.1:$port ssl;
        server_name localhost;
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_certificate $work/web.crt;
        ssl_certificate_key $work/web.uri.pem;
        location / { return 200 "hello\n"; }
    }
}
CONF
start_nginx "$port"
auths=$(apdus 82)
for v in --tlsv1.3 "--tlsv1.2 --tls-max 1.2" --tlsv1.3; do
    # shellcheck disable=SC2086
    out=$(curl -sS $v --resolve "localhost:$port:127.0.0.1" --cacert "$work/web.crt" \
        "https://localhost:$port/") || { cat "$work/nginx/error.log" >&2; fail "curl $v failed"; }
    [ "$out" = hello ] || fail "curl $v: unexpected answer '$out'"
done
# the workers logged in with the PIN and the PKA key (EXTERNAL AUTHENTICATE), as nobody
[ "$(apdus 82)" -gt "$auths" ] || fail "no PKA login by the workers"
! grep -qi 'permission denied\|cannot read' "$work/nginx/error.log" ||
    fail "a worker tried to read the factors: $(grep -i 'denied\|cannot read' "$work/nginx/error.log")"
! grep -q "$PIN" "$work/nginx/error.log" || fail "the PIN is in nginx's log"
echo PASS
