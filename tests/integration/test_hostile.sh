# A hostile tenant, who writes specs and nothing else, through etcdctl and
# the gateway, on libvirt's test driver: every case ends as phase Failed
# naming the field, reveals nothing of the host outside the folders the
# operator chose, and leaves the daemon serving everyone else.
#   - boot files outside --boot-dir (existing or not, through a symbolic
#     link or not) are one and the same refusal; inside, a missing one is
#     said to be missing, a present one boots, by its resolved path;
#   - text that XML cannot carry (U+FFFE, raw bytes of a surrogate) and
#     text after the document, or after a raw NUL, are Failed as novactl
#     validate says;
#   - a spec key too long for any object is ignored, whole, and a later
#     valid one converges;
#   - 80,000 labels, 20,000 repeated ones and 30,000 unknown fields end
#     Failed with a short message.
# lane: light
. "$(dirname "$0")/lib.sh"

mkdir -p "$TMP/boot" "$TMP/boot/sub"
echo kernel >"$TMP/boot/vmlinuz"
echo initrd >"$TMP/boot/sub/initrd.img"
ln -s /etc/passwd "$TMP/boot/passwd"
# Networks are made in a namespace of the test's own, never in the root
# one; dnsmasq reads its files as nobody, so not under the private $TMP.
NETNS=nc-hostile-$$
RUN=/run/nc-test-$$
ip netns add "$NETNS"
on_cleanup 'pkill -f -- "--pid-file='"$RUN"'/" 2>/dev/null; rm -rf '"$RUN"'; ip netns del '"$NETNS"' 2>/dev/null'
start_novacrond --workers 2 --boot-dir "$TMP/boot" --netns "$NETNS" --run-dir "$RUN"

ready_msg() { status_of default vm "$1" | jq -r '.phase + ": " + (.conditions[] | select(.type == "Ready") | .message)'; }
failed_with() { ready_msg "$1" | grep -qF "Failed: $2"; }
boot_vm() { # NAME KERNEL [INITRD]
    put_vm default "$1" "$(jq -nc --arg k "$2" --arg i "${3:-}" \
        '{vcpus: 1, memory: "64MiB", boot: ({kernel: $k} + (if $i == "" then {} else {initrd: $i} end))}')"
}

# Boot files.
boot_vm shadow /etc/shadow /etc/shadow
boot_vm nofile /nonexistent/vmlinuz
boot_vm link "$TMP/boot/passwd"
boot_vm initrd-out "$TMP/boot/vmlinuz" /etc/shadow
boot_vm missing "$TMP/boot/nothere"
boot_vm good "$TMP/boot/vmlinuz" "$TMP/boot/sub/initrd.img"
outside="spec.boot.kernel: must be inside the node's boot folder (--boot-dir)"
for vm in shadow nofile link; do
    wait_for 10 "$vm Failed" failed_with $vm "$outside"
done
for vm in shadow nofile link; do
    [ "$(ready_msg $vm)" = "Failed: $outside" ] || fail "$vm says more than the others: $(ready_msg $vm)"
done
wait_for 10 "initrd-out Failed" failed_with initrd-out "spec.boot.initrd: must be inside the node's boot folder (--boot-dir)"
wait_for 10 "missing Failed" failed_with missing "spec.boot.kernel: does not exist on this node"
wait_for 10 "good Running" converged default vm good Running
for vm in shadow nofile link initrd-out missing; do
    [ "$(status_of default vm $vm | jq -r '.domain.name // empty')" = "" ] || fail "$vm got a domain"
done
ok "boot files outside --boot-dir: /etc/shadow, a missing path and a link out all '$outside'; a missing one inside named; one inside Running"

# Text XML cannot carry, and text after the document.
cmdline_vm() { # NAME JSON-STRING-OF-CMDLINE
    ec put "${PREFIX}spec/default/vm/$1" \
        "$(vm_doc default "$1" "{\"vcpus\":1,\"memory\":\"64MiB\",\"boot\":{\"kernel\":\"$TMP/boot/vmlinuz\",\"cmdline\":$2}}")" >/dev/null
}
cmdline_vm fffe '"console=ttyS0 \ufffe"'
ec put "${PREFIX}spec/default/vm/surrogate" \
    "$(printf '{"apiVersion":"novacron.io/v1","kind":"VirtualMachine","metadata":{"name":"surrogate"},"spec":{"vcpus":1,"memory":"64MiB","boot":{"kernel":"%s","cmdline":"a\355\240\200"}}}' "$TMP/boot/vmlinuz")" >/dev/null
ec put "${PREFIX}spec/default/vm/junk" "$(vm_doc default junk '{"vcpus":1,"memory":"64MiB"}') GARBAGE{{" >/dev/null
# A raw NUL cannot pass through a shell argument: straight to the gateway.
b64() { printf '%s' "$1" | base64 -w0; }
nul=$( (vm_doc default nul '{"vcpus":1,"memory":"64MiB"}'; printf '\000 GARBAGE') | base64 -w0)
curl -sf "$ETCD/v3/kv/put" -d "{\"key\":\"$(b64 "${PREFIX}spec/default/vm/nul")\",\"value\":\"$nul\"}" >/dev/null ||
    fail "the gateway refused the put"
