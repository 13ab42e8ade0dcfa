# Networks in vlan mode between two hosts, each a network namespace this
# test makes (joined by a veth pair, every address inside them), each
# novacrond with --vlan-parent on its end of the pair: a VLAN device
# (802.1Q, the Network's id, on the parent) on each host's bridge, the
# bridges reach each other across it, and two Networks with different ids
# on the same parent stay apart (neither bridge learns the other's
# frames). A node without --vlan-parent, and a VLAN id another Network
# holds, are Failed; deleting removes the devices.
# On a kernel without 802.1Q VLANs (CONFIG_VLAN_8021Q, as on the CI
# machine) the Networks are Failed instead, saying so, and the two nodes,
# both failing, leave the status to the first that said it rather than
# overwriting each other's word in turn; the rest then runs as above.
# lane: light
. "$(dirname "$0")/lib.sh"
RUN=/run/nc-test-$$

A=nc-vlan-$$-a
B=nc-vlan-$$-b
on_cleanup 'for f in "$TMP"/host-*.pid; do kill -9 $(cat "$f"); done 2>/dev/null; pkill -f -- "--pid-file='"$RUN"'/" 2>/dev/null; rm -rf '"$RUN"'; ip netns del '"$A"' 2>/dev/null; ip netns del '"$B"' 2>/dev/null'
PREFIX="/nc-test-$$-$(date +%s)/"
netns_pair "$A" "$B" 192.168.217

start_host host-a "$A" "$(free_port)" --vlan-parent nc-veth
start_host host-b "$B" "$(free_port)" --vlan-parent nc-veth

anchor() { # VM NODE NETWORK: a test-driver VM that brings the Network to NODE
    put_vm default "$1" "$(jq -cn --arg n "$2" --arg net "$3" '{vcpus: 1, memory: "64MiB", node: $n, interfaces: [{name: "eth0", network: $net}]}')"
}
on_both() {
    converged default network "$1" Ready &&
        status_of default network "$1" | jq -e '.nodes | sort == ["host-a","host-b"]' >/dev/null
}
put_net red '{"cidr":"10.218.0.0/24","mode":"vlan","vlan":218}'
put_net blue '{"cidr":"10.219.0.0/24","mode":"vlan","vlan":219}'
for net in red blue; do
    anchor "$net-a" host-a "$net"
    anchor "$net-b" host-b "$net"
done

# Does this kernel make VLAN devices?
ip netns add "$A-probe"
ip -n "$A-probe" link add nc-p0 type veth peer name nc-p1
if ! ip -n "$A-probe" link add link nc-p0 name nc-p0.2 type vlan id 2 2>/dev/null; then
    ip netns del "$A-probe"
    no_8021q() { status_of default network red | jq -e '.phase == "Failed" and (.conditions[0].message | test("no 802.1Q VLAN support"))' >/dev/null; }
    wait_for 30 "red Failed for the kernel" no_8021q
    sleep 2
    v1=$(ec get "${PREFIX}status/default/network/red" -w json | jq '.kvs[0].version')
    sleep 3
    v2=$(ec get "${PREFIX}status/default/network/red" -w json | jq '.kvs[0].version')
    [ $((v2 - v1)) -le 1 ] || fail "red's status was written $((v2 - v1)) times in 3 s by two failing nodes"
    ok "no 802.1Q in this kernel: red $(status_of default network red | jq -r '.phase + " (" + .failedNode + "): " + .conditions[0].message'); its status written $((v2 - v1)) times in 3 s with both nodes failing"
    exit 0
fi
ip netns del "$A-probe"
wait_for 30 "red on both hosts" on_both red
wait_for 30 "blue on both hosts" on_both blue

for net in red blue; do
    st=$(status_of default network "$net")
    br=$(echo "$st" | jq -r .bridge)
    vl=$(echo "$st" | jq -r .vlanDevice)
    id=$(echo "$st" | jq -r .vlan)
    for ns in "$A" "$B"; do
        ip -n "$ns" -d link show "$vl" | grep -q "vlan protocol 802.1Q id $id" ||
            fail "$vl on $ns: $(ip -n "$ns" -d link show "$vl" 2>&1)"
        ip -n "$ns" link show "$vl" | grep -q "$vl@nc-veth:.*master $br" ||
            fail "$vl on $ns is not on nc-veth and $br: $(ip -n "$ns" link show "$vl")"
    done
    eval "br_$net=\$br"
