# Two nodes, each its own novacrond and its own libvirt (the test driver
# keeps its domains per process), one etcd. Nodes register under nodes/ on
# a lease; VMs without spec.node are placed by the scheduler (one of the
# nodes leads it), so each runs on exactly one node; spec.node is honoured;
# when a node stops renewing its lease the scheduler moves its VMs to the
# other node, and removes the status of a VM and of a Volume deleted
# meanwhile; when it comes back it removes its copies, and the domain and
# volume of those deleted; a deleted VM's placement goes too.
# lane: light
. "$(dirname "$0")/lib.sh"

start_node() { # NAME PORT
    "$NOVACROND" --etcd "$ETCD" --listen "127.0.0.1:$2" --node "$1" --run-dir "$RUN_DIR" --resync 1h --node-ttl 3s \
        --workers 2 >>"$TMP/$1.log" 2>&1 &
    echo $! >"$TMP/$1.pid"
    wait_for 30 "$1 ready" curl -sf "http://127.0.0.1:$2/readyz"
}
on_cleanup 'for f in "$TMP"/node-*.pid; do kill -CONT $(cat "$f"); kill -9 $(cat "$f"); done 2>/dev/null'
PA=$(free_port)
PB=$(free_port)
domains() { curl -sf "http://127.0.0.1:$1/metrics" | awk '$1 == "novacron_domains" { print $2 }'; }
placed_on() { ec get "${PREFIX}placement/" --prefix --print-value-only | grep -c "^$1\$" || true; }

start_node node-a "$PA"
start_node node-b "$PB"
for n in node-a node-b; do
    [ "$(ec get "${PREFIX}nodes/$n" -w json | jq '.kvs[0].lease // 0 | tonumber > 0')" = true ] ||
        fail "$n is not registered on a lease"
done
ec get "${PREFIX}nodes/node-a" --print-value-only | jq -e '.capacity.vcpus > 0 and .leaseTTL == 3' >/dev/null ||
    fail "node-a's registration: $(ec get "${PREFIX}nodes/node-a" --print-value-only)"
ok "both nodes registered on leases: $(ec get "${PREFIX}nodes/node-a" --print-value-only)"

for i in $(seq 1 12); do put_vm default "p$i" '{"vcpus":1,"memory":"64MiB"}'; done
put_vm default pinned '{"vcpus":1,"memory":"64MiB","node":"node-b"}'
ec put "${PREFIX}spec/default/volume/pinvol" '{"apiVersion":"novacron.io/v1","kind":"Volume","metadata":{"name":"pinvol"},"spec":{"size":"16MiB","pool":"default-pool","node":"node-b"}}' >/dev/null
all_placed() {
    for i in $(seq 1 12); do converged default vm "p$i" Running || return 1; done
    converged default vm pinned Running
}
wait_for 30 "13 VMs Running" all_placed
wait_for 10 "pinvol Ready on node-b" sh -c "etcdctl --endpoints $ETCD get ${PREFIX}status/default/volume/pinvol --print-value-only | jq -e '.phase == \"Ready\" and .node == \"node-b\"'"
[ "$(ec get "${PREFIX}placement/" --prefix --keys-only | grep -c .)" -eq 12 ] || fail "placement keys: $(ec get "${PREFIX}placement/" --prefix --keys-only)"
for i in $(seq 1 12); do
    [ "$(status_of default vm "p$i" | jq -r .node)" = "$(ec get "${PREFIX}placement/default/p$i" --print-value-only)" ] ||
        fail "p$i runs on $(status_of default vm "p$i" | jq -r .node), placed on $(ec get "${PREFIX}placement/default/p$i" --print-value-only)"
