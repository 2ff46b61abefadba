#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A device pool: a key generated on device 1, wrapped and restored onto devices 2-4 (one
# DKEK share on all four), loaded once through a pico: URI without token= or reader=.
# Its signatures are spread over the four devices (each one's APDU log shows SIGNs) and
# verify with plain openssl; also from 16 threads with the application's PIN (each device's
# first login takes it). A device killed in the middle of the loop costs no failed
# signature (the others serve); once it is back it signs again.
. "$(dirname "$0")/provider-lib.sh"
. "$(dirname "$0")/fault-lib.sh"
with_devices -n 4

SEL=00A404000BE82B0601040181C31F020100
VERIFY=0020008106363438323139 # PIN 648219
SHARE=000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F
echo "$PIN" > "$work/pin"
pin=(--pin-source "file:$work/pin")
readers=("$PICO_READER1" "$PICO_READER2" "$PICO_READER3" "$PICO_READER4")
on() { TOOL_READER=${readers[$1]} tool "${@:2}"; }
signs() { local log=PICO_SIM_LOG$1; grep -c '^> 8068' "${!log}" || true; }

# one DKEK share on all four (VERIFY first: the share is sealed at once)
for i in 0 1 2 3; do
    run on $i init --yes --pin "$PIN" --so-pin "$SOPIN" --dkek-shares 1 >/dev/null
    "$top_builddir/test/tools/pcsc-apdu" $i $SEL $VERIFY "8052000020$SHARE" > "$work/imp$i"
    tail -1 "$work/imp$i" | grep -q '^ 610A$\| 9000$' || fail "share import on $i: $(cat "$work/imp$i")"
done
run on 0 key generate --type ec:prime256v1 --label k "${pin[@]}" >/dev/null
run on 0 key export-public --label k -o "$work/pub.pem"
run on 0 key wrap --label k --out "$work/k.wrap" "${pin[@]}"
for i in 1 2 3; do
    run on $i key unwrap --in "$work/k.wrap" "${pin[@]}" >/dev/null
done

pico_cnf "$work/openssl.cnf" "pico-pin-source = file:$work/pin"
export OPENSSL_CONF=$work/openssl.cnf
for i in 1 2 3 4; do before[$i]=$(signs $i); done

# spread: one loaded key, every device signs
loop_start "pico:object=k"
loop_wait_ok 40
for i in 1 2 3 4; do
    [ "$(signs $i)" -gt "${before[$i]}" ] || fail "device $i made no signature of the pool's 40"
done

# failover: device 3 dies under the loop; no signature fails
sim_kill 3
loop_wait_ok 30
[ "$(loop_count fail)" = 0 ] || { grep ' fail ' "$loop_dir/out" | head -3 >&2; fail \
    "$(loop_count fail) signatures failed while another device held the key"; }
# rejoin: back, it signs again (after the pool's back-off)
sim_start 3
back=$(signs 3)
for n in $(seq 200); do
    [ "$(signs 3)" -gt "$back" ] && break
    sleep 0.05
done
[ "$(signs 3)" -gt "$back" ] || fail "device 3 does not sign again once back"
loop_wait_ok 20
loop_stop
[ "$(loop_count fail)" = 0 ] || { grep ' fail ' "$loop_dir/out" | head -3 >&2; fail \
    "$(loop_count fail) signatures failed"; }
loop_verify "$work/pub.pem"
for i in 0 1 2 3; do
    [ "$(pin_tries $i)" = 3 ] || fail "PIN tries on device $((i + 1)) after the pool's logins"
done

# threads, the PIN from the application (its passphrase callback, no pin-source): the one
# PIN serves every member's first login; a busy device is skipped, so all four sign
pico_cnf "$work/openssl.cnf"
for i in 1 2 3 4; do mid[$i]=$(signs $i); done
run "$top_builddir/test/tools/thread-sign" store "pico:object=k" "$work/pin" 16 "$work/t"
for i in 1 2 3 4; do
    [ "$(signs $i)" -gt "${mid[$i]}" ] || fail "device $i made none of the threads' signatures"
done
for i in $(seq 0 15); do
    openssl dgst -sha256 -verify "$work/pub.pem" -signature "$work/t.$i.sig" "$work/t.$i.msg" \
        >/dev/null || fail "thread $i: the signature does not verify"
done
for i in 0 1 2 3; do
    [ "$(pin_tries $i)" = 3 ] || fail "PIN tries on device $((i + 1)) after the threads"
done
echo "pool: $(loop_count ok) signed, spread $(for i in 1 2 3 4; do
    printf '%s ' $(($(signs $i) - ${before[$i]})); done)"
