#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# OpenSSH end to end with keys on a PIN + PKA device (one PKA key, a PEM file),
# through pico-pkcs11.so: sshd started here on loopback in the harness's own
# network namespace, a user whose authorized_keys holds one device key at a
# time (from `ssh-keygen -D`); `ssh -I` logs in with the EC P-256, EC P-384
# and RSA-2048 key, the PIN asked for through SSH_ASKPASS; `ssh-add -s` puts
# the keys in ssh-agent and ssh logs in through it; a wrong PIN fails cleanly
# and costs one try; the PIN is in no log.
. "$(dirname "$0")/lib.sh"
need_devices --blank
command -v sshd >/dev/null || command -v /usr/sbin/sshd >/dev/null ||
    { echo "SKIP: no sshd (openssh-server)"; exit 77; }

module=$top_builddir/pkcs11/.libs/pico-pkcs11.so
PIN=648219
SOPIN=3537363231383830
tool() { "$top_builddir/tools/pico-hsm-tool" --reader "$PICO_READER1" "$@"; }
m() { pkcs11-tool --module "$module" "$@"; }
tries() {
    local sw
    sw=$(apdu 0 00A404000BE82B0601040181C31F020100 00200081 | tail -1 | tr -d ' ')
    case "$sw" in 63C*) echo "${sw:3:1}" ;; 9000) echo verified ;; *) echo "$sw" ;; esac
}

# 1. the device (PIN + PKA) and its three keys; the module's settings name the PKA key
echo "$PIN" >"$tmp/pin"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$tmp/pka.pem" 2>/dev/null
tool init --yes --pin "$PIN" --so-pin "$SOPIN" --pka 1/1 --pin-and-pka >/dev/null
tool pka register --key "file:$tmp/pka.pem" --pin-source "file:$tmp/pin" >/dev/null
printf 'pka-key = file:%s\ndebug = %s\n' "$tmp/pka.pem" "$tmp/debug.log" >"$tmp/p11.conf"
export PICO_PKCS11_CONFIG=$tmp/p11.conf
for k in "EC:prime256v1 p256 01" "EC:secp384r1 p384 02" "rsa:2048 rsa2048 03"; do
    set -- $k
    m --login --pin "$PIN" --keypairgen --key-type "$1" --label "$2" --id "$3" >/dev/null
done
# 2. the public keys for authorized_keys, read without a login
ssh-keygen -D "$module" >"$tmp/device.pub"
expect_eq "$(wc -l <"$tmp/device.pub")" 3 "keys from ssh-keygen -D"
grep ' p256$' "$tmp/device.pub" | grep -q '^ecdsa-sha2-nistp256 ' || fail "no P-256 key"
grep ' p384$' "$tmp/device.pub" | grep -q '^ecdsa-sha2-nistp384 ' || fail "no P-384 key"
grep ' rsa2048$' "$tmp/device.pub" | grep -q '^ssh-rsa ' || fail "no RSA key"

# 3. sshd on 127.0.0.1:2222 (the namespace's own loopback), root's keys from our file
mkdir -p /run/sshd
ssh-keygen -q -t ed25519 -N '' -f "$tmp/host_key"
cat >"$tmp/sshd_config" <<EOC
ListenAddress 127.0.0.1:2222
HostKey $tmp/host_key
PidFile $tmp/sshd.pid
AuthorizedKeysFile $tmp/authorized_keys
StrictModes no
UsePAM no
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
LogLevel VERBOSE
EOC
"$(command -v sshd || echo /usr/sbin/sshd)" -f "$tmp/sshd_config" -E "$tmp/sshd.log"
trap 'kill "$(cat "$tmp/sshd.pid" 2>/dev/null)" 2>/dev/null; rm -rf "$tmp"' EXIT
# the PIN as ssh asks for it (no terminal here): an askpass program
printf '#!/bin/sh\ncat %s\n' "$tmp/askpin" >"$tmp/askpass"
chmod +x "$tmp/askpass"
export SSH_ASKPASS=$tmp/askpass SSH_ASKPASS_REQUIRE=force DISPLAY=none
sshopts=(-F /dev/null -p 2222 -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null
    -o BatchMode=no -o PasswordAuthentication=no -o KbdInteractiveAuthentication=no)

# 4. ssh -I with each key: authorized_keys holds that one only
echo "$PIN" >"$tmp/askpin"
for label in p256 p384 rsa2048; do
    grep " $label\$" "$tmp/device.pub" >"$tmp/authorized_keys"
    out=$(ssh "${sshopts[@]}" -I "$module" root@127.0.0.1 echo logged-in-with-$label </dev/null)
    expect_eq "$out" "logged-in-with-$label" "ssh -I with $label"
done
expect_eq "$(tries)" 3 "tries after the logins"
# 5. a wrong PIN: ssh fails cleanly (no key offered), one try spent, not more
echo 111111 >"$tmp/askpin"
if ssh "${sshopts[@]}" -I "$module" root@127.0.0.1 true </dev/null 2>"$tmp/err"; then
    fail "ssh logged in with a wrong PIN"
fi
expect_match "$(cat "$tmp/err")" "Permission denied" "ssh with a wrong PIN"
expect_eq "$(tries)" 2 "tries after the wrong PIN"
# 6. ssh-add -s: the agent holds the device keys, ssh logs in through it; the agent's
#    module holds the PIN (cache-pin) and logs in again after another client's SELECT
echo "$PIN" >"$tmp/askpin"
printf 'pka-key = file:%s\ndebug = %s\ncache-pin = yes\n' "$tmp/pka.pem" "$tmp/debug.log" \
    >"$tmp/agent.conf"
eval "$(PICO_PKCS11_CONFIG=$tmp/agent.conf ssh-agent -a "$tmp/agent.sock" -P "$module" -s)" \
    >/dev/null
trap 'kill "$SSH_AGENT_PID" "$(cat "$tmp/sshd.pid" 2>/dev/null)" 2>/dev/null; rm -rf "$tmp"' EXIT
ssh-add -s "$module" </dev/null
expect_eq "$(ssh-add -L | wc -l)" 3 "keys in the agent"
expect_eq "$(tries)" 3 "tries after ssh-add" # (its SELECT logs the agent's module out)
grep ' p384$' "$tmp/device.pub" >"$tmp/authorized_keys"
out=$(ssh "${sshopts[@]}" root@127.0.0.1 echo through-the-agent </dev/null)
expect_eq "$out" through-the-agent "ssh through ssh-agent"
expect_match "$(cat "$tmp/debug.log")" "SIGN refused \(sw=6982\): logging in again" \
    "the agent's login again after another client's SELECT"
# 7. the PIN is in no log (sshd's, the module's debug log, the device's)
for f in "$tmp/sshd.log" "$tmp/debug.log" "$PICO_SIM_LOG1"; do
    ! grep -q "$PIN" "$f" || fail "the PIN is in $f"
done
echo PASS