done
[ "$(status_of default vm pinned | jq -r .node)" = node-b ] || fail "pinned is not on node-b"
a=$(placed_on node-a)
b=$(placed_on node-b)
wait_for 10 "domain counts" sh -c "[ \"\$(curl -sf http://127.0.0.1:$PA/metrics | awk '\$1 == \"novacron_domains\" { print \$2 }')\" = $a ] &&
    [ \"\$(curl -sf http://127.0.0.1:$PB/metrics | awk '\$1 == \"novacron_domains\" { print \$2 }')\" = $((b + 1)) ]"
ok "12 VMs placed once each ($a on node-a, $b on node-b, domains $(domains "$PA") + $(domains "$PB") = 13 with the pinned one), status.node = the placement"

# node-b stops renewing: its lease and registration expire, and the
# scheduler places its VMs on node-a.
kill -STOP "$(cat "$TMP/node-b.pid")"
wait_for 15 "node-b's registration expired" sh -c "[ -z \"\$(etcdctl --endpoints $ETCD get ${PREFIX}nodes/node-b --print-value-only)\" ]"
wait_for 20 "every placement on node-a" sh -c "[ \"\$(etcdctl --endpoints $ETCD get ${PREFIX}placement/ --prefix --print-value-only | grep -c '^node-a\$')\" -eq 12 ]"
wait_for 20 "node-a runs 12" sh -c "[ \"\$(curl -sf http://127.0.0.1:$PA/metrics | awk '\$1 == \"novacron_domains\" { print \$2 }')\" = 12 ]"
for i in $(seq 1 12); do wait_for 10 "p$i on node-a" sh -c "etcdctl --endpoints $ETCD get ${PREFIX}status/default/vm/p$i --print-value-only | jq -e '.node == \"node-a\" and .phase == \"Running\"'"; done
ok "node-b frozen: its lease expired, node-a placed and runs all 12"

# The VM pinned to node-b deleted while node-b is gone: no node is there
# to remove its status, so the scheduler's leader does.
status_of default vm pinned | jq -e '.node == "node-b"' >/dev/null || fail "pinned's status: $(status_of default vm pinned)"
ec del "${PREFIX}spec/default/vm/pinned" >/dev/null
wait_for 20 "pinned's status removed" sh -c "[ -z \"\$(etcdctl --endpoints $ETCD get ${PREFIX}status/default/vm/pinned --print-value-only)\" ]"
grep -aq "VM default/pinned was deleted while node node-b was gone: its status and placement removed" "$TMP"/node-a.log ||
    fail "node-a, the leader, did not say it removed pinned's status"
ec del "${PREFIX}spec/default/volume/pinvol" >/dev/null
wait_for 20 "pinvol's status removed" sh -c "[ -z \"\$(etcdctl --endpoints $ETCD get ${PREFIX}status/default/volume/pinvol --print-value-only)\" ]"
grep -aq "Volume default/pinvol was deleted while node node-b was gone: its status removed" "$TMP"/node-a.log ||
    fail "node-a, the leader, did not say it removed pinvol's status"
ok "a VM and a Volume deleted while their node was gone: the leader removed their statuses"

# node-b comes back: registers again and removes its copies of VMs now on
# node-a, and the domain of the VM deleted meanwhile.
kill -CONT "$(cat "$TMP/node-b.pid")"
wait_for 15 "node-b registered again" sh -c "[ -n \"\$(etcdctl --endpoints $ETCD get ${PREFIX}nodes/node-b --print-value-only)\" ]"
wait_for 20 "node-b runs nothing" sh -c "[ \"\$(curl -sf http://127.0.0.1:$PB/metrics | awk '\$1 == \"novacron_domains\" { print \$2 }')\" = 0 ]"
[ "$(domains "$PA")" = 12 ] || fail "node-a runs $(domains "$PA")"
[ -z "$(ec get "${PREFIX}status/default/vm/pinned" --print-value-only)" ] || fail "pinned's status came back: $(status_of default vm pinned)"
# Its volume: deleted by node-b, as its log says (the test driver's pools
# live in node-b's process).
wait_for 10 "node-b deleted pinvol's volume" grep -aq "default/volume/pinvol: deleted" "$TMP/node-b.log"
[ -z "$(ec get "${PREFIX}status/default/volume/pinvol" --print-value-only)" ] || fail "pinvol's status came back: $(status_of default volume pinvol)"
ok "node-b back: it removed its $b copies, the deleted pinned VM's domain and pinvol's volume; node-a runs 12"

# A deleted VM: domain, status and placement go.
ec del "${PREFIX}spec/default/vm/p1" >/dev/null
wait_for 10 "p1 gone" sh -c "[ -z \"\$(etcdctl --endpoints $ETCD get ${PREFIX}status/default/vm/p1 ${PREFIX}placement/default/p1 --print-value-only)\" ] &&
    [ -z \"\$(etcdctl --endpoints $ETCD get ${PREFIX}placement/default/p1 --print-value-only)\" ]"
wait_for 10 "node-a runs 11" sh -c "[ \"\$(curl -sf http://127.0.0.1:$PA/metrics | awk '\$1 == \"novacron_domains\" { print \$2 }')\" = 11 ]"
ok "a deleted VM: its domain, status and placement are gone"
