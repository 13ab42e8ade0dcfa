# etcd restored from an older snapshot under a running novacrond: the
# store's revision goes back below what the controller has seen. It must
# notice (not resume its watch at a revision the store will take long to
# reach, nor drop what the store now says as older than its cache), say
# it is not ready meanwhile, and converge a spec put after the restore.
# lane: light
. "$(dirname "$0")/lib.sh"

start_novacrond --workers 2
put_vm default before '{"vcpus":1,"memory":"64MiB"}'
wait_for 10 "before Running" converged default vm before Running
ec snapshot save "$TMP/snap.db" >/dev/null 2>&1
# Move the store well past the snapshot.
for i in $(seq 1 20); do put_vm default "later-$i" '{"vcpus":1,"memory":"64MiB"}'; done
wait_for 20 "later-20 Running" converged default vm later-20 Running
seen=$(store_revision)

# Follow /readyz while etcd is swapped for its older self.
( while :; do
    curl -s -o /dev/null -w '%{http_code}\n' "http://127.0.0.1:$LISTEN_PORT/readyz" || echo 000
    sleep 0.05
  done >"$TMP/readyz.log" ) &
poller=$!
on_cleanup "kill $poller 2>/dev/null"
"$HACK/etcd.sh" stop "$TMP/etcd"
mv "$TMP/etcd/data" "$TMP/etcd/data.newer"
peer=$(free_port)
ETCDCTL_API=3 etcdctl snapshot restore "$TMP/snap.db" --data-dir "$TMP/etcd/data" --name nc-test \
    --initial-cluster "nc-test=http://127.0.0.1:$peer" \
    --initial-advertise-peer-urls "http://127.0.0.1:$peer" >/dev/null 2>&1
"$HACK/etcd.sh" start "$TMP/etcd" >/dev/null
restored=$(store_revision)
[ "$restored" -lt "$seen" ] || fail "the restored store is at revision $restored, not below $seen"

put_vm default after '{"vcpus":1,"memory":"64MiB"}'
wait_for 20 "after Running" converged default vm after Running
wait_for 10 "ready again" curl -sf "http://127.0.0.1:$LISTEN_PORT/readyz"
kill $poller
grep -q '^503$' "$TMP/readyz.log" || fail "/readyz never said no: $(sort "$TMP/readyz.log" | uniq -c)"
grep -q "is below .*already seen: the store was restored or replaced\|cluster id changed" "$TMP/novacrond.log" ||
    fail "the rewind was not noticed"
[ "$(mod_revision default vm after)" -lt "$seen" ] || fail "the new spec's revision is not below the old store's"
ok "etcd restored from revision $seen to $restored: noticed, /readyz 503 meanwhile ($(grep -c '^503$' "$TMP/readyz.log") polls), a spec put at revision $(mod_revision default vm after) converged"
