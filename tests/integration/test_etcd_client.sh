# The etcd client and watch (tests/itest_etcd.c) against this test's etcd.
# lane: light
. "$(dirname "$0")/lib.sh"

NC_TEST_ETCD=$ETCD "$(dirname "$NOVACROND")/tests/itest_etcd" --jobs 1 ||
    fail "etcd client tests failed"
ok "etcd client: put/get/delete, paginated list, txn compares, leases, failover, errors, watch"
