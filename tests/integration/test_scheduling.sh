# The scheduler across three nodes, each its own novacrond on its own
# test:///default (16 CPUs and 3 GiB each; the test driver keeps its
# domains per process, so each process is a separate host), one etcd.
# Everything is checked from etcd, outside the code under test:
#   - capacity: a VM too big for node-a (which reserves 2 GiB) lands on
#     node-b; one too big for both is Pending with the reason per node,
#     and is placed as soon as a node with room (overcommitted) joins;
#   - nodeSelector, hard anti-affinity (one per node, the fourth Pending),
#     topology spread across zones;
#   - cordon keeps new VMs off a node, drain moves its VMs away;
#   - a Volume on a node-local pool is made on its first VM's node, and a
#     second VM of that Volume goes there too;
#   - the leader killed with -9 while placing 60 VMs: a follower takes
#     over, each VM is placed once, and no node holds more than it offers
#     (requests summed per node from the specs and placements in etcd).
# lane: light
. "$(dirname "$0")/lib.sh"

# start_node NAME [FLAG...]: a node of its own, on a free port.
start_node() {
    name=$1
    shift
    port=$(free_port)
    echo "$port" >"$TMP/$name.port"
    "$NOVACROND" --etcd "$ETCD" --listen "127.0.0.1:$port" --node "$name" --run-dir "$RUN_DIR" \
        --resync 1h --node-ttl 3s --workers 2 "$@" >>"$TMP/host-$name.log" 2>&1 &
    echo $! >"$TMP/$name.pid"
    wait_for 30 "$name ready" curl -sf "http://127.0.0.1:$port/readyz"
}
on_cleanup 'for f in "$TMP"/node-*.pid; do kill -9 $(cat "$f"); done 2>/dev/null'
node_of() { ec get "${PREFIX}placement/default/$1" --print-value-only; }
reason_of() { status_of default vm "$1" | jq -r '.conditions[] | select(.type == "Scheduled") | .message'; }
placed() { [ -n "$(node_of "$1")" ]; }
leader() { ec get "${PREFIX}leader/scheduler" --print-value-only; }

start_node node-a --reserve-memory 2GiB --node-label zone=a
start_node node-b --node-label zone=b
ec get "${PREFIX}nodes/node-a" --print-value-only |
    jq -e '.allocatable == {"vcpus": 16, "memory": 1073741824} and .overcommit == {"cpu": 4, "memory": 1}
           and .labels == {"zone": "a"} and .pools[0].name == "default-pool"' >/dev/null ||
    fail "node-a's inventory: $(ec get "${PREFIX}nodes/node-a" --print-value-only)"
ok "node-a registered its inventory: $(ec get "${PREFIX}nodes/node-a" --print-value-only | jq -c '{allocatable, overcommit, labels, pools}')"

# Capacity: 1.5 GiB fits only node-b; 8 GiB fits nowhere, until node-c
# (memory overcommitted 4x: 12 GiB) joins.
put_vm default big '{"vcpus":1,"memory":"1536MiB"}'
put_vm default huge '{"vcpus":1,"memory":"8GiB"}'
wait_for 20 "big Running" converged default vm big Running
[ "$(node_of big)" = node-b ] || fail "big was placed on $(node_of big)"
wait_for 10 "huge's reason" sh -c "[ \"\$(etcdctl --endpoints $ETCD get ${PREFIX}status/default/vm/huge --print-value-only | jq -r '.conditions[] | select(.type == \"Scheduled\") | .message')\" = '0/2 nodes: 2 insufficient memory' ]"
st=$(status_of default vm huge)
echo "$st" | jq -e '.phase == "Pending" and (.conditions[] | select(.type == "Ready") | .reason == "Unschedulable")' >/dev/null ||
    fail "huge: $st"
