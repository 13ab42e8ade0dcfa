#!/bin/bash
# Runs every integration test (tests/integration/test_*.sh) and reports
# which failed. Each test starts and stops its own etcd and novacrond.
#
# Two lanes, each running its tests one after the other: the tests that
# say "# lane: light" (libvirt's in-process test driver, their own etcd and
# network namespaces, nothing of the machine's) run beside the others,
# which share the machine's libvirtd, Podman and CPU-bound TCG guests and
# so run one at a time. LANES=1 runs everything in one lane; ONLY=NAME
# runs one test. A test's output is printed whole when it ends.
set -u
cd "$(dirname "$0")"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# descendants PID: every process below PID, parents before children.
descendants() {
    local c
    for c in $(ps -o pid= --ppid "$1"); do
        echo "$c"
        descendants "$c"
    done
}

# watchdog PID TEST LOG: after TEST_TIMEOUT seconds (600 unless set) of
# TEST still running, which is a hang, never slowness, writes to LOG what
# it was waiting in (its processes, with the kernel's wait channel, and
# the stacks of every novacrond's threads; the processes also in
# LOG.hung), then sends its processes SIGTERM, which ends whatever it
# waits on and runs its cleanup, and 60 s later SIGKILL.
watchdog() {
    local p
    sleep "${TEST_TIMEOUT:-600}"
    ps -o pid,stat,etime,wchan:24,args -p "$1,$(descendants "$1" | paste -sd,)" >"$3.hung"
    {
        echo "--- $2 still running after ${TEST_TIMEOUT:-600} s; its processes:"
        cat "$3.hung"
        for p in $(descendants "$1"); do
            [ "$(ps -o comm= -p "$p")" = novacrond ] || continue
            echo "--- novacrond $p, its threads' stacks:"
            gdb -p "$p" -batch -ex "thread apply all bt" 2>&1 | grep -E '^(Thread|#)'
        done
    } >>"$3" 2>&1
    kill -TERM $(descendants "$1") "$1" 2>/dev/null
    sleep 60
    kill -KILL $(descendants "$1") "$1" 2>/dev/null
}

# run_test TEST LOG: runs TEST under a watchdog, its output to LOG.
run_test() {
    local pid wd rc=0
    bash "./$1" >>"$2" 2>&1 &
    pid=$!
    watchdog "$pid" "$1" "$2" </dev/null >/dev/null 2>&1 &
    wd=$!
    wait "$pid" || rc=$?
    kill $(descendants "$wd") "$wd" 2>/dev/null
    wait "$wd"
    [ ! -e "$2.hung" ] || rc=124
    return "$rc"
}

# lane TEST...: runs each test, then prints its output and its verdict.
lane() {
    for t in "$@"; do
        start=$(date +%s)
        if run_test "$t" "$out/$t.log"; then
            verdict="passed in $(($(date +%s) - start))s"
        else
            verdict=FAILED
            echo "$t" >>"$out/failed"
        fi
        { flock 9; cat "$out/$t.log"; echo "== $t $verdict"; } 9>>"$out/lock"
    done
}

light=() heavy=()
for t in test_*.sh; do
    [ -n "${ONLY:-}" ] && [ "$t" != "$ONLY" ] && continue
    if [ "${LANES:-2}" != 1 ] && grep -q '^# lane: light$' "$t"; then
        light+=("$t")
    else
        heavy+=("$t")
    fi
done
lane "${light[@]}" &
lane "${heavy[@]}"
wait
# The failures again, last and short: a hung test's processes, or the
# first FAIL line, where the end of a long output is all that is seen.
if [ -s "$out/failed" ]; then
    for t in $(sort "$out/failed"); do
        if [ -e "$out/$t.log.hung" ]; then
            echo "--- $t hung; its processes:"
            cut -c1-200 "$out/$t.log.hung"
        else
            echo "--- $t: $(grep -a -m 1 '^FAIL ' "$out/$t.log" | cut -c1-300)"
        fi
    done
    echo "integration tests failed: $(sort "$out/failed" | tr '\n' ' ')"
    exit 1
fi
echo "all integration tests passed"
