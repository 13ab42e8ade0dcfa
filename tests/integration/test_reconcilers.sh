# The reconcilers' unit tests against fake drivers (tests/itest_*.c other
# than the etcd client's), with this test's etcd for status and events.
. "$(dirname "$0")/lib.sh"

for t in "$(dirname "$NOVACROND")"/tests/itest_reconcilers; do
    NC_TEST_ETCD=$ETCD "$t" --jobs 1 || fail "$(basename "$t") failed"
done
ok "the VM and Volume reconcilers through fake_hv and fake_st: create, drift, run states, delete, invalid input, a failure at each call, a forged status ignored"