metric_of() { curl -sf "http://127.0.0.1:$(cat "$TMP/$1.port")/metrics" | awk -v m="$2" '$1 == m { print $2 }'; }
leaders=$(for n in node-a node-b; do metric_of "$n" novacron_scheduler_leader; done | grep -c '^1$')
[ "$leaders" -eq 1 ] || fail "$leaders nodes say they lead the scheduler"
wait_for 5 "the leader counts huge unschedulable" sh -c "for p in $(cat "$TMP/node-a.port") $(cat "$TMP/node-b.port"); do
    curl -sf http://127.0.0.1:\$p/metrics | grep -qx 'novacron_scheduler_unschedulable 1' && exit 0; done; exit 1"
ok "a VM too big for node-a ran on node-b; one too big for all: Pending, \"$(reason_of huge)\""
start_node node-c --memory-overcommit 4 --cpu-overcommit 8 --node-label zone=b
wait_for 20 "huge Running on node-c" sh -c "[ \"\$(etcdctl --endpoints $ETCD get ${PREFIX}placement/default/huge --print-value-only)\" = node-c ]"
wait_for 20 "huge Running" converged default vm huge Running
put_vm default wide '{"vcpus":100,"memory":"64MiB"}'
wait_for 20 "wide Running" converged default vm wide Running
[ "$(node_of wide)" = node-c ] || fail "100 vCPUs went to $(node_of wide), only node-c (16 x 8) has room"
ok "node-c joined: huge (8 GiB on 3 GiB x 4) placed there at once; 100 vCPUs only fit node-c's 16 x 8"

# nodeSelector.
put_vm default picky '{"vcpus":1,"memory":"64MiB","placement":{"nodeSelector":{"zone":"a"}}}'
put_vm default nowhere '{"vcpus":1,"memory":"64MiB","placement":{"nodeSelector":{"zone":"mars"}}}'
wait_for 20 "picky Running" converged default vm picky Running
[ "$(node_of picky)" = node-a ] || fail "picky went to $(node_of picky)"
wait_for 10 "nowhere's reason" sh -c "etcdctl --endpoints $ETCD get ${PREFIX}status/default/vm/nowhere --print-value-only | grep -q '0/3 nodes: 3 not matching nodeSelector'"
ok "nodeSelector zone=a: node-a; zone=mars: \"$(reason_of nowhere)\""

# Hard anti-affinity: one web VM per node; the fourth waits.
web() { printf '{"apiVersion":"novacron.io/v1","kind":"VirtualMachine","metadata":{"name":"%s","labels":{"app":"web"}},"spec":{"vcpus":1,"memory":"64MiB","placement":{"antiAffinity":[{"labels":{"app":"web"}}]}}}' "$1"; }
for i in 1 2 3 4; do ec put "${PREFIX}spec/default/vm/web-$i" "$(web "web-$i")" >/dev/null; done
wait_for 20 "3 web VMs placed, the fourth refused" sh -c "etcdctl --endpoints $ETCD get ${PREFIX}status/default/vm/ --prefix --print-value-only | grep -c 'anti-affinity' | grep -qx 1"
nodes=$(for i in 1 2 3 4; do node_of "web-$i"; done | sort | tr '\n' ' ')
[ "$nodes" = "node-a node-b node-c " ] || fail "web VMs on: $nodes"
ok "hard anti-affinity: web VMs on $nodes; the fourth: \"$(for i in 1 2 3 4; do reason_of "web-$i"; done | grep anti)\""

# Spread over zones: zone b has two nodes, zone a one; least-allocated
# alone would put most in zone b.
api() { printf '{"apiVersion":"novacron.io/v1","kind":"VirtualMachine","metadata":{"name":"%s","labels":{"app":"api"}},"spec":{"vcpus":1,"memory":"64MiB","placement":{"spread":{"topologyKey":"zone"}}}}' "$1"; }
for i in 1 2 3 4; do ec put "${PREFIX}spec/default/vm/api-$i" "$(api "api-$i")" >/dev/null; done
wait_for 20 "api VMs placed" sh -c "for i in 1 2 3 4; do [ -n \"\$(etcdctl --endpoints $ETCD get ${PREFIX}placement/default/api-\$i --print-value-only)\" ] || exit 1; done"
in_a=$(for i in 1 2 3 4; do node_of "api-$i"; done | grep -c '^node-a$' || true)
[ "$in_a" -eq 2 ] || fail "spread: $in_a of 4 in zone a ($(for i in 1 2 3 4; do node_of "api-$i"; done | tr '\n' ' '))"
ok "spread over zone: 2 of 4 in zone a (one node), 2 in zone b (two nodes)"