done
[ "$(ec get "${PREFIX}alloc/vlan/218" --print-value-only)" = default/red ] || fail "VLAN 218 not held by red"
[ -z "$(ip -o link | grep -E "ncv|ncb" || true)" ] || fail "a device appeared in the root namespace"

# Across each VLAN: ping from host-a's bridge to host-b's.
addr_of() { ip -n "$1" -4 -o addr show "$2" | awk '{ print $4 }' | cut -d/ -f1; }
red_b=$(addr_of "$B" "$br_red")
blue_b=$(addr_of "$B" "$br_blue")
ip netns exec "$A" ping -c 2 -W 2 -q "$red_b" >/dev/null || fail "no ping across VLAN 218 to $red_b"
ip netns exec "$A" ping -c 2 -W 2 -q "$blue_b" >/dev/null || fail "no ping across VLAN 219 to $blue_b"
# Apart: host-b's red bridge learned host-a's red bridge, its blue bridge
# did not (and the other way round).
mac_red_a=$(ip -n "$A" link show "$br_red" | awk '/link\/ether/ { print $2 }')
mac_blue_a=$(ip -n "$A" link show "$br_blue" | awk '/link\/ether/ { print $2 }')
bridge -n "$B" fdb show br "$br_red" | grep -q "$mac_red_a" || fail "host-b's red bridge never saw host-a's"
! bridge -n "$B" fdb show br "$br_red" | grep -q "$mac_blue_a" || fail "host-a's blue frames reached host-b's red bridge"
! bridge -n "$B" fdb show br "$br_blue" | grep -q "$mac_red_a" || fail "host-a's red frames reached host-b's blue bridge"
ok "red (VLAN 218) and blue (VLAN 219) on nc-veth on both hosts: ping across each; neither bridge learned the other's frames"

# The same id again: Failed, naming the holder; a node without a parent.
put_net green '{"cidr":"10.220.0.0/24","mode":"vlan","vlan":218}'
failed_green() { status_of default network green | jq -e '.phase == "Failed" and (.conditions[0].message | test("spec.vlan: 218 is held by network default/red"))' >/dev/null; }
wait_for 20 "green Failed" failed_green
ec del "${PREFIX}spec/default/network/green" >/dev/null
stop_host host-b
start_host host-b "$B" "$(free_port)"
put_net blue '{"cidr":"10.219.0.0/24","mode":"vlan","vlan":219,"mtu":1400}'
no_parent() { status_of default network blue | jq -e '.phase == "Failed" and (.conditions[0].reason == "NoVLANParent")' >/dev/null; }
wait_for 20 "blue Failed on host-b without --vlan-parent" no_parent
ok "VLAN 218 asked again: $(status_of default network green | jq -r '.conditions[0].message' 2>/dev/null || echo Failed); host-b without --vlan-parent: $(status_of default network blue | jq -r '.conditions[0].message')"

# Deleted: devices and the id go.
stop_host host-b
start_host host-b "$B" "$(free_port)" --vlan-parent nc-veth
for net in red blue; do
    ec del "${PREFIX}spec/default/vm/$net-a" >/dev/null
    ec del "${PREFIX}spec/default/vm/$net-b" >/dev/null
    ec del "${PREFIX}spec/default/network/$net" >/dev/null
done
gone() { [ -z "$(ec get "${PREFIX}status/default/network/$1" --print-value-only)" ]; }
wait_for 60 "red deleted" gone red
wait_for 60 "blue deleted" gone blue
for ns in "$A" "$B"; do
    [ -z "$(ip -n "$ns" -o link | grep -E "ncv|ncb" || true)" ] || fail "devices left in $ns: $(ip -n "$ns" -o link | grep -E "ncv|ncb")"
done
[ -z "$(ec get "${PREFIX}alloc/vlan/" --prefix --keys-only)" ] || fail "VLAN ids still held: $(ec get "${PREFIX}alloc/vlan/" --prefix --keys-only)"
ok "both deleted: no VLAN device or bridge left on either host, no VLAN id held"
