# Networks between two hosts, each a network namespace this test makes
# (joined by a veth pair, every address inside them) with its own
# novacrond --netns --underlay, one etcd: the bridge and VXLAN device on
# each host, checked with ip(8), bridge(8) and ping across the VXLAN; a
# VNI allocated once; bridge addresses stable across a restart; an
# overlapping CIDR and a duplicate VNI Failed on the later Network;
# deleting removes devices, allocations and status, also after kill -9.
. "$(dirname "$0")/lib.sh"

A=nc-net-$$-a
B=nc-net-$$-b
on_cleanup 'for f in "$TMP"/host-*.pid; do kill -9 $(cat "$f"); done 2>/dev/null; ip netns del '"$A"' 2>/dev/null; ip netns del '"$B"' 2>/dev/null'
ip netns add "$A"
ip netns add "$B"
ip -n "$A" link add nc-veth type veth peer name nc-veth netns "$B"
ip -n "$A" addr add 192.168.214.1/24 dev nc-veth
ip -n "$B" addr add 192.168.214.2/24 dev nc-veth
for ns in "$A" "$B"; do ip -n "$ns" link set lo up; ip -n "$ns" link set nc-veth up; done

start_host() { # NAME NETNS PORT
    "$NOVACROND" --etcd "$ETCD" --listen "127.0.0.1:$3" --node "$1" --netns "$2" \
        --underlay nc-veth --resync 1h --node-ttl 3s --workers 2 >>"$TMP/$1.log" 2>&1 &
    echo $! >"$TMP/$1.pid"
    wait_for 30 "$1 ready" curl -sf "http://127.0.0.1:$3/readyz"
}
PA=$(free_port)
PB=$(free_port)
start_host host-a "$A" "$PA"
start_host host-b "$B" "$PB"
ec get "${PREFIX}nodes/host-a" --print-value-only | jq -e '.underlayAddress == "192.168.214.1"' >/dev/null ||
    fail "host-a's registration: $(ec get "${PREFIX}nodes/host-a" --print-value-only)"

net_doc() { # NAME SPEC
    printf '{"apiVersion":"novacron.io/v1","kind":"Network","metadata":{"name":"%s","namespace":"default"},"spec":%s}' "$1" "$2"
}
put_net() { ec put "${PREFIX}spec/default/network/$1" "$(net_doc "$1" "$2")" >/dev/null; }
realised_on_both() {
    converged default network "$1" Ready &&
        status_of default network "$1" | jq -e '.nodes | sort == ["host-a","host-b"]' >/dev/null
}
put_net net-a '{"cidr":"10.214.0.0/24"}'
wait_for 30 "net-a on both hosts" realised_on_both net-a
st=$(status_of default network net-a)
vni=$(echo "$st" | jq -r .vni)
br=$(echo "$st" | jq -r .bridge)
vx=$(echo "$st" | jq -r .vxlanDevice)
[ "${#br}" -le 15 ] && [ "${#vx}" -le 15 ] || fail "device names too long: $br $vx"
[ "$(ec get "${PREFIX}alloc/vni/$vni" --print-value-only)" = default/net-a ] || fail "VNI $vni not allocated to net-a"
ip -n "$A" -d link show "$vx" | grep -q "vxlan id $vni local 192.168.214.1 dev nc-veth" || fail "$vx on $A: $(ip -n "$A" -d link show "$vx")"
ip -n "$A" link show "$vx" | grep -q "master $br" || fail "$vx is not on $br"
ip -n "$A" link show "$br" | grep -q "alias novacron:" || fail "$br carries no owner mark"
bridge -n "$A" fdb show dev "$vx" | grep -q "00:00:00:00:00:00 dst 192.168.214.2 self permanent" ||
    fail "no FDB entry toward host-b: $(bridge -n "$A" fdb show dev "$vx")"
bridge -n "$B" fdb show dev "$vx" | grep -q "00:00:00:00:00:00 dst 192.168.214.1 self permanent" ||
    fail "no FDB entry toward host-a"
ip_a=$(ip -n "$A" -4 -o addr show "$br" | awk '{print $4}')
ip_b=$(ip -n "$B" -4 -o addr show "$br" | awk '{print $4}')
[ -n "$ip_a" ] && [ -n "$ip_b" ] && [ "$ip_a" != "$ip_b" ] || fail "bridge addresses: '$ip_a' '$ip_b'"
ip netns exec "$A" ping -c 2 -W 2 -q "${ip_b%/*}" >/dev/null || fail "no ping from host-a's bridge to host-b's (${ip_b%/*})"
ok "net-a (VNI $vni) realised on both hosts: $br $ip_a / $ip_b, VXLAN $vx with an FDB entry toward the other host, ping across"
[ -z "$(ip -o link | grep -E "ncb|ncx" || true)" ] || fail "a device appeared in the root namespace"

# Collisions fail on the later Network, never fought over.
put_net net-b '{"cidr":"10.214.0.128/25"}'
put_net net-c "{\"cidr\":\"10.215.0.0/24\",\"vni\":$vni}"
failed_net() { phase_is_failed=$(status_of default network "$1" | jq -r '.phase + ": " + .conditions[0].message'); echo "$phase_is_failed" | grep -qF "$2"; }
wait_for 20 "net-b Failed" failed_net net-b "Failed: spec.cidr: 10.214.0.128/25 overlaps the CIDR of the older network default/net-a"
wait_for 20 "net-c Failed" failed_net net-c "Failed: spec.vni: $vni is held by network default/net-a"
converged default network net-a Ready || fail "net-a was disturbed"
ok "an overlapping CIDR and a duplicate VNI: the later Network Failed, naming the older"
ec del "${PREFIX}spec/default/network/net-b" "${PREFIX}spec/default/network/net-c" >/dev/null
ec del "${PREFIX}spec/default/network/net-c" >/dev/null

# Addresses are stable across a restart.
kill -TERM "$(cat "$TMP/host-a.pid")"
wait "$(cat "$TMP/host-a.pid")" 2>/dev/null || true
start_host host-a "$A" "$PA"
sleep 1
[ "$(ip -n "$A" -4 -o addr show "$br" | awk '{print $4}')" = "$ip_a" ] || fail "host-a's bridge address changed"
[ "$(status_of default network net-a | jq -r .vni)" = "$vni" ] || fail "the VNI changed"
ok "after a restart of host-a: the same bridge address $ip_a and VNI $vni"

# kill -9 while the Network is deleted: nothing leaks.
kill -9 "$(cat "$TMP/host-a.pid")"
ec del "${PREFIX}spec/default/network/net-a" >/dev/null
wait_for 20 "net-a gone from host-b" sh -c "! ip -n $B link show $br >/dev/null 2>&1"
start_host host-a "$A" "$PA"
wait_for 20 "net-a gone from host-a" sh -c "! ip -n $A link show $br >/dev/null 2>&1 && ! ip -n $A link show $vx >/dev/null 2>&1"
wait_for 20 "status and allocations gone" sh -c "[ -z \"\$(etcdctl --endpoints $ETCD get ${PREFIX}alloc/ --prefix --keys-only)\" ] && [ -z \"\$(etcdctl --endpoints $ETCD get ${PREFIX}status/default/network/ --prefix --keys-only)\" ]"
ok "deleted while host-a was killed: after its restart no bridge, no VXLAN device, no allocation, no status left"
