# SPDX-License-Identifier: Apache-2.0
#
# Helpers for the fault tests, sourced after provider-lib.sh: a long-running
# signing loop (test/tools/sign-loop) in the background, and faults inside the
# harness's namespaces (pcscd restarted, the virtual device killed).
# Every wait is bounded: a hang fails the test, it never blocks the suite.

loop_dir=$work/loop
loop_pid=""

# Starts the loop on URI (OPENSSL_CONF as exported), bounded to LOOP_LIMIT s.
loop_start() {
    rm -rf "$loop_dir"
    mkdir -p "$loop_dir"
    : >"$loop_dir/out"
    timeout -s KILL "${LOOP_LIMIT:-120}" "$top_builddir/test/tools/sign-loop" "$1" "$loop_dir" \
        >"$loop_dir/out" 2>"$loop_dir/err" &
    loop_pid=$!
}

loop_count() { # loop_count ok|fail: the signatures so far with that result
    awk -v r="$1" '$2 == r { n++ } END { print n + 0 }' "$loop_dir/out"
}

loop_last() { awk 'END { print $1 + 0 }' "$loop_dir/out"; } # the last signature's number

# Waits until N more signatures than now succeeded, at most S seconds: loop_wait_ok N [S]
loop_wait_ok() {
    local want=$(($(loop_count ok) + $1)) limit=$((${2:-20} * 20)) n
    for n in $(seq "$limit"); do
        [ "$(loop_count ok)" -ge "$want" ] && return 0
        kill -0 "$loop_pid" 2>/dev/null || break
        sleep 0.05
    done
    tail -n 5 "$loop_dir/out" "$loop_dir/err" >&2
    fail "the signing loop did not reach $want signatures (${2:-20} s): it does not recover"
}

# Waits until a signature failed since signature number FROM, at most S s: loop_wait_fail FROM [S]
loop_wait_fail() {
    local from=$1 limit=$((${2:-20} * 20)) n
    for n in $(seq "$limit"); do
        awk -v f="$from" '$1 >= f && $2 == "fail" { found = 1 } END { exit !found }' \
            "$loop_dir/out" && return 0
        kill -0 "$loop_pid" 2>/dev/null || break
        sleep 0.05
    done
    tail -n 5 "$loop_dir/out" "$loop_dir/err" >&2
    fail "no signature failed after $from (${2:-20} s)"
}

# Stops the loop (at most 10 s: a signature that hangs fails here) and checks it
# neither crashed nor was killed by its time limit.
loop_stop() {
    local rc=0 n
    touch "$loop_dir/stop"
    for n in $(seq 200); do
        kill -0 "$loop_pid" 2>/dev/null || break
        sleep 0.05
    done
    kill -0 "$loop_pid" 2>/dev/null && {
        tail -n 5 "$loop_dir/out" >&2
        fail "the signing loop hangs: no answer 10 s after it was asked to stop"
    }
    wait "$loop_pid" || rc=$?
    [ "$rc" = 0 ] || { cat "$loop_dir/err" >&2; fail "the signing loop exited with status $rc"; }
}

