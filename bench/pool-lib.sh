# SPDX-License-Identifier: Apache-2.0
#
# The pool benchmarks' common setup (bench/pool-run, bench/pool-nginx), sourced inside
# test/with-devices -n 4 with top_builddir and sign_ms set: four devices with one DKEK share,
# an EC P-256 key "pool" generated on device 1 and wrapped to $work/pool.wrap (restore it
# onto device I with `on I key unwrap --in "$work/pool.wrap" "${pinsrc[@]}"`), then every
# device restarted with the latency model (sign=$sign_ms: a real Pico HSM's ECDSA time).

export OPENSSL_MODULES="$top_builddir/provider/.libs"
pin=${PICO_PIN:-648219}
so=${PICO_SO_PIN:-3537363231383830}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
readers=("$PICO_READER1" "$PICO_READER2" "$PICO_READER3" "$PICO_READER4")
on() { "$top_builddir/tools/pico-hsm-tool" --reader "${readers[$1]}" "${@:2}"; }
share=000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F
verify=0020008106$(printf '%s' "$pin" | od -An -tx1 | tr -d ' \n')
echo "$pin" > "$work/pin"
pinsrc=(--pin-source "file:$work/pin")

for i in 0 1 2 3; do
    on $i init --yes --pin "$pin" --so-pin "$so" --dkek-shares 1 >/dev/null 2>&1
    "$top_builddir/test/tools/pcsc-apdu" $i 00A404000BE82B0601040181C31F020100 $verify \
        "8052000020$share" >/dev/null
done
on 0 key generate --type ec:prime256v1 --label pool "${pinsrc[@]}" >/dev/null 2>&1
on 0 key wrap --label pool --out "$work/pool.wrap" "${pinsrc[@]}" >/dev/null

# every device with the latency model, on its state
restart() {
    local i=$1 pidvar="PICO_SIM_PID$1" cmdvar="PICO_SIM_CMD$1" k
    kill "${!pidvar}" 2>/dev/null || true
    while kill -0 "${!pidvar}" 2>/dev/null; do sleep 0.01; done
    ${!cmdvar} --latency "sign=$sign_ms" &
    export "PICO_SIM_PID$i=$!"
    for k in $(seq 500); do
        "$top_builddir/test/tools/pcsc-apdu" $((i - 1)) 00A404000BE82B0601040181C31F020100 \
            2>/dev/null | grep -q ' 9000$' && return 0
        sleep 0.02
    done
    echo "device $i did not come back" >&2
    exit 1
}
for i in 1 2 3 4; do restart $i; done
