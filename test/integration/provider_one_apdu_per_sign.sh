#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A key operation costs one APDU: N signatures in one process send N SIGN
# APDUs and nothing else beyond the process's fixed start (select, list,
# key description, PIN status, VERIFY).
. "$(dirname "$0")/provider-lib.sh"
with_devices

pico_genkey EC group:P-256 bench
n=50
before=$(apdus)
before_sign=$(apdus 68)
run "$top_builddir/bench/provider_sign" "pico:object=bench?pin-value=$PIN" $n
total=$(( $(apdus) - before ))
signs=$(( $(apdus 68) - before_sign ))
echo "APDUs: $total in all, $signs SIGN, for $n signatures"
[ "$signs" -eq $n ] || fail "$signs SIGN APDUs for $n signatures"
[ $((total - signs)) -le 6 ] || fail "$((total - signs)) APDUs besides the signatures (at most 6)"
echo PASS