wait_for 10 "fffe Failed" failed_with fffe "spec.boot.cmdline: must not contain U+FFFE or U+FFFF"
wait_for 10 "surrogate Failed" failed_with surrogate "spec.boot.cmdline: must be valid UTF-8"
wait_for 10 "junk Failed" failed_with junk "(document): has text after the JSON value"
wait_for 10 "nul Failed" failed_with nul "(document): has text after the JSON value"
ok "U+FFFE, an encoded surrogate, text after the document and text after a raw NUL: Failed, field named"

# A key no object can have, then a valid one.
long=$(printf 'x%.0s' $(seq 1 600))
ec put "${PREFIX}spec/default/vm/$long" "$(vm_doc default "$long" '{"vcpus":1,"memory":"64MiB"}')" >/dev/null
put_vm default after-long '{"vcpus":1,"memory":"64MiB"}'
wait_for 10 "after-long Running" converged default vm after-long Running
wait_for 5 "the long key logged" grep -q "ignored: a key ends in NAMESPACE/KIND/NAME" "$TMP/novacrond.log"
[ "$(metric 'novacron_queue_depth')" = 0 ] || fail "queue depth $(metric novacron_queue_depth): the long key wedged an item"
put_vm default after-long '{"vcpus":1,"memory":"128MiB"}'
wait_for 10 "after-long updated" converged default vm after-long
ok "a 600-character spec key was ignored and logged; later specs converge, updates too"