# Every signature the loop made verifies with plain openssl (no pico) against PUB.
loop_verify() {
    local pub=$1 sig n=0
    for sig in "$loop_dir"/*.sig; do
        openssl dgst -sha256 -verify "$pub" -signature "$sig" "${sig%.sig}.msg" >/dev/null ||
            fail "signature $(basename "$sig") does not verify"
        n=$((n + 1))
    done
    [ "$n" -gt 0 ] || fail "no signature to verify"
    echo "verified $n signatures" >&2
}

# The slowest signature in ms: no single operation may hang on a fault.
loop_max_ms() { awk '{ if ($3 > m) m = $3 } END { print m + 0 }' "$loop_dir/out"; }

# The reader of device I (1-based) answers again: no SELECT (that would log every
# client out and hide what a restart does), any status word will do.
reader_up() {
    local out
    out=$("$top_builddir/test/tools/pcsc-apdu" $(($1 - 1)) 00200081 2>/dev/null || true)
    [[ "$out" =~ [0-9A-F]{4}$ ]]
}

# Restarts the harness's pcscd, as `systemctl restart pcscd` does: SIGTERM, then
# the same command line again; waits until every device is in its reader again.
pcscd_restart() {
    pcscd_stop
    pcscd_start
}

# The loop in steps (SIGN_LOOP_STEP): loop_start_stepped URI, then loop_step N makes N
# signatures and waits for their results (at most S s each: loop_step N [S]).
loop_start_stepped() {
    SIGN_LOOP_STEP=1 loop_start "$1"
    echo 0 >"$loop_dir/steps"
}
loop_step() {
    local n want
    want=$(($(wc -l <"$loop_dir/out") + $1))
    echo "$want" >"$loop_dir/steps.new"
    mv "$loop_dir/steps.new" "$loop_dir/steps"
    for n in $(seq $(($1 * ${2:-20} * 20))); do
        [ "$(wc -l <"$loop_dir/out")" -ge "$want" ] && return 0
        kill -0 "$loop_pid" 2>/dev/null || break
        sleep 0.05
    done
    tail -n 5 "$loop_dir/out" "$loop_dir/err" >&2
    fail "the signing loop hangs: $1 signatures did not finish"
}

# pcscd_restart in two halves, to place signatures while it is away.
pcscd_stop() {
    local n
    kill -TERM "$PICO_PCSCD_PID"
    for n in $(seq 200); do
        kill -0 "$PICO_PCSCD_PID" 2>/dev/null || return 0
        sleep 0.05
    done
    fail "pcscd did not stop"
}
pcscd_start() {
    local n i up
    $PICO_PCSCD_CMD >>"$PICO_PCSCD_LOG" 2>&1 &
    export PICO_PCSCD_PID=$!
    for n in $(seq 500); do
        up=1
        for i in $(seq "$PICO_DEVICES"); do reader_up "$i" || up=0; done
        [ "$up" = 1 ] && return 0
        sleep 0.02
    done
    fail "the devices are not back in their readers after the pcscd restart"
}

# Kills device I with SIGKILL (a crash, a pulled USB plug) and waits until its
# reader says the card is gone: sim_kill I
sim_kill() {
    local pidvar="PICO_SIM_PID$1" n out
    kill -KILL "${!pidvar}" 2>/dev/null || true
    for n in $(seq 200); do
        kill -0 "${!pidvar}" 2>/dev/null || break
        sleep 0.05
    done
    kill -0 "${!pidvar}" 2>/dev/null && fail "device $1 did not die"
    # pcscd sees the card gone at its next poll; until then exchanges fail
    for n in $(seq 200); do
        out=$("$top_builddir/test/tools/pcsc-apdu" $(($1 - 1)) 00200081 2>&1 || true)
        [[ "$out" == *"cannot connect"* ]] && return 0
        sleep 0.05
    done
    fail "the reader of device $1 still has a card after the kill"
}

# Starts device I again on its state (as PICO_SIM_CMDI does) and waits until it is
# in its reader, without SELECT: sim_start I
sim_start() {
    local cmdvar="PICO_SIM_CMD$1" n
    ${!cmdvar} &
    export "PICO_SIM_PID$1=$!"
    disown # killed by sim_kill or by the harness: no job report
    for n in $(seq 500); do
        reader_up "$1" && return 0
        sleep 0.02
    done
    fail "device $1 did not come back"
}

# Every failed signature names its cause in one of these words (an extended regex):
# loop_failures_say REGEX WHAT
loop_failures_say() {
    if grep ' fail ' "$loop_dir/out" | grep -viqE "$1"; then
        grep ' fail ' "$loop_dir/out" | grep -viE "$1" | head -3 >&2
        fail "a signature failed for another reason than $2"
    fi
}
