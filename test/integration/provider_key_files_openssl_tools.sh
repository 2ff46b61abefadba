#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The key files `openssl genpkey -out` writes (PEM "PICO HSM KEY URI") load
# wherever the openssl tools take a key file, through the file: store:
# pkey -in, storeutl, pkeyutl -inkey, dgst -sign, req -key, x509 -key,
# s_server -key, and OSSL_STORE_open on the path and on a file: URI. EC and
# RSA keys, the providers given as -provider options and from openssl.cnf,
# the PIN from -passin (the application's passphrase callback) or from the URI
# inside the file (pin-source=); without either there is no PIN. Every
# signature verifies with plain openssl against the device's public key; a
# file naming a missing key fails without its PIN in the error or the debug
# log.
. "$(dirname "$0")/provider-lib.sh"
with_devices

echo "$PIN" > "$work/pin.txt"
echo "a message signed through a key file" > "$work/msg"
openssl dgst -sha256 -binary "$work/msg" > "$work/dgst"
pico_cnf "$work/openssl.cnf"
port=4500
server=
stop_server() {
    if [ -n "$server" ]; then
        kill "$server" 2>/dev/null || true
        wait "$server" 2>/dev/null || true
    fi
    server=
    return 0
}
trap 'stop_server; rm -rf "$work"' EXIT

# A key file holding URI (its PEM block written here as genpkey writes it): uri_file URI FILE
uri_file() {
    {
        echo "-----BEGIN PICO HSM KEY URI-----"
        printf '%s' "$1" | openssl base64
        echo "-----END PICO HSM KEY URI-----"
    } > "$2"
}

# o CMD ARGS: openssl with the providers of this round: -provider options or openssl.cnf
o() {
    local cmd=$1
    shift
    if [ "$how" = options ]; then
        ossl "$cmd" "$@" < /dev/null
    else
        OPENSSL_CONF=$work/openssl.cnf openssl "$cmd" "$@" < /dev/null
    fi
}