# Big documents fail whole, with a short message.
labels() { # N VALUE-LENGTH REPEAT
    python3 -c 'import json,sys
n, vlen, rep = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "1"
items = ",".join("\"l%d\":\"%s\"" % (i // 2 if rep else i, "v" * vlen) for i in range(n))
print("{\"apiVersion\":\"novacron.io/v1\",\"kind\":\"VirtualMachine\",\"metadata\":{\"name\":\"%s\",\"labels\":{%s}},\"spec\":{\"vcpus\":1,\"memory\":\"64MiB\"}}" % (sys.argv[4], items))' "$@"
}
labels 80000 1 0 huge >"$TMP/huge.json"
labels 20000 1 1 twice >"$TMP/twice.json"
python3 -c 'import json
print(json.dumps({"apiVersion": "novacron.io/v1", "kind": "VirtualMachine", "metadata": {"name": "unknown"},
                  "spec": dict({"vcpus": 1, "memory": "64MiB"}, **{"f%d" % i: 1 for i in range(30000)})}))' >"$TMP/unknown.json"
t0=$(date +%s%N)
ec put "${PREFIX}spec/default/vm/huge" <"$TMP/huge.json" >/dev/null
wait_for 10 "huge Failed" failed_with huge "(document): is "
t1=$(date +%s%N)
ec put "${PREFIX}spec/default/vm/twice" <"$TMP/twice.json" >/dev/null
ec put "${PREFIX}spec/default/vm/unknown" <"$TMP/unknown.json" >/dev/null
wait_for 10 "twice Failed" failed_with twice 'metadata.labels["l0"]: appears more than once'
wait_for 10 "unknown Failed" failed_with unknown 'spec."f0": unknown field'
ready_msg twice | grep -q "; and 9980 more errors$" || fail "twice: $(ready_msg twice | cut -c1-300)"
ready_msg unknown | grep -q "; and 29980 more errors$" || fail "unknown: $(ready_msg unknown | cut -c1-300)"
size=$(status_of default vm unknown | wc -c)
[ "$size" -lt 8192 ] || fail "the status of 30,000 errors is $size bytes"
converged default vm after-long || fail "after-long was disturbed"
ok "80,000 labels ($(wc -c <"$TMP/huge.json") bytes) Failed $(((t1 - t0) / 1000000)) ms after the put; 10,000 repeated labels and 30,000 unknown fields Failed with 20 errors told and the rest counted ($size-byte status)"

# Status is output, never input: a forged Volume status (a host file as
# its path) is not what a VM attaches, and it is written back at once.
ec put "${PREFIX}spec/default/volume/disk1" \
    '{"apiVersion":"novacron.io/v1","kind":"Volume","metadata":{"name":"disk1"},"spec":{"size":"16MiB","pool":"default-pool"}}' >/dev/null
wait_for 10 "disk1 Ready" converged default volume disk1 Ready
real=$(status_of default volume disk1 | jq -r .path)
forged=$(status_of default volume disk1 | jq -c '.path = "/etc/shadow" | .format = "raw"')
t0=$(date +%s%N)
ec put "${PREFIX}status/default/volume/disk1" "$forged" >/dev/null
put_vm default reader '{"vcpus":1,"memory":"64MiB","disks":[{"name":"root","volume":"disk1"}]}'
wait_for 5 "disk1's status written back" sh -c "[ \"\$(etcdctl --endpoints $ETCD get ${PREFIX}status/default/volume/disk1 --print-value-only | jq -r .path)\" = '$real' ]"
t1=$(date +%s%N)
wait_for 10 "reader Running" converged default vm reader Running
[ "$(status_of default vm reader | jq -r '.disks[0].path')" = "$real" ] ||
    fail "reader attached $(status_of default vm reader | jq -r '.disks[0].path'), not $real"
ok "a forged Volume status (path /etc/shadow) was written back $(((t1 - t0) / 1000000)) ms later; the VM attached the real $real"

# A deleted status comes back too.
ec del "${PREFIX}status/default/vm/reader" >/dev/null
wait_for 5 "reader's status back" converged default vm reader Running
ok "a deleted status was written again"

# Another namespace's names never reach a tenant: a pinned MAC or VNI
# that another namespace holds is refused without naming it.
net_doc() { printf '{"apiVersion":"novacron.io/v1","kind":"Network","metadata":{"name":"%s","namespace":"%s"},"spec":%s}' "$2" "$1" "$3"; }
ec put "${PREFIX}spec/tenant-b/network/secret-net" "$(net_doc tenant-b secret-net '{"cidr":"10.40.0.0/24","vni":4242,"mode":"isolated"}')" >/dev/null
wait_for 10 "secret-net Ready" converged tenant-b network secret-net Ready
ec put "${PREFIX}spec/tenant-b/vm/secret-db" "$(vm_doc tenant-b secret-db '{"vcpus":1,"memory":"64MiB","interfaces":[{"name":"eth0","network":"secret-net","mac":"52:54:00:42:42:42"}]}')" >/dev/null
wait_for 10 "secret-db Running" converged tenant-b vm secret-db Running
ec put "${PREFIX}spec/tenant-a/network/net" "$(net_doc tenant-a net '{"cidr":"10.41.0.0/24","vni":4242,"mode":"isolated"}')" >/dev/null
ec put "${PREFIX}spec/tenant-a/network/net2" "$(net_doc tenant-a net2 '{"cidr":"10.42.0.0/24","mode":"isolated"}')" >/dev/null
wait_for 10 "net2 Ready" converged tenant-a network net2 Ready
ec put "${PREFIX}spec/tenant-a/vm/spy" "$(vm_doc tenant-a spy '{"vcpus":1,"memory":"64MiB","interfaces":[{"name":"eth0","network":"net2","mac":"52:54:00:42:42:42"}]}')" >/dev/null
msg_of() { status_of "$1" "$2" "$3" | jq -r '.conditions[] | select(.type == "Ready") | .message'; }
wait_for 10 "net Failed" sh -c "etcdctl --endpoints $ETCD get ${PREFIX}status/tenant-a/network/net --print-value-only | grep -q 'held by another namespace'"
wait_for 10 "spy Failed" sh -c "etcdctl --endpoints $ETCD get ${PREFIX}status/tenant-a/vm/spy --print-value-only | grep -q 'held by another namespace'"
for o in "network net" "vm spy"; do
    set -- $o
    st=$(status_of tenant-a "$1" "$2")
    events=$(ec get "${PREFIX}events/tenant-a/" --prefix --print-value-only)
    echo "$st$events" | grep -qE "tenant-b|secret" && fail "tenant-a's $1 $2 learns tenant-b's names: $(msg_of tenant-a "$1" "$2")"
done
ok "a VNI and a MAC held in another namespace: '$(msg_of tenant-a network net)', '$(msg_of tenant-a vm spy)'; no name of tenant-b in tenant-a's status or events"
[ -z "$(ip -o link | grep -E "ncb|ncx|nct" || true)" ] || fail "a device appeared in the root namespace"

# A second daemon for the same node gives up before it acts: on the lock,
# and on a --listen already taken, before touching libvirt or etcd.
rc=0
timeout 20 "$NOVACROND" --etcd "$ETCD" --listen "127.0.0.1:$(free_port)" --node node-a \
    --netns "$NETNS" --run-dir "$RUN" >"$TMP/second.log" 2>&1 || rc=$?
[ "$rc" = 1 ] && grep -q "another novacrond runs as node node-a here" "$TMP/second.log" ||
    fail "a second novacrond for node-a: exit $rc, $(cat "$TMP/second.log")"
rc=0
timeout 20 "$NOVACROND" --etcd "$ETCD" --listen "127.0.0.1:$LISTEN_PORT" --node node-z \
    --netns "$NETNS" --run-dir "$RUN" >"$TMP/busy.log" 2>&1 || rc=$?
[ "$rc" = 1 ] && grep -q "cannot listen on 127.0.0.1:$LISTEN_PORT" "$TMP/busy.log" ||
    fail "a novacrond on a busy port: exit $rc, $(cat "$TMP/busy.log")"
[ -z "$(ec get "${PREFIX}nodes/node-z" --print-value-only)" ] || fail "node-z registered before it gave up"
ok "a second novacrond as node-a gave up on the node's lock; one on a busy --listen before registering"
