# A Volume on a shared pool deleted while the node that made it is gone,
# or as it goes (deleted while it was still registered but could no longer
# act): a node that shares the pool deletes it (the scheduler's leader leaves
# shared Volumes alone); the node that made it, once back, removes what it
# still keeps of it. Each node runs libvirt's test driver in its own
# process, so "shared" is a flag here: each holds its own default-pool.
# lane: light
. "$(dirname "$0")/lib.sh"

start_node() { # NAME PORT
    "$NOVACROND" --etcd "$ETCD" --listen "127.0.0.1:$2" --node "$1" --run-dir "$RUN_DIR" --resync 1h --node-ttl 3s \
        --workers 2 --shared-pool default-pool >>"$TMP/$1.log" 2>&1 &
    echo $! >"$TMP/$1.pid"
    wait_for 30 "$1 ready" curl -sf "http://127.0.0.1:$2/readyz"
}
on_cleanup 'for f in "$TMP"/node-*.pid; do kill -CONT $(cat "$f"); kill -9 $(cat "$f"); done 2>/dev/null'
start_node node-a "$(free_port)"
start_node node-b "$(free_port)"

vol() { # NAME: a Volume node-b makes on the shared pool
    ec put "${PREFIX}spec/default/volume/$1" "{\"apiVersion\":\"novacron.io/v1\",\"kind\":\"Volume\",\"metadata\":{\"name\":\"$1\"},\"spec\":{\"size\":\"16MiB\",\"pool\":\"default-pool\",\"node\":\"node-b\"}}" >/dev/null
    wait_for 10 "$1 Ready on node-b" sh -c "etcdctl --endpoints $ETCD get ${PREFIX}status/default/volume/$1 --print-value-only | jq -e '.phase == \"Ready\" and .node == \"node-b\"'"
    grep -aq "default/volume/$1: Created" "$TMP/node-b.log" || fail "node-b did not make $1"
}
status_gone() { [ -z "$(etcdctl --endpoints "$ETCD" get "${PREFIX}status/default/volume/$1" --print-value-only)" ]; }
vol sv
vol early

# early is deleted as node-b stops, still registered: node-a leaves it to
# node-b, until node-b's registration expires. sv is deleted once it has.
kill -STOP "$(cat "$TMP/node-b.pid")"
ec del "${PREFIX}spec/default/volume/early" >/dev/null
wait_for 15 "node-b's registration expired" sh -c "[ -z \"\$(etcdctl --endpoints $ETCD get ${PREFIX}nodes/node-b --print-value-only)\" ]"
ec del "${PREFIX}spec/default/volume/sv" >/dev/null
for v in sv early; do
    wait_for 20 "$v's status removed" status_gone "$v"
    grep -aq "default/volume/$v: deleted" "$TMP/node-a.log" || fail "node-a did not delete $v: $(grep -a "$v" "$TMP/node-a.log")"
done
! grep -aq "Volume default/sv was deleted while node" "$TMP"/node-*.log || fail "the leader removed a shared Volume's status"
ok "shared Volumes deleted while their node was gone, or as it went: node-a, which shares the pool, deleted them"

kill -CONT "$(cat "$TMP/node-b.pid")"
wait_for 15 "node-b registered again" sh -c "[ -n \"\$(etcdctl --endpoints $ETCD get ${PREFIX}nodes/node-b --print-value-only)\" ]"
for v in sv early; do
    wait_for 10 "node-b deleted its copy of $v" grep -aq "default/volume/$v: deleted" "$TMP/node-b.log"
    status_gone "$v" || fail "$v's status came back: $(status_of default volume "$v")"
done
ok "node-b back: it removed the volumes it still kept"
