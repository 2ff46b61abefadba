#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The layers of design.md, checked on the sources: the provider and the store
# reach the device through common/device.h only (no command layer, transport
# or APDU codec, no algorithm bytes), as does the PKCS#11 module (its one
# command-layer use: the PIN and PKA status), and the virtual device shares no code
# with common/ (a shared mistake would pass every test and fail on a device).
set -euo pipefail
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
cd "$top_srcdir"
status=0
bad() { echo "FAIL: $*" >&2; status=1; }

for f in provider/*.[ch] store/*.[ch]; do
    grep -nE '#include "(schsm|apdu|pcsc|transport|device_int)\.h"' "$f" &&
        bad "$f includes the command layer"
    grep -nE '\bPICO_ALG_|\bpico_schsm_' "$f" && bad "$f names device algorithm bytes or commands"
done
# the PKCS#11 module too: common/device.h, and the PIN and PKA status of schsm.h, no transport
for f in pkcs11/*.[ch]; do
    grep -nE '#include "(apdu|pcsc|transport|device_int)\.h"' "$f" &&
        bad "$f includes the transport or the device's internals"
    grep -nE '\bPICO_ALG_|\bpico_schsm_(xfer|sign|decipher|select)' "$f" &&
        bad "$f names device algorithm bytes or sends commands itself"
done
# every header the virtual device includes is its own
for f in sim/*.[ch]; do
    for h in $(sed -n 's/^#include "\(.*\)"/\1/p' "$f"); do
        [ -f "sim/$h" ] || [ "$h" = config.h ] || bad "$f includes $h from outside sim/"
    done
done
[ $status = 0 ] && echo "PASS: layers kept"
exit $status
