#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Eight threads make their first signatures at once with one key whose PIN came
# from the application's passphrase callback (OSSL_STORE with a UI method, and
# PEM_read_bio_PrivateKey with a password callback on a key file, as nginx
# does), or with a key each of them loaded at the same time, while four more
# threads read its public key (from the device, on first need). 50 runs: no run
# crashes, every signature verifies with plain openssl, and each run logs in
# once: one VERIFY with the PIN, whichever thread sends it, never one per
# thread. A wrong PIN from the application is sent once.
. "$(dirname "$0")/provider-lib.sh"
with_devices

runs=${THREAD_RUNS:-50}
threads=8
pico_genkey EC group:P-256 threaded
echo "$PIN" > "$work/pin"

# VERIFY commands that carry a PIN (a bare 00200081 only asks for the tries left)
verifies() { grep -cE '^> 0020[0-9A-Fa-f]{4}[0-9A-Fa-f*]+' "$PICO_SIM_LOG1" || true; }

crashes=0 failures=0
for i in $(seq "$runs"); do
    # the three ways an application hands its PIN in, in turn; and every thread
    # loading the key itself, all at once
    case $((i % 5)) in
    0) how=(pem "$work/threaded.uri.pem") ;;
    1) how=(store "$work/threaded.uri.pem") ;;
    2) how=(store "pico:object=threaded") ;;
    3) how=(store-each "$work/threaded.uri.pem") ;;
    4) how=(store-each "pico:object=threaded") ;;
    esac
    rm -f "$work"/out.*
    before=$(verifies)
    status=0
    "$top_builddir/test/tools/thread-sign" "${how[@]}" "$work/pin" "$threads" "$work/out" \
        >"$work/log" 2>&1 || status=$?
    after=$(verifies)
    if [ "$status" -ge 128 ]; then
        crashes=$((crashes + 1))
        echo "run $i (${how[*]}): killed by signal $((status - 128))" >&2
        continue
    fi
    if [ "$status" -ne 0 ]; then
        failures=$((failures + 1))
        echo "run $i (${how[*]}): status $status" >&2
        cat "$work/log" >&2
        continue
    fi
    # one login for all the threads of the process
    [ $((after - before)) -eq 1 ] ||
        fail "run $i (${how[*]}): $((after - before)) VERIFY with the PIN, 1 expected"
    # the signatures verify without pico
    for t in $(seq 0 $((threads - 1))); do
        openssl dgst -sha256 -verify "$work/out.pub" -signature "$work/out.$t.sig" \
            "$work/out.$t.msg" >/dev/null ||
            fail "run $i (${how[*]}): the signature of thread $t does not verify with openssl"
    done
done
echo "$runs runs of $threads threads: $crashes crashed, $failures failed" >&2
[ "$crashes" -eq 0 ] && [ "$failures" -eq 0 ] || fail "$crashes crashes, $failures failures"

# A wrong PIN from the application: the one VERIFY spends one try, no thread sends it
# again (the others find no PIN: no terminal, no source, so they fail without a VERIFY)
echo 000000 > "$work/wrong"
[ "$(pin_tries)" = 3 ] || fail "tries left before the wrong pin: $(pin_tries)"
before=$(verifies)
run_fails setsid "$top_builddir/test/tools/thread-sign" pem "$work/threaded.uri.pem" \
    "$work/wrong" "$threads" "$work/out" </dev/null
after=$(verifies)
[ $((after - before)) -eq 1 ] || fail "a wrong pin went to $((after - before)) VERIFY, 1 expected"
[ "$(pin_tries)" = 2 ] || fail "tries left after the wrong pin: $(pin_tries), 2 expected"
echo PASS