# Cordon: new VMs stay off node-b.
"$NOVACTL" --etcd "$ETCD" cordon node-b >/dev/null
wait_for 5 "node-b shown cordoned" sh -c "'$NOVACTL' --etcd $ETCD get node | grep -q 'node-b .*SchedulingDisabled'"
for i in 1 2 3 4 5 6; do put_vm default "c-$i" '{"vcpus":1,"memory":"64MiB"}'; done
wait_for 20 "c-* placed" sh -c "for i in 1 2 3 4 5 6; do [ -n \"\$(etcdctl --endpoints $ETCD get ${PREFIX}placement/default/c-\$i --print-value-only)\" ] || exit 1; done"
on_b=$(for i in 1 2 3 4 5 6; do node_of "c-$i"; done | grep -c '^node-b$' || true)
[ "$on_b" -eq 0 ] || fail "$on_b new VMs went to cordoned node-b"
ok "cordoned node-b took none of 6 new VMs"
"$NOVACTL" --etcd "$ETCD" uncordon node-b >/dev/null

# Drain node-c: what can go elsewhere is placed elsewhere; huge and wide
# (room nowhere else) and its web VM (anti-affinity) stay, still Running.
"$NOVACTL" --etcd "$ETCD" drain node-c >/dev/null
on_c() { ec get "${PREFIX}placement/default/" --prefix -w json | jq -r '.kvs[] | select((.value | @base64d) == "node-c") | .key | @base64d | sub(".*/"; "")' | sort | tr '\n' ' '; }
only_stuck() { for v in $(on_c); do case $v in huge|wide|web-*) ;; *) return 1;; esac; done; }
wait_for 20 "node-c drained of what fits elsewhere" only_stuck
for v in huge wide; do converged default vm "$v" Running || fail "$v is not Running on node-c: $(status_of default vm "$v")"; done
"$NOVACTL" --etcd "$ETCD" get node | grep -q 'node-c .*Draining' || fail "node-c not shown Draining: $("$NOVACTL" --etcd "$ETCD" get node)"
ok "drain node-c: left on it only what fits nowhere else ($(on_c)), still Running"
"$NOVACTL" --etcd "$ETCD" uncordon node-c >/dev/null

# Volume follows its VM: made on the first VM's node; the second VM of
# that Volume goes there too, even with another node emptier.
ec put "${PREFIX}spec/default/volume/data" '{"apiVersion":"novacron.io/v1","kind":"Volume","metadata":{"name":"data"},"spec":{"size":"16MiB","pool":"default-pool"}}' >/dev/null
put_vm default db-1 '{"vcpus":1,"memory":"64MiB","disks":[{"name":"d","volume":"data"}]}'
wait_for 20 "db-1 Running" converged default vm db-1 Running
home=$(node_of db-1)
wait_for 10 "the volume on db-1's node" sh -c "etcdctl --endpoints $ETCD get ${PREFIX}status/default/volume/data --print-value-only | jq -e '.node == \"$home\" and .phase == \"Ready\"'"
put_vm default db-2 '{"vcpus":1,"memory":"64MiB","disks":[{"name":"d","volume":"data","readOnly":true}]}'
wait_for 20 "db-2 Running" converged default vm db-2 Running
[ "$(node_of db-2)" = "$home" ] || fail "db-2 went to $(node_of db-2), its volume is on $home"
ok "Volume data made on $home, db-1's node; db-2 followed it there"