for alg in EC RSA; do
    k=file-${alg,,}
    if [ "$alg" = EC ]; then
        pico_genkey EC group:P-256 "$k"
    else
        pico_genkey RSA rsa_keygen_bits:2048 "$k"
    fi
    grep -q "$PIN" "$work/$k.uri.pem" && fail "$k: the key file holds the PIN"
    # the device's public key, read through the pico: store (no PIN)
    run ossl pkey -pubin -in "pico:object=$k" -pubout -out "$work/$k.dev.pub"
    # the same key's file with the PIN named inside its URI
    path=$(sed '1d;$d' "$work/$k.uri.pem" | openssl base64 -d)
    case "$path" in pico:*object=$k*) ;; *) fail "$k: the key file holds '$path'" ;; esac
    uri_file "$path?pin-source=file:$work/pin.txt" "$work/$k.pin.pem"
    # the file genpkey wrote names no PIN: without -passin the signature fails, spending no
    # try (setsid: no terminal to prompt on), so the rounds below prove where their PIN came from
    # shellcheck disable=SC2046
    run_fails setsid -w openssl dgst $(providers) -sha256 -sign "$work/$k.uri.pem" \
        -out "$work/sig" "$work/msg" < /dev/null
    grep -q 'pin required' "$work/err" || fail "$k: no 'pin required' without a PIN"
    [ "$(pin_tries)" = 3 ] || fail "$k: a PIN try was spent without a PIN"

    # two rounds: providers as options with the PIN from -passin, then from openssl.cnf
    # with the PIN from the file's URI
    for how in options config; do
        if [ "$how" = options ]; then
            file=$work/$k.uri.pem pass=(-passin "pass:$PIN") spass=(-pass "pass:$PIN")
        else
            file=$work/$k.pin.pem pass=() spass=()
        fi
        echo "== $k: providers from $how, key file $(basename "$file")" >&2

        # pkey -in: the public key is the device's
        run o pkey -in "$file" "${pass[@]}" -pubout -out "$work/pub"
        cmp -s "$work/pub" "$work/$k.dev.pub" || fail "$k ($how): pkey -pubout is not the device's key"

        # storeutl: one private key in the file
        o storeutl "${pass[@]}" -noout "$file" > "$work/store.out" ||
            fail "$k ($how): storeutl failed"
        grep -q '^0: Pkey' "$work/store.out" || fail "$k ($how): storeutl found no key"

        # pkeyutl -sign over a digest
        rm -f "$work/sig"
        run o pkeyutl -sign -inkey "$file" "${pass[@]}" -pkeyopt digest:sha256 \
            -in "$work/dgst" -out "$work/sig"
        run openssl pkeyutl -verify -pubin -inkey "$work/$k.dev.pub" -pkeyopt digest:sha256 \
            -in "$work/dgst" -sigfile "$work/sig"

        # dgst -sign
        rm -f "$work/sig"
        run o dgst -sha256 -sign "$file" "${pass[@]}" -out "$work/sig" "$work/msg"
        run openssl dgst -sha256 -verify "$work/$k.dev.pub" -signature "$work/sig" "$work/msg"

        # req -new -key: a request signed by the device key, holding its public key
        rm -f "$work/csr"
        run o req -new -key "$file" "${pass[@]}" -subj "/CN=localhost" -out "$work/csr"
        run openssl req -in "$work/csr" -verify -noout
        openssl req -in "$work/csr" -pubkey -noout > "$work/pub"
        cmp -s "$work/pub" "$work/$k.dev.pub" || fail "$k ($how): the request holds another key"

        # x509 -new -key: a self-signed certificate (not x509 -req: in pico-first order the
        # check of the request's RSA signature fails, a verify problem of its own)
        rm -f "$work/crt"
        run o x509 -new -key "$file" "${pass[@]}" -subj "/CN=localhost" -days 2 -out "$work/crt"
        run openssl verify -check_ss_sig -CAfile "$work/crt" "$work/crt"
        openssl x509 -in "$work/crt" -pubkey -noout > "$work/pub"
        cmp -s "$work/pub" "$work/$k.dev.pub" || fail "$k ($how): the certificate holds another key"

        # s_server -key: a TLS 1.3 handshake that plain s_client verifies with that certificate
        stop_server
        port=$((port + 1))
        rm -f "$work/server.log" # the last server's ACCEPT must not pass for this one's
        o s_server -accept "127.0.0.1:$port" -key "$file" "${spass[@]}" -cert "$work/crt" \
            -www -naccept 1 > "$work/server.log" 2>&1 &
        server=$!
        for _ in $(seq 100); do
            grep -q ACCEPT "$work/server.log" && break
            kill -0 "$server" 2>/dev/null || break
            sleep 0.1
        done
        grep -q ACCEPT "$work/server.log" || { cat "$work/server.log" >&2; fail "$k ($how): s_server did not start"; }
        printf 'GET / HTTP/1.0\r\n\r\n' |
            openssl s_client -connect "127.0.0.1:$port" -CAfile "$work/crt" -verify_return_error \
                -tls1_3 -ign_eof > "$work/client.log" 2>&1 ||
            { cat "$work/client.log" "$work/server.log" >&2; fail "$k ($how): handshake failed"; }
        grep -q 'Verify return code: 0 (ok)' "$work/client.log" || fail "$k ($how): not verified"
        grep -q 's_server' "$work/client.log" || fail "$k ($how): no page served over TLS"
        stop_server
    done

    # OSSL_STORE_open on the path (PIN from the UI method) and on a file: URI (PIN in the URI)
    for target in "$work/$k.uri.pem $work/pin.txt" "file:$work/$k.pin.pem -"; do
        read -r uri passfile <<< "$target"
        rm -f "$work/sig" "$work/pub"
        run "$top_builddir/test/tools/store-key-sign" "$uri" "$passfile" "$work/msg" "$work/sig" \
            "$work/pub"
        cmp -s "$work/pub" "$work/$k.dev.pub" || fail "$k: OSSL_STORE on $uri gave another key"
        run openssl dgst -sha256 -verify "$work/$k.dev.pub" -signature "$work/sig" "$work/msg"
    done
done

# A key file naming a key the device does not have, with a PIN in its URI: the load
# fails, and neither the error nor the debug log shows the PIN
uri_file "pico:object=no-such-key?pin-value=$PIN" "$work/missing.pem"
PICO_DEBUG=$work/debug.log run_fails ossl pkey -in "$work/missing.pem" -pubout
grep -q "$PIN" "$work/err" && fail "the error shows the PIN"
[ -s "$work/debug.log" ] || fail "no debug log written"
grep -q "$PIN" "$work/debug.log" && fail "the debug log shows the PIN"
grep -q 'not found.*object=no-such-key' "$work/debug.log" || fail "the debug log does not say why"
echo PASS
