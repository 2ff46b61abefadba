#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# What a newcomer reads from pico-hsm-tool: a reader name that matches nothing
# is shown as given, with the readers that exist (no stray double space);
# hints name the tool's own options (--pka-pin-source for a PKA key's PIN,
# --pin-last-try, never the URI attributes); --type takes pkcs11-tool's
# EC:prime256v1 in any case; every reporting subcommand answers --json, errors
# too (on stdout), and labels come out as valid UTF-8 JSON; an empty second
# reader is no error in a -v trace; --help names --version; the man pages hold
# no raw control characters and point at each other.
. "$(dirname "$0")/provider-lib.sh"
with_devices -n 2

# the quoted name a variable such as t="... --reader 'Pico'" hands over
status=0
"$top_builddir/tools/pico-hsm-tool" --reader "'Pico'" status 2>"$work/err" || status=$?
cat "$work/err" >&2
expect() { grep -qF -- "$1" "$work/err" || fail "${2:-stderr} lacks: $1"; }
[ "$status" = 4 ] || fail "unknown reader: exit $status instead of 4"
expect "reader=\"'Pico'\""
expect "readers: \"$PICO_READER1\", \"$PICO_READER2\""
! grep -q '  ' "$work/err" || fail "double space in the error"

expect_eq() { [ "$1" = "$2" ] || fail "${3:-value}: expected '$2', got '$1'"; }
echo "$PIN" >"$work/pin"
echo 999999 >"$work/wrong"
# json FILE: FILE holds exactly one JSON object (one line); prints it pretty for the log
json() {
    [ "$(wc -l <"$1")" = 1 ] || fail "not one line of JSON: $(cat "$1")"
    python3 -c 'import json,sys; print(json.dumps(json.loads(open(sys.argv[1], "rb").read().decode("utf-8"))))' \
        "$1" >&2 || fail "not UTF-8 JSON: $(cat -v "$1")"
}
# jq_ FILE EXPR: a Python expression on the object d
jq_() { python3 -c 'import json,sys; d=json.loads(open(sys.argv[1], "rb").read().decode("utf-8")); print(eval(sys.argv[2]))' "$@"; }

# --type in pkcs11-tool's spelling, any case; labels that are not plain ASCII
label=$(printf 'caf\xc3\xa9 "q" \\ \xff\x01 \xe2\x82\xac')
run tool key generate --type EC:prime256v1 --label "$label" --pin-source "file:$work/pin" --json \
    >"$work/out"
json "$work/out"
expect_eq "$(jq_ "$work/out" 'd["curve"]')" prime256v1 "curve of EC:prime256v1"
run tool key generate --type Ec:P-384 --label p384 --pin-source "file:$work/pin" >/dev/null
run tool key generate --type RSA:1024 --label rsa --pin-source "file:$work/pin" >/dev/null
run tool key list --json >"$work/out"
json "$work/out"
# the valid sequences as they are, the stray bytes as U+FFFD, the control character escaped
expect_eq "$(jq_ "$work/out" 'ascii(d["keys"][0]["label"])')" \
    "'caf\\xe9 \"q\" \\\\ \\ufffd\\x01 \\u20ac'" "label through JSON"
expect_eq "$(jq_ "$work/out" '[k["curve"] for k in d["keys"]]')" "['prime256v1', 'secp384r1', None]"

# --json on every reporting subcommand, errors as JSON on stdout
jrun() { "$@" >"$work/out" 2>"$work/err" </dev/null || fail "failed: $*: $(cat "$work/err")"; json "$work/out"; }
jfail() {
    local code=$1 status=0
    shift
    "$@" >"$work/out" 2>"$work/err" </dev/null || status=$?
    [ "$status" = "$code" ] || fail "exit $status instead of $code: $*"
    json "$work/out"
    expect_eq "$(jq_ "$work/out" 'd["error"]["exit_code"]')" "$code" "exit code in the JSON error"
    [ -s "$work/err" ] || fail "no message on stderr beside the JSON error: $*"
}
jrun tool --json status
jrun tool pin status --json
jrun tool pin verify --pin-source "file:$work/pin" --json
jrun tool pin change --pin-source "file:$work/pin" --new-pin-source "file:$work/pin" --json
expect_eq "$(jq_ "$work/out" 'd["changed"]')" True "pin change --json"
jrun tool pin unblock --so-pin "$SOPIN" --new-pin-source "file:$work/pin" --json
expect_eq "$(jq_ "$work/out" 'd["user_pin"]["tries"]')" 3 "pin unblock --json"
run openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$work/pka.pem"
jrun tool pka export --key "file:$work/pka.pem" -o "$work/pka.req" --json
expect_eq "$(jq_ "$work/out" 'd["bytes"]')" "$(stat -c %s "$work/pka.req")" "pka export --json"
jfail 2 tool --json frobnicate
jfail 2 tool pka export --key "file:$work/pka.pem" -o - --json
jfail 3 tool pin verify --pin-source "file:$work/wrong" --json
jfail 1 tool key export-public --label nothing --json
jfail 4 tool --reader nothing status --json

