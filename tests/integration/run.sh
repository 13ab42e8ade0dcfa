#!/bin/sh
# Runs every integration test (tests/integration/test_*.sh) one after the
# other and reports which failed. Each test starts and stops its own etcd
# and novacrond.
set -u
cd "$(dirname "$0")"
failed=""
for t in test_*.sh; do
    [ -n "${ONLY:-}" ] && [ "$t" != "$ONLY" ] && continue
    start=$(date +%s)
    if bash "./$t"; then
        echo "== $t passed in $(($(date +%s) - start))s"
    else
        echo "== $t FAILED"
        failed="$failed $t"
    fi
done
if [ -n "$failed" ]; then
    echo "integration tests failed:$failed"
    exit 1
fi
echo "all integration tests passed"
