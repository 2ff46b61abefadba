#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test/with-devices: two devices in one harness (primary and PKA secondary),
# two harnesses at once, each private (its own pcscd, readers and state), the
# system's /run/pcscd untouched, the command's exit status passed through, and
# nothing left running afterwards.
. "$(dirname "$0")/lib.sh"
wd=$top_srcdir/test/with-devices

inner() { # prints the readers and this harness's state files, signs on device 2
    cat <<'IN'
set -e
opensc-tool -l | grep -c 'Virtual Pico HSM'
for r in 0 1; do opensc-tool -r $r -n; done
echo "$PICO_READER1|$PICO_READER2|$PICO_STATE1|$PICO_STATE2"
IN
}
sys_before=$(ls -la /run/pcscd 2>/dev/null || true)

"$wd" -n 2 -- bash -c "$(inner)" >"$tmp/a" 2>&1 &
a=$!
"$wd" -n 2 -- bash -c "$(inner)" >"$tmp/b" 2>&1 &
b=$!
wait $a || fail "harness A: $(cat "$tmp/a")"
wait $b || fail "harness B: $(cat "$tmp/b")"
for f in a b; do
    expect_eq "$(sed -n 1p "$tmp/$f")" 2 "readers with a virtual device in harness $f"
    expect_eq "$(sed -n 2,3p "$tmp/$f" | grep -c '^SmartCard-HSM')" 2 "cards in harness $f"
    expect_match "$(sed -n 4p "$tmp/$f")" "^Virtual Pico HSM 00 00\|Virtual Pico HSM 00 01\|" "readers"
done
[ "$(sed -n 4p "$tmp/a" | cut -d'|' -f3)" != "$(sed -n 4p "$tmp/b" | cut -d'|' -f3)" ] ||
    fail "two harnesses shared a state file"
expect_eq "$(ls -la /run/pcscd 2>/dev/null || true)" "$sys_before" "the system's /run/pcscd"

# Device 2 works for real inside a harness: PIN, keygen and a signature on it.
"$wd" -n 2 -- bash -c '
    set -e
    . "$top_srcdir/test/integration/lib.sh"
    export P11_SLOT=1
    echo two >"$tmp/msg"
    p11 --login --pin "$PICO_PIN" --keypairgen --key-type EC:prime256v1 --id 02 >/dev/null
    pkcs15-tool --reader 1 --read-public-key 02 -o "$tmp/pub.pem" >/dev/null
    p11 --login --pin "$PICO_PIN" --sign --mechanism ECDSA-SHA256 --id 02 -i "$tmp/msg" \
        -o "$tmp/sig" --signature-format openssl >/dev/null
    openssl dgst -sha256 -verify "$tmp/pub.pem" -signature "$tmp/sig" "$tmp/msg"
    grep -q "^> 8068" "$PICO_SIM_LOG2"
    ! grep -q "^> 8068" "$PICO_SIM_LOG1"' >"$tmp/c" 2>&1 || fail "sign on device 2: $(cat "$tmp/c")"

# Exit status passes through; nothing of the harness survives it.
set +e
"$wd" -- sh -c 'echo $PICO_SIM_PID1 >'"$tmp/pid"'; exit 7'
rc=$?
set -e
expect_eq "$rc" 7 "exit status of the command"
kill -0 "$(cat "$tmp/pid")" 2>/dev/null && fail "the sim outlived its harness"
true