# hints name the tool's options: a PKA key's PIN on a PKCS#11 token (SoftHSM2)
softhsm=/usr/lib/softhsm/libsofthsm2.so
export SOFTHSM2_CONF=$work/softhsm2.conf
mkdir -p "$work/tokens"
echo "directories.tokendir = $work/tokens" >"$SOFTHSM2_CONF"
run softhsm2-util --init-token --free --label pka --pin 1234 --so-pin 5678 >/dev/null
run pkcs11-tool --module "$softhsm" --token-label pka --login --pin 1234 --keypairgen \
    --key-type EC:prime256v1 --label pka-soft --id 01 >/dev/null
k="pkcs11:token=pka;object=pka-soft?module-path=$softhsm"
run tool init --yes --pin-source "file:$work/pin" --so-pin "$SOPIN" --pka 1/1 >/dev/null
run tool pka register --key "$k&pin-value=1234" --pin-source "file:$work/pin" >/dev/null
run_fails tool key generate --type ec:prime256v1 --label x --pin-source "file:$work/pin" \
    --pka-key "$k" </dev/null
grep -q 'hint: .*--pka-pin-source' "$work/err" || fail "the PKA key's PIN hint does not name --pka-pin-source"
! grep -q 'hint: give --pin-source' "$work/err" || fail "hint names --pin-source for a PKA key's PIN"
SOFT_PIN=1234 run tool key generate --type ec:prime256v1 --label x --pin-source "file:$work/pin" \
    --pka-key "$k" --pka-pin-source env:SOFT_PIN >/dev/null

# one try left: the refusal names --pin-last-try, not the URI's pin-last-try=yes
run tool init --yes --pin-source "file:$work/pin" --so-pin "$SOPIN" >/dev/null
tool pin verify --pin-source "file:$work/wrong" 2>/dev/null && fail "a wrong PIN was taken"
tool pin verify --pin-source "file:$work/wrong" 2>/dev/null && fail "a wrong PIN was taken"
expect_eq "$(pin_tries)" 1 "tries left"
run_fails tool key generate --type ec:prime256v1 --label y --pin-source "file:$work/pin"
grep -q -- '--pin-last-try' "$work/err" || fail "the last try refusal does not name --pin-last-try"
! grep -q 'pin-last-try=yes' "$work/err" || fail "the tool names the URI attribute pin-last-try=yes"
run tool pin verify --pin-source "file:$work/pin" --pin-last-try >/dev/null

# an empty reader (the second device gone) is skipped, and no error in the trace
kill "$PICO_SIM_PID2"
while kill -0 "$PICO_SIM_PID2" 2>/dev/null; do sleep 0.01; done
sleep 0.3
"$top_builddir/tools/pico-hsm-tool" -v status >"$work/out" 2>"$work/err" || fail "-v status failed"
grep -q "^Reader: *$PICO_READER1" "$work/out" || fail "status of the first reader not shown"
! grep -E '\bERR\b' "$work/err" || fail "-v status calls an empty reader an error"

"$top_builddir/tools/pico-hsm-tool" --help | grep -q -- '--version' || fail "--help lacks --version"
"$top_builddir/tools/pico-hsm-tool" --version | grep -q '^pico-hsm-tool [0-9]' || fail "--version"

for m in "$top_srcdir"/doc/*.[17]; do
    ! LC_ALL=C grep -nP '[\x00-\x08\x0b-\x1f\x7f]' "$m" || fail "raw control character in $m"
done
see_also() { sed -n '/^\.SH SEE ALSO/,$p' "$top_srcdir/doc/$1" | grep -q "^\.BR $2 ($3)" ||
    fail "SEE ALSO of $1 lacks $2($3)"; }
see_also pico-provider.7 pico-hsm-tool 1
see_also pico-hsm-tool.1 pico-provider 7
echo "PASS: tool messages for newcomers"
