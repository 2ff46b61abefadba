#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The virtual device's latency model (pico-hsm-sim --latency), which the
# benchmarks use to model a real Pico HSM: with sign=60 every signature takes
# at least 60 ms and still verifies; with keygen=400 a key generation at least
# 400 ms; a malformed list is refused at start with its usage.
. "$(dirname "$0")/provider-lib.sh"
with_devices

sim=$top_builddir/sim/pico-hsm-sim
for bad in sign verify=20 sign=20, sign=-1 sign=70000; do
    "$sim" --state "$work/x.state" --latency "$bad" 2>"$work/err" && fail "--latency $bad accepted"
    grep -q -- '--latency takes' "$work/err" || fail "--latency $bad: $(cat "$work/err")"
done

pico_genkey EC group:P-256 slow
sim_restart_with 1 --latency sign=60,keygen=400
mkdir -p "$work/loop"
SIGN_LOOP_MAX=5 SIGN_LOOP_MS=0 run "$top_builddir/test/tools/sign-loop" \
    "pico:object=slow?pin-value=$PIN" "$work/loop" >"$work/loop.out"
[ "$(grep -c ' ok ' "$work/loop.out")" = 5 ] || fail "signatures: $(cat "$work/loop.out")"
run ossl pkey -passin "pass:$PIN" -in "$work/slow.uri.pem" -pubout -out "$work/slow.pub"
for i in 0 1 2 3 4; do
    ms=$(awk -v i="$i" '$1 == i && $2 == "ok" {print $3}' "$work/loop.out")
    awk -v ms="$ms" 'BEGIN {exit !(ms >= 60)}' || fail "signature $i took $ms ms with sign=60"
    openssl dgst -sha256 -verify "$work/slow.pub" -signature "$work/loop/$i.sig" \
        "$work/loop/$i.msg" >/dev/null || fail "signature $i does not verify"
done
start=$(date +%s%N)
pico_genkey EC group:P-256 slow-gen
ms=$((($(date +%s%N) - start) / 1000000))
[ "$ms" -ge 400 ] || fail "key generation took $ms ms with keygen=400"
echo PASS
