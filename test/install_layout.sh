#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `make install DESTDIR=...` with another prefix installs exactly: the two
# programs, their man pages, the guides and the openssl.cnf example under
# share/doc, and pico.so in OpenSSL's modulesdir (the one configure found,
# whatever the prefix, so that plain `openssl` finds it) without libtool's .la.
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
printf 'print-dirs:\n\t@echo $(bindir) $(mandir) $(docdir) $(modulesdir)\n' >"$dest/print.mk"
read -r bindir mandir docdir modulesdir < <(mk -f Makefile -f "$dest/print.mk" print-dirs)
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
    "$docdir/README.md" "$docdir/pka.md" "$docdir/tls.md" "$docdir/backup.md" \
    "$docdir/examples/openssl-pico.cnf" \
    "$modulesdir/pico.so" | sort)
if [ "$actual" != "$expected" ]; then
    diff <(echo "$expected") <(echo "$actual") >&2 || true
    fail "installed files differ from the layout (- expected, + installed)"
fi
# the installed module is one OpenSSL can load
OPENSSL_MODULES="$dest$modulesdir" openssl list -provider pico -providers | grep -qi pico ||
    fail "openssl cannot load the installed pico.so"

mk uninstall >"$dest/install.log" 2>&1 || { cat "$dest/install.log" >&2; fail "make uninstall"; }
left=$(cd "$dest" && find . -type f ! -name print.mk ! -name install.log)
[ -z "$left" ] || fail "left after make uninstall: $left"
echo "PASS: install layout ($modulesdir/pico.so, $docdir)"
