#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A master process loads a device key and forks workers that sign with it, as
# nginx does: each child notices the fork, opens its own PC/SC context and
# signs without a new SELECT (which would log out its siblings), and the
# master still signs afterwards. Both with and without a signature before the
# fork.
. "$(dirname "$0")/provider-lib.sh"
with_devices

pico_genkey EC group:P-256 forked
echo "$PIN" > "$work/pin"
uri="pico:object=forked?pin-source=file:$work/pin"
run "$top_builddir/test/tools/fork-sign" "$uri" 3 presign
run "$top_builddir/test/tools/fork-sign" "$uri" 3
echo PASS
