#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test/with-devices -n 4: four devices in one harness, over two vpcd entries
# (Debian's vpcd holds two readers per loaded copy of the driver), each its own
# card: a key generated on one device is found on that device only, and
# a signature made there verifies with plain openssl.
. "$(dirname "$0")/lib.sh"
wd=$top_srcdir/test/with-devices

OUT=$tmp OPENSSL_MODULES=$top_builddir/provider/.libs "$wd" -n 4 -- bash -c '
    set -e
    . "$top_srcdir/test/integration/lib.sh"
    opensc-tool -l | grep -c "Virtual Pico HSM" >"$OUT/readers"
    echo "$PICO_READER1|$PICO_READER2|$PICO_READER3|$PICO_READER4" >"$OUT/names"
    tool() { "$top_builddir/tools/pico-hsm-tool" --reader "$1" "${@:2}"; }
    for i in 1 2 3 4; do
        r=PICO_READER$i
        tool "${!r}" key generate --type ec:prime256v1 --label "dev$i" --pin "$PICO_PIN" >/dev/null
    done
    for i in 1 2 3 4; do
        r=PICO_READER$i
        tool "${!r}" key list >"$OUT/list$i"
        echo "device $i signs" >"$OUT/msg"
        openssl pkeyutl -provider pico -provider default -sign -rawin -digest sha256 \
            -inkey "pico:reader=${!r// /%20};object=dev$i?pin-value=$PICO_PIN" \
            -in "$OUT/msg" -out "$OUT/sig$i"
        openssl pkey -provider pico -provider default -pubin \
            -in "pico:reader=${!r// /%20};object=dev$i;type=public" -pubout -out "$OUT/pub$i"
        openssl pkeyutl -verify -rawin -digest sha256 -pubin -inkey "$OUT/pub$i" \
            -in "$OUT/msg" -sigfile "$OUT/sig$i" >/dev/null
        log=PICO_SIM_LOG$i
        grep -q "^> 8068" "${!log}"
    done' >"$tmp/out" 2>&1 || fail "four devices: $(cat "$tmp/out")"

expect_eq "$(cat "$tmp/readers")" 4 "readers with a virtual device"
expect_eq "$(cat "$tmp/names")" \
    "Virtual Pico HSM 00 00|Virtual Pico HSM 00 01|Virtual Pico HSM 2 00 00|Virtual Pico HSM 2 00 01" \
    "reader names"
for i in 1 2 3 4; do
    for j in 1 2 3 4; do
        if [ "$i" = "$j" ]; then
            grep -q "dev$j" "$tmp/list$i" || fail "device $i lost its key: $(cat "$tmp/list$i")"
        else
            grep -q "dev$j" "$tmp/list$i" && fail "device $i lists device $j's key"
        fi
    done
done
for i in 2 3 4; do
    cmp -s "$tmp/pub1" "$tmp/pub$i" && fail "devices 1 and $i hold the same key"
done
true
