#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Listing with no PC/SC service is an error naming the service, not an empty
# store; no device in any reader is an empty listing; a token or reader the
# URI names that is absent is an error.
. "$(dirname "$0")/provider-lib.sh"
with_devices

pico_genkey EC group:P-256 web

# pcscd unreachable: "Service not available", a non-zero status
PCSCLITE_CSOCK_NAME=/nonexistent/pcscd.comm run_fails ossl storeutl 'pico:'
grep -q "Service not available" "$work/err" || fail "the error does not name the PC/SC service"
PCSCLITE_CSOCK_NAME=/nonexistent/pcscd.comm run_fails ossl storeutl -alias web 'pico:'
grep -q "Service not available" "$work/err" || fail "a search without pcscd: no service error"

# an absent token or reader, named by the URI
run_fails ossl storeutl 'pico:token=NOSUCHDEVICE'
grep -q "device not found in any reader" "$work/err" || fail "absent token: wrong error"
run_fails ossl storeutl 'pico:reader=No%20Such%20Reader'
grep -q "device not found in any reader" "$work/err" || fail "absent reader: wrong error"

# the reader is there, the device is not: nothing to list, no error
kill "$PICO_SIM_PID1"
while kill -0 "$PICO_SIM_PID1" 2>/dev/null; do sleep 0.01; done
ossl storeutl 'pico:' </dev/null > "$work/list" 2>"$work/err" || fail "listing without a device failed"
[ "$(cat "$work/list")" = "Total found: 0" ] || fail "listing without a device: $(cat "$work/list")"
[ ! -s "$work/err" ] || fail "listing without a device printed errors: $(cat "$work/err")"
run ossl storeutl -alias web 'pico:' </dev/null > "$work/list"
[ "$(cat "$work/list")" = "Total found: 0" ] || fail "search without a device: $(cat "$work/list")"
# but a named object must be found
run_fails ossl storeutl 'pico:object=web'

# a running pcscd without any reader (a second one, in a mount namespace of its own):
# an empty listing, status 0
: > "$work/empty.conf"
cat > "$work/no-readers.sh" <<EOS
set -eu
mount -t tmpfs -o mode=0755 tmpfs /run
mkdir -p /run/pcscd
pcscd -f -c "$work/empty.conf" > "$work/pcscd2.log" 2>&1 &
pid=\$!
for _ in \$(seq 1 500); do [ -S /run/pcscd/pcscd.comm ] && break; sleep 0.02; done
status=0
openssl storeutl $(providers) 'pico:' </dev/null > "$work/list" 2> "$work/err" || status=\$?
kill \$pid
exit \$status
EOS
unshare --mount --propagation private -- bash "$work/no-readers.sh" ||
    fail "listing with no reader failed: $(cat "$work/err")"
[ "$(cat "$work/list")" = "Total found: 0" ] || fail "listing with no reader: $(cat "$work/list")"
[ ! -s "$work/err" ] || fail "listing with no reader printed errors: $(cat "$work/err")"
echo PASS
