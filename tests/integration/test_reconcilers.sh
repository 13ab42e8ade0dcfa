# The reconcilers' unit tests against the fake drivers (tests/itest_reconcilers.c),
# with this test's etcd for status and events, and the fault sweep's count
# of the driver call sites it failed.
# lane: light
. "$(dirname "$0")/lib.sh"

# Leaks too: the fakes hold no process-wide caches, so whatever
# LeakSanitizer finds under the sanitized build is ours.
NC_TEST_ETCD=$ETCD ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
    "$(dirname "$NOVACROND")/tests/itest_reconcilers" --jobs 1 >"$TMP/itest.out" 2>&1 || {
    grep -v ' info \| warn ' "$TMP/itest.out" | tail -n 30
    fail "itest_reconcilers failed"
}
if grep -q "ERROR: LeakSanitizer" "$TMP/itest.out"; then
    grep -A 20 -m 1 "ERROR: LeakSanitizer" "$TMP/itest.out"
    fail "itest_reconcilers leaked"
fi
sweep=$(grep '^fault sweep:' "$TMP/itest.out") || fail "the fault sweep printed nothing"
ok "the VM (guests, containers and processes), Volume, Network, Snapshot, Restore and Migration reconcilers (a live move, a cold one with its disk and a cancelled one, between two nodes' fakes) through fake_hv, fake_st, fake_ov, fake_dhcp and fake_fw, with etcd requests failed or their answers lost: create, drift, run states, delete, invalid input, name conflicts, a forged status ignored, a guest's DHCP entry, egress NAT tables; once the faults stop, only what the daemon would queue again is reconciled"
ok "$sweep"
