#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A device pool across processes (a pre-forking server): a key on two devices (restored
# from one wrap), loaded once, then two workers forked. Worker A signs; both devices take
# 1.5 s per signature (the latency model). While A's signature runs, worker B signs: it
# leaves A's device alone and signs on the other one, instead of queueing behind A in
# pcscd. So each device makes exactly one signature, and both verify with plain openssl.
. "$(dirname "$0")/provider-lib.sh"
. "$(dirname "$0")/fault-lib.sh"
with_devices -n 2

SEL=00A404000BE82B0601040181C31F020100
VERIFY=0020008106363438323139 # PIN 648219
SHARE=000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F
echo "$PIN" > "$work/pin"
pin=(--pin-source "file:$work/pin")
readers=("$PICO_READER1" "$PICO_READER2")
on() { TOOL_READER=${readers[$1]} tool "${@:2}"; }
signs() { local log=PICO_SIM_LOG$1; grep -c '^> 8068' "${!log}" || true; }

for i in 0 1; do
    run on $i init --yes --pin "$PIN" --so-pin "$SOPIN" --dkek-shares 1 >/dev/null
    "$top_builddir/test/tools/pcsc-apdu" $i $SEL $VERIFY "8052000020$SHARE" > "$work/imp$i"
    tail -1 "$work/imp$i" | grep -q ' 610A$\| 9000$' || fail "share import on $i: $(cat "$work/imp$i")"
done
run on 0 key generate --type ec:prime256v1 --label k "${pin[@]}" >/dev/null
run on 0 key export-public --label k -o "$work/pub.pem"
run on 0 key wrap --label k --out "$work/k.wrap" "${pin[@]}"
run on 1 key unwrap --in "$work/k.wrap" "${pin[@]}" >/dev/null
for i in 1 2; do
    sim_kill $i
    sim_start $i --latency sign=1500
done

pico_cnf "$work/openssl.cnf" "pico-pin-source = file:$work/pin"
export OPENSSL_CONF=$work/openssl.cnf
echo "a message for each worker" > "$work/msg"
mkfifo "$work/go"
s1=$(signs 1) s2=$(signs 2)
"$top_builddir/test/tools/pool-workers" "pico:object=k" "$work/msg" "$work/sig" "$work/go" \
    > "$work/workers.out" 2>&1 &
workers=$!
# A's signature is on a device (its SIGN received, its answer 1.5 s away): B may go
for n in $(seq 400); do
    [ $(($(signs 1) + $(signs 2))) -gt $((s1 + s2)) ] && break
    sleep 0.025
done
[ $(($(signs 1) + $(signs 2))) -gt $((s1 + s2)) ] || fail "worker A sent no signature"
echo go > "$work/go"
wait $workers || fail "a worker failed: $(cat "$work/workers.out")"
d1=$(($(signs 1) - s1)) d2=$(($(signs 2) - s2))
[ "$d1" = 1 ] && [ "$d2" = 1 ] ||
    fail "worker B queued behind worker A: device 1 made $d1 signatures, device 2 $d2 (1 each expected)"
for w in a b; do
    openssl dgst -sha256 -verify "$work/pub.pem" -signature "$work/sig.$w" "$work/msg" \
        >/dev/null || fail "worker $w's signature does not verify"
done
for i in 0 1; do
    [ "$(pin_tries $i)" = 3 ] || fail "PIN tries on device $((i + 1))"
done
