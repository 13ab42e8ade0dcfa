# The reconcilers' unit tests against the fake drivers (tests/itest_reconcilers.c),
# with this test's etcd for status and events.
. "$(dirname "$0")/lib.sh"

NC_TEST_ETCD=$ETCD "$(dirname "$NOVACROND")/tests/itest_reconcilers" --jobs 1 ||
    fail "itest_reconcilers failed"
ok "the VM, Volume and Network reconcilers through fake_hv, fake_st, fake_ov and fake_dhcp: create, drift, run states, delete, invalid input, name conflicts, a failure at each call, a forged status ignored, a guest's DHCP entry"
