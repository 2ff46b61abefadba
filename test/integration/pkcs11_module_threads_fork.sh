#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# pico-pkcs11.so in a threaded application and across fork(): 8 threads, each
# in its own session, sign 10 messages each after one C_Login (every signature
# verified with OpenSSL), with CKF_OS_LOCKING_OK and with the application's
# own mutex callbacks (which the module then uses); a child of fork()
# initialises the module again, logs in and signs, and the parent goes on
# signing; C_Finalize with a session open, then C_Initialize again. The PIN is
# in no log.
. "$(dirname "$0")/lib.sh"
need_devices

module=$top_builddir/pkcs11/.libs/pico-pkcs11.so
export PICO_DEBUG=$tmp/debug.log
pkcs11-tool --module "$module" --login --pin "$PICO_PIN" --keypairgen --key-type EC:prime256v1 \
    --label threads --id 42 >/dev/null
echo "$PICO_PIN" >"$tmp/pin"
for locking in os app-mutex; do
    out=$("$top_builddir/test/tools/p11-threads-fork" "$module" "$tmp/pin" 42 8 10 $locking)
    echo "$out" >&2
    expect_match "$out" "threads: 80 of 80 signatures verified" "threads ($locking)"
    expect_match "$out" "fork: child signed" "fork ($locking)"
    expect_match "$out" "parent after fork: signed" "parent after fork ($locking)"
    expect_match "$out" "finalize with a session open: ok" "C_Finalize ($locking)"
done
expect_match "$out" "application mutex: used" "the application's mutex callbacks"
! grep -q "$PICO_PIN" "$PICO_DEBUG" "$PICO_SIM_LOG1" || fail "the PIN is in a log"
echo PASS