# The leader killed while placing 60 VMs, with room for all of them and
# for the dead node's: the big ones go first. What each node offers is
# read before, since the dead one's registration goes with its lease.
for v in huge wide big; do ec del "${PREFIX}spec/default/vm/$v" >/dev/null; done
wait_for 20 "huge, wide and big gone" sh -c "[ -z \"\$(etcdctl --endpoints $ETCD get ${PREFIX}placement/default/huge --print-value-only)\" ] &&
    [ -z \"\$(etcdctl --endpoints $ETCD get ${PREFIX}placement/default/wide --print-value-only)\" ] &&
    [ -z \"\$(etcdctl --endpoints $ETCD get ${PREFIX}placement/default/big --print-value-only)\" ]"
for n in node-a node-b node-c; do
    ec get "${PREFIX}nodes/$n" --print-value-only |
        jq -r --arg n "$n" '[$n, .allocatable.vcpus * .overcommit.cpu, .allocatable.memory * .overcommit.memory] | @tsv'
done >"$TMP/limits"
old=$(leader)
for i in $(seq 1 60); do put_vm default "burst-$i" '{"vcpus":1,"memory":"48MiB"}'; done &
putter=$!
sleep 0.3
kill -9 "$(cat "$TMP/$old.pid")"
wait "$putter"
wait_for 15 "a new leader" sh -c "l=\$(etcdctl --endpoints $ETCD get ${PREFIX}leader/scheduler --print-value-only); [ -n \"\$l\" ] && [ \"\$l\" != $old ]"
new=$(leader)
wait_for 30 "60 VMs placed" sh -c "[ \"\$(etcdctl --endpoints $ETCD get ${PREFIX}placement/default/burst- --prefix --keys-only | grep -c .)\" -eq 60 ]"
# Once the dead node's VMs that can move have moved: requests per node,
# from every VM's spec in etcd, on its placement's node.
sleep 4
ec get "${PREFIX}spec/default/vm/" --prefix -w json |
    jq -r '.kvs[] | .value | @base64d | fromjson |
           [.metadata.name, .spec.vcpus, (.spec.memory | capture("(?<n>[0-9]+)(?<u>[MG])iB") |
            (.n | tonumber) * (if .u == "G" then 1073741824 else 1048576 end))] | @tsv' |
    sort >"$TMP/requests"
ec get "${PREFIX}placement/default/" --prefix -w json |
    jq -r '.kvs[] | [(.key | @base64d | sub(".*/"; "")), (.value | @base64d)] | @tsv' | sort >"$TMP/placed"
join "$TMP/requests" "$TMP/placed" >"$TMP/joined"
[ "$(wc -l <"$TMP/placed")" -eq "$(wc -l <"$TMP/joined")" ] || fail "placements without a spec"
while read -r n cpu mem; do
    awk -v n="$n" -v cpu="$cpu" -v mem="$mem" '$4 == n { c += $2; m += $3; k++ }
        END { printf "  %s: %d VMs, %d of %d vCPUs, %.0f of %.0f bytes\n", n, k, c, cpu, m, mem > "/dev/stderr";
              exit !(c <= cpu && m <= mem) }' "$TMP/joined" || fail "$n is overcommitted"
done <"$TMP/limits"
[ -z "$(cut -f1 "$TMP/placed" | sort | uniq -d)" ] || fail "a VM placed twice"
ok "leader $old killed with -9 mid-burst: $new took over, 60 VMs placed once each, no node over what it offers"

# Failover of a VM whose disk is on node-local storage: its node gone, it
# stays placed there, Pending, naming the node; nothing else takes it.
if [ "$home" != "$old" ]; then
    kill -9 "$(cat "$TMP/$home.pid")"
fi
lost() { status_of default vm db-1 | jq -e --arg n "$home" '.phase == "Pending" and
    (.conditions[] | select(.type == "Ready") | .reason == "NodeLost" and (.message | contains("node " + $n + " is gone")))'; }
wait_for 20 "db-1 NodeLost" lost
[ "$(node_of db-1)" = "$home" ] && [ "$(node_of db-2)" = "$home" ] || fail "db-1/db-2 moved off $home"
ok "node $home gone: db-1 and db-2 (Volume on its local pool) stay placed there, Pending: $(status_of default vm db-1 | jq -r '.conditions[] | select(.type == "Ready") | .message')"
