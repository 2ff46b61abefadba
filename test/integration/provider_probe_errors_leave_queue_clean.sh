#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# An expected failure inside a probe leaves nothing on OpenSSL's error queue:
# a key searched for across two readers, of which the first holds a device
# without keys, then no card at all (its connect fails while looking), loads
# and signs, `openssl` prints no error and an application finds
# ERR_peek_error() == 0 afterwards (test/tools/store-sign-errors). A real
# failure still reaches the user with its reason: a wrong PIN, a key on no
# device, through openssl and on the application's queue.
. "$(dirname "$0")/provider-lib.sh"
with_devices -n 2

enc() { printf '%s' "$1" | sed 's/ /%20/g; s/(/%28/g; s/)/%29/g'; }
prog=$top_builddir/test/tools/store-sign-errors
printf 'sign me\n' > "$work/msg"

# the key lives on the second device only; the first one has none
run ossl genpkey -propquery provider=pico -algorithm EC -pkeyopt group:P-256 \
    -pkeyopt pico-label:second -pkeyopt "pico-uri:pico:reader=$(enc "$PICO_READER2")?pin-value=$PIN" \
    -out "$work/second.uri.pem"
keys=$(TOOL_READER=$PICO_READER1 tool key list --json)
case "$keys" in *'"keys":[]'*) ;; *) fail "the first device holds keys: $keys" ;; esac

# success: a search over both readers, nothing left behind
run "$prog" ok "pico:object=second?pin-value=$PIN" "$work/msg"
# the first reader empty: its failure is expected, and noted as such in the trace
kill "$PICO_SIM_PID1"
for _ in $(seq 50); do
    opensc-tool -l 2>/dev/null | grep -q "No .*$PICO_READER1" && break
    sleep 0.1
done
PICO_DEBUG=$work/trace run "$prog" ok "pico:object=second?pin-value=$PIN" "$work/msg"
grep -q "note .*$PICO_READER1" "$work/trace" ||
    fail "the empty reader was not probed: $(cat "$work/trace")"
quiet() { # quiet COMMAND...: must succeed and print nothing on stderr
    echo "+ $*" >&2
    "$@" 2>"$work/stderr" || fail "command failed (status $?): $* ($(cat "$work/stderr"))"
    [ ! -s "$work/stderr" ] || fail "errors printed after a success: $* ($(cat "$work/stderr"))"
}
quiet ossl pkeyutl -sign -rawin -digest sha256 -inkey "pico:object=second?pin-value=$PIN" \
    -in "$work/msg" -out "$work/sig"
quiet ossl storeutl -noout -keys "pico:object=second?pin-value=$PIN" >/dev/null
quiet ossl pkey -pubin -in "pico:object=second;type=public" -out "$work/second.pub"
run openssl pkeyutl -verify -rawin -digest sha256 -pubin -inkey "$work/second.pub" \
    -in "$work/msg" -sigfile "$work/sig"

# real failures: their reason reaches the user
run "$prog" fail "pin incorrect" "pico:object=second?pin-value=000000" "$work/msg"
run "$prog" fail "key or object not found" "pico:object=nosuchkey?pin-value=$PIN" "$work/msg"
run_fails ossl pkeyutl -sign -rawin -digest sha256 \
    -inkey "pico:object=second?pin-value=000000" -in "$work/msg" -out "$work/sig"
grep -q "pin incorrect" "$work/err" || fail "openssl did not say why: $(cat "$work/err")"
echo "PASS"
