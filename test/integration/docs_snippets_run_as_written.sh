#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Every ```sh block of README.md and doc/*.md runs as written, in order, one
# shell per file (a block may use what an earlier one of its file set up), in
# a fresh directory beside fresh virtual devices, stdin not a terminal: the
# docs cannot drift from the tools again.
#
# A block that cannot run here is marked on the line just before its fence:
#     <!-- doc-test: skip: REASON -->
# (a real terminal, a long-running server, placeholders for tokens that do not
# exist, the build itself). A marker without a reason, or one that is not
# followed by a ```sh block, fails the test. Other blocks (```ini, ```nginx,
# plain ```) are not shell and are not run.
#
# `build/` in that directory is the build tree and the tools are on PATH, as
# after `make install`. In provider order pico-first, "-provider default
# -provider pico" in the snippets is swapped: the docs say either order works.
set -euo pipefail
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
export top_srcdir top_builddir
docs=()
for f in "$top_srcdir"/README.md "$top_srcdir"/doc/*.md; do docs+=("${f#"$top_srcdir"/}"); done

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# extract FILE: the runnable blocks of FILE as one script (with their line
# numbers, for the failure message); exits 1 on a bad marker.
extract() {
    awk -v file="$1" '
        function bad(msg) { printf "FAIL: %s:%d: %s\n", file, NR, msg > "/dev/stderr"; err = 1 }
        inblock { if ($0 ~ /^```[ \t]*$/) { inblock = 0; if (run) print "" } else if (run) print; next }
        pending && !/^```/ { bad("doc-test marker not followed by a code block"); pending = 0 }
        /^<!-- doc-test:/ {
            if ($0 !~ /^<!-- doc-test: skip: [^ ].* -->$/) bad("marker is not <!-- doc-test: skip: REASON -->")
            pending = 1; next
        }
        /^```/ {
            lang = substr($0, 4); sub(/[ \t]+$/, "", lang)
            if (pending && lang != "sh") bad("doc-test marker before a block that is not ```sh")
            run = (lang == "sh" && !pending); pending = 0; inblock = 1
            if (run) printf "__snippet=%s:%d\n", file, NR + 1
            next
        }
        END { if (inblock) bad("unterminated code block"); exit err }
    ' "$top_srcdir/$1"
}

# Outside the harness: check the markers, then run each file in fresh devices, in both orders.
if [ -z "${PICO_READER1:-}" ]; then
    for doc in "${docs[@]}"; do
        (cd "$top_srcdir" && extract "$doc" >/dev/null) || fail "bad doc-test markers in $doc"
    done
    if [ "$(id -u)" != 0 ]; then
        echo "SKIP: the PC/SC harness needs root (namespaces)"
        exit 77
    fi
    for order in ${PICO_ORDER:-default-first pico-first}; do
        for doc in "${docs[@]}"; do
            (cd "$top_srcdir" && extract "$doc") | grep -q '^__snippet=' || continue
            echo "== $doc, provider order $order" >&2
            PICO_ORDER=$order "$top_srcdir/test/with-devices" -- bash "$0" "$doc" ||
                fail "$doc in provider order $order"
        done
    done
    echo "PASS: every shell snippet of ${docs[*]} runs as written"
    exit 0
fi

doc=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
ln -s "$top_builddir" "$work/build"
{
    # a failing command names its block; the snippets themselves run unchanged
    echo 'set -eE'
    echo 'trap '\''echo "FAIL: the snippet at $__snippet failed (status $?): $BASH_COMMAND" >&2'\'' ERR'
    echo 'set -x'
    (cd "$top_srcdir" && extract "$doc")
} >"$work/snippets.sh"
if [ "${PICO_ORDER:-}" = pico-first ]; then
    sed -i 's/-provider default -provider pico/-provider pico -provider default/g' "$work/snippets.sh"
fi
cd "$work"
PATH="$top_builddir/tools:$top_builddir/sim:$PATH" \
    OPENSSL_MODULES="$top_builddir/provider/.libs" bash "$work/snippets.sh" </dev/null
