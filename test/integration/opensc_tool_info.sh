#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# OpenSC binds its sc-hsm driver to the virtual device by ATR and reads its version.
. "$(dirname "$0")/lib.sh"
need_devices

atr=$(opensc-tool -r 0 -a)
expect_eq "$atr" "3b:fe:18:00:00:81:31:fe:45:80:31:81:54:48:53:4d:31:73:80:21:40:81:07:fa" "ATR"
name=$(opensc-tool -r 0 -n)
expect_eq "$name" "SmartCard-HSM version 6.6" "card name"
info=$(p11 -L)
expect_match "$info" "token label *: Pico-HSM \(UserPIN\)" "pkcs11-tool -L"
expect_match "$info" "token manufacturer *: Pol Henarejos" "pkcs11-tool -L"
expect_match "$info" "PIN initialized" "pkcs11-tool -L"
