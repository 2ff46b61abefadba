#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `make install DESTDIR=...` with another prefix installs exactly: the two
# programs, their man pages, the guides and the openssl.cnf example under
# share/doc, and pico.so in OpenSSL's modulesdir (the one configure found,
# whatever the prefix, so that plain `openssl` finds it) without libtool's .la;
# pico-pkcs11.so and its registration pico.module in p11-kit's directories.
# `make uninstall` then leaves no file behind.
set -euo pipefail
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
fail() { echo "FAIL: $*" >&2; exit 1; }
prefix=/opt/pico-layout-test
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
mk() { env -u MAKEFLAGS -u MFLAGS make -s -C "$top_builddir" prefix="$prefix" DESTDIR="$dest" "$@"; }

# the directories as this build's Makefile evaluates them for that prefix
printf 'print-dirs:\n\t@echo $(bindir) $(mandir) $(docdir) $(modulesdir) %s\n' \
    '$(p11moduledir) $(p11moduleconfigsdir)' >"$dest/print.mk"
read -r bindir mandir docdir modulesdir p11moduledir p11configsdir \
    < <(mk -f Makefile -f "$dest/print.mk" print-dirs)
case "$modulesdir" in
"$prefix"/*) ;; # configure --with-modulesdir='${libdir}/...' (as distcheck does)
*)
    expect=$(pkg-config --variable=modulesdir libcrypto)
    [ "$modulesdir" = "$expect" ] || grep -q -- '--with-modulesdir' "$top_builddir/config.log" ||
        fail "modulesdir $modulesdir is not OpenSSL's ($expect)"
    ;;
esac

mk install >"$dest/install.log" 2>&1 || { cat "$dest/install.log" >&2; fail "make install"; }
actual=$(cd "$dest" && find . ! -type d ! -name print.mk ! -name install.log | sed 's|^\.||' | sort)
expected=$(printf '%s\n' "$bindir/pico-hsm-tool" "$bindir/pico-hsm-sim" \
    "$mandir/man1/pico-hsm-tool.1" "$mandir/man1/pico-hsm-sim.1" "$mandir/man7/pico-provider.7" \
    "$mandir/man5/pico-pkcs11.5" \
    "$docdir/README.md" "$docdir/pka.md" "$docdir/tls.md" "$docdir/ssh.md" "$docdir/backup.md" \
    "$docdir/examples/openssl-pico.cnf" \
    "$modulesdir/pico.so" "$p11moduledir/pico-pkcs11.so" "$p11configsdir/pico.module" | sort)
if [ "$actual" != "$expected" ]; then
    diff <(echo "$expected") <(echo "$actual") >&2 || true
    fail "installed files differ from the layout (- expected, + installed)"
fi
# the installed PKCS#11 module is one a PKCS#11 application can load
info=$(pkcs11-tool --module "$dest$p11moduledir/pico-pkcs11.so" --show-info 2>&1) || true
grep -q 'Pico HSM' <<<"$info" || fail "pkcs11-tool cannot load the installed pico-pkcs11.so: $info"
# the installed module is one OpenSSL can load
OPENSSL_MODULES="$dest$modulesdir" openssl list -provider pico -providers | grep -qi pico ||
    fail "openssl cannot load the installed pico.so"

mk uninstall >"$dest/install.log" 2>&1 || { cat "$dest/install.log" >&2; fail "make uninstall"; }
left=$(cd "$dest" && find . -type f ! -name print.mk ! -name install.log)
[ -z "$left" ] || fail "left after make uninstall: $left"
echo "PASS: install layout ($modulesdir/pico.so, $docdir)"
