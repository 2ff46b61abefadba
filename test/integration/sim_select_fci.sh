#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# SELECT of the application answers the firmware's FCP (sc-hsm-protocol.md 1.2),
# the firmware's framing quirks hold, and an APDU round trip through pcscd + vpcd
# stays well under a millisecond (TCP_NODELAY/QUICKACK on the card side).
. "$(dirname "$0")/lib.sh"
need_devices

aid=E82B0601040181C31F0201
fcp=62228102000082010183020000840B2B0601040181C31F0201008A010585050001FF0606
mapfile -t r < <(apdu 0 "00A404000B${aid}00" "00A404000B${aid}" "00C0000024" \
    "00A4040C0B${aid}" "00200081" "00C0000010" "8050000000")
expect_eq "${r[0]}" "$fcp 9000" "SELECT with Le"
expect_eq "${r[1]}" " 6124" "SELECT without Le (case 3: 61xx)"
expect_eq "${r[2]}" "$fcp 9000" "GET RESPONSE after 6124"
expect_eq "${r[3]}" " 6A86" "SELECT P2=0C"
expect_eq "${r[4]}" " 63C3" "PIN status of an initialized device"
expect_eq "${r[5]}" " 6D00" "GET RESPONSE with nothing pending"
expect_eq "${r[6]}" "00100000000606 9000" "version query"

# EF.DIR and a long READ BINARY with an extended Le (2F02 is 443 bytes).
mapfile -t r < <(apdu 0 "00B12F00045402000000" "00B12F02000004540200000000")
expect_eq "${r[0]}" "61174F0BE82B0601040181C31F020150085069636F2D48534D 9000" "EF.DIR"
expect_eq "${#r[1]}" $((443 * 2 + 5)) "length of the 2F02 answer"
expect_match "${r[1]}" "^7F218201B6.*5F201045535049434F48534D54523030303031.* 9000$" "2F02 (device certificate, CHR ESPICOHSMTR00001)"

rtt=$(apdu -t 500 0 00200081 | sed -n 's/^rtt_us=//p')
echo "APDU round trip (median of 500): ${rtt} us"
[ "$rtt" -lt 5000 ] || fail "APDU round trip ${rtt} us: the vpcd Nagle/delayed-ACK stall is back"
