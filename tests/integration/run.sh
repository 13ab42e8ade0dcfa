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

# lane TEST...: runs each test, then prints its output and its verdict.
lane() {
    for t in "$@"; do
        start=$(date +%s)
        if bash "./$t" >"$out/$t.log" 2>&1; then
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
if [ -s "$out/failed" ]; then
    echo "integration tests failed: $(sort "$out/failed" | tr '\n' ' ')"
    exit 1
fi
echo "all integration tests passed"
