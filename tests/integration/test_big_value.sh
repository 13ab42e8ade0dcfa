# A 50 MB spec, which etcd takes once its request limit is raised: Failed
# naming the limit, and the daemon keeps neither the value nor a buffer
# of its size (its resident memory returns near where it was).
# etcd reads its flags from ETCD_* variables too.
ETCD_MAX_REQUEST_BYTES=$((128 * 1024 * 1024))
export ETCD_MAX_REQUEST_BYTES
# lane: light
. "$(dirname "$0")/lib.sh"

# Under AddressSanitizer freed memory waits in a quarantine before it is
# given back: none here, so resident memory means what it says.
ASAN_OPTIONS="$ASAN_OPTIONS:quarantine_size_mb=0" start_novacrond --workers 2
put_vm default small '{"vcpus":1,"memory":"64MiB"}'
wait_for 10 "small Running" converged default vm small Running
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$(cat "$TMP/novacrond.pid")/status"; }
before=$(rss)
python3 -c 'import base64, json, sys
doc = json.dumps({"apiVersion": "novacron.io/v1", "kind": "VirtualMachine", "metadata": {"name": "big",
                  "annotations": {"a": "x" * (50 * 1024 * 1024)}}, "spec": {"vcpus": 1, "memory": "64MiB"}})
print(json.dumps({"key": base64.b64encode(sys.argv[1].encode()).decode(),
                  "value": base64.b64encode(doc.encode()).decode()}))' "${PREFIX}spec/default/vm/big" >"$TMP/big.json"
curl -sf "$ETCD/v3/kv/put" --data-binary @"$TMP/big.json" >/dev/null || fail "etcd refused the 50 MB put"
rm -f "$TMP/big.json"
wait_for 30 "big Failed" sh -c "etcdctl --endpoints $ETCD get ${PREFIX}status/default/vm/big --print-value-only | grep -q 'is more than the 524288 bytes allowed'"
put_vm default after '{"vcpus":1,"memory":"64MiB"}'
wait_for 10 "after Running" converged default vm after Running
after=$(rss)
[ "$after" -lt $((before + 32 * 1024)) ] || fail "resident memory grew from $before KiB to $after KiB"
ok "a 50 MB spec Failed at the size limit; resident memory $before KiB before, $after KiB after"
