# etcd restarted under a running controller (the watch resumes, nothing is
# missed); changes made while the controller's watch was away and then
# compacted out of etcd's history (relist and diff, deletions included);
# kill -9 in the middle of work (the next start converges everything).
# lane: light
. "$(dirname "$0")/lib.sh"

start_novacrond --workers 2

for i in 1 2 3 4 5; do put_vm default "r-$i" '{"vcpus":1,"memory":"64MiB"}'; done
all() { for n in "$@"; do converged default vm "$n" || return 1; done; }
wait_for 20 "first VMs" all r-1 r-2 r-3 r-4 r-5
ok "5 VMs converged"

# etcd goes away and comes back on the same port with the same data.
"$HACK/etcd.sh" stop "$TMP/etcd"
sleep 1
"$HACK/etcd.sh" start "$TMP/etcd" >/dev/null
put_vm default r-6 '{"vcpus":1,"memory":"64MiB"}'
put_vm default r-1 '{"vcpus":1,"memory":"128MiB"}'
ec del "${PREFIX}spec/default/vm/r-2" >/dev/null
wait_for 30 "changes after the etcd restart" all r-1 r-3 r-4 r-5 r-6
wait_for 30 "r-2 status deleted" sh -c "[ -z \"\$(etcdctl --endpoints $ETCD get ${PREFIX}status/default/vm/r-2)\" ]"
restarts=$(metric novacron_watch_restarts_total)
[ "${restarts:-0}" -ge 1 ] || fail "the watch never restarted (restarts=$restarts)"
ok "etcd restarted: the watch resumed ($restarts restarts) and every change was applied"

# Freeze the controller, cut its watch by restarting etcd, change things and
# compact the history it would resume from: it must relist and diff.
pid=$(cat "$TMP/novacrond.pid")
kill -STOP "$pid"
"$HACK/etcd.sh" stop "$TMP/etcd"
"$HACK/etcd.sh" start "$TMP/etcd" >/dev/null
put_vm default r-7 '{"vcpus":1,"memory":"64MiB"}'
put_vm default r-3 '{"vcpus":2,"memory":"64MiB"}'
ec del "${PREFIX}spec/default/vm/r-4" >/dev/null
rev=$(store_revision)
ec compaction "$rev" >/dev/null
kill -CONT "$pid"
wait_for 30 "changes hidden by the compaction" all r-1 r-3 r-5 r-6 r-7
wait_for 30 "r-4 status deleted" sh -c "[ -z \"\$(etcdctl --endpoints $ETCD get ${PREFIX}status/default/vm/r-4)\" ]"
grep -q "relisting" "$TMP/novacrond.log" || fail "the controller never relisted"
[ "$(status_of default vm r-3 | jq .observedGeneration)" -eq "$(mod_revision default vm r-3)" ] ||
    fail "r-3's update was missed"
ok "compaction past the watch revision: relisted, update and delete both applied"

# kill -9 while 15 new specs are being worked on, and one deleted; then a
# fresh start converges all of them (test:///default forgets its domains
# with the process, so every domain is created again from its status).
for i in $(seq 10 24); do put_vm default "k-$i" '{"vcpus":1,"memory":"64MiB"}'; done
sleep 0.2
kill9_novacrond
ec del "${PREFIX}spec/default/vm/k-10" >/dev/null
start_novacrond --workers 2
names="r-1 r-3 r-5 r-6 r-7"
for i in $(seq 11 24); do names="$names k-$i"; done
# shellcheck disable=SC2086
wait_for 30 "convergence after kill -9" all $names
wait_for 30 "k-10 status deleted" sh -c "[ -z \"\$(etcdctl --endpoints $ETCD get ${PREFIX}status/default/vm/k-10)\" ]"
n=$(count_keys "${PREFIX}status/")
[ "$n" -eq 19 ] || fail "expected 19 status keys, found $n"
ok "kill -9 mid-run: after restart 19 VMs converged, the deleted one is gone"

stop_novacrond || fail "SIGTERM: exit status $?"
ok "SIGTERM: exit status 0"
