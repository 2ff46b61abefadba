#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A device pool grows: a key restored onto three devices, the third one out of its reader
# when a long-running process loads the key (a pool of two). Plugged in while the process
# signs, the third device joins within the pool's rescan (2 s) and signs too, with no
# failed signature and no PIN try spent; every signature verifies with plain openssl. A
# fourth reader holds a card that is not a Pico HSM: the rescans leave it alone (at most
# one SELECT, not one every 2 s).
. "$(dirname "$0")/provider-lib.sh"
. "$(dirname "$0")/fault-lib.sh"
with_devices -n 4

SEL=00A404000BE82B0601040181C31F020100
VERIFY=0020008106363438323139 # PIN 648219
SHARE=000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F
echo "$PIN" > "$work/pin"
pin=(--pin-source "file:$work/pin")
readers=("$PICO_READER1" "$PICO_READER2" "$PICO_READER3")
on() { TOOL_READER=${readers[$1]} tool "${@:2}"; }
signs() { local log=PICO_SIM_LOG$1; grep -c '^> 8068' "${!log}" || true; }

for i in 0 1 2; do
    run on $i init --yes --pin "$PIN" --so-pin "$SOPIN" --dkek-shares 1 >/dev/null
    "$top_builddir/test/tools/pcsc-apdu" $i $SEL $VERIFY "8052000020$SHARE" > "$work/imp$i"
    tail -1 "$work/imp$i" | grep -q ' 610A$\| 9000$' || fail "share import on $i: $(cat "$work/imp$i")"
done
run on 0 key generate --type ec:prime256v1 --label k "${pin[@]}" >/dev/null
run on 0 key export-public --label k -o "$work/pub.pem"
run on 0 key wrap --label k --out "$work/k.wrap" "${pin[@]}"
for i in 1 2; do
    run on $i key unwrap --in "$work/k.wrap" "${pin[@]}" >/dev/null
done
sim_kill 3
sim_kill 4
sim_start 4 --fail A4:6A82:always # another application's token

pico_cnf "$work/openssl.cnf" "pico-pin-source = file:$work/pin"
export OPENSSL_CONF=$work/openssl.cnf
selects() { grep -c '^> 00A404' "$PICO_SIM_LOG4" || true; }
loop_start "pico:object=k"
loop_wait_ok 20
foreign=$(selects)
three=$(signs 3)
sim_start 3
for n in $(seq 200); do
    [ "$(signs 3)" -gt "$three" ] && break
    sleep 0.05
done
[ "$(signs 3)" -gt "$three" ] || fail "device 3, plugged in after the key was loaded, never signed"
loop_wait_ok 20
sleep 4.5 # two more rescans
loop_stop
[ $(($(selects) - foreign)) -le 1 ] ||
    fail "the card that is not a Pico got $(($(selects) - foreign)) SELECTs from the rescans"
[ "$(loop_count fail)" = 0 ] || { grep ' fail ' "$loop_dir/out" | head -3 >&2; fail \
    "$(loop_count fail) signatures failed"; }
loop_verify "$work/pub.pem"
for i in 0 1 2; do
    [ "$(pin_tries $i)" = 3 ] || fail "PIN tries on device $((i + 1))"
done
echo "pool grew: device 3 made $(($(signs 3) - three)) of $(loop_count ok) signatures"
