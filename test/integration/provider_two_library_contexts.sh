#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The provider loaded in two library contexts of one process (two libraries
# that each load it): when one context goes, the other's keys go on signing,
# verifying and reporting errors; nothing it used is freed under it (run
# under valgrind, or ASan in test/asan-check: no invalid read or write).
. "$(dirname "$0")/provider-lib.sh"
with_devices

pico_genkey EC group:P-256 both
pico_genkey RSA rsa_keygen_bits:2048 both-rsa
for label in both both-rsa; do
    run memcheck -q --error-exitcode=99 --errors-for-leak-kinds=none -- \
        "$top_builddir/test/tools/two-libctx" "pico:object=$label?pin-value=$PIN"
done
echo PASS
