# Networks between two hosts, each a network namespace this test makes
# (joined by a veth pair, every address inside them) with its own
# novacrond --netns --underlay, one etcd: the bridge and VXLAN device on
# each host, checked with ip(8), bridge(8) and ping across the VXLAN; a
# VNI allocated once; a Network realised only on the hosts that run its
# VMs, and taken down from a host when its last VM there goes; bridge
# addresses stable across a restart; an
# overlapping CIDR and a duplicate VNI Failed on the later Network;
# deleting removes devices, allocations and status, also after kill -9.
# A real TCG guest on host-a gets its allocated address by DHCP from
# host-a's dnsmasq (its serial console says which) and is reached by ping
# from host-b; an explicit MAC/IP is honoured, an address another holds is
# a conflict; deleting the Network waits for its VMs.
. "$(dirname "$0")/lib.sh"
# dnsmasq reads its hosts file as nobody: not under the private $TMP.
RUN=/run/nc-test-$$

A=nc-net-$$-a
B=nc-net-$$-b
on_cleanup 'for f in "$TMP"/host-*.pid; do kill -9 $(cat "$f"); done 2>/dev/null; pkill -f -- "--pid-file='"$RUN"'/" 2>/dev/null; rm -rf '"$RUN"'; ip netns del '"$A"' 2>/dev/null; ip netns del '"$B"' 2>/dev/null'
# After the hosts are killed, so that none defines its guest again.
use_qemu
netns_pair "$A" "$B" 192.168.214

PA=$(free_port)
PB=$(free_port)
QEMU_FLAGS="--libvirt qemu:///system --force-tcg"
start_host host-a "$A" "$PA" $QEMU_FLAGS
start_host host-b "$B" "$PB"
ec get "${PREFIX}nodes/host-a" --print-value-only | jq -e '.underlayAddress == "192.168.214.1"' >/dev/null ||
    fail "host-a's registration: $(ec get "${PREFIX}nodes/host-a" --print-value-only)"

realised_on_both() {
    converged default network "$1" Ready &&
        status_of default network "$1" | jq -e '.nodes | sort == ["host-a","host-b"]' >/dev/null
}
vm_with() { # NAME NODE INTERFACES [SPEC]
    spec=${4:-'{"vcpus":1,"memory":"64MiB"}'}
    put_vm default "$1" "$(echo "$spec" | jq -c --arg n "$2" --argjson i "$3" '. + {node: $n, interfaces: $i}')"
}
put_net net-a '{"cidr":"10.214.0.0/24"}'
# A Network is realised where its VMs are: one on each host (a stopped
# guest on host-a, a test-driver VM on host-b) brings it to both.
wait_for 20 "net-a Ready" converged default network net-a Ready
[ "$(status_of default network net-a | jq -c .nodes)" = "[]" ] || fail "net-a realised without VMs: $(status_of default network net-a)"
vm_with anchor-a host-a '[{"name":"eth0","network":"net-a"}]' "$(guest_spec Stopped)"
vm_with anchor-b host-b '[{"name":"eth0","network":"net-a"}]'
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

# A guest on host-a: MAC and IP allocated, tap on the bridge inside
# host-a's namespace, address by DHCP, reached from host-b.
vm_with g1 host-a '[{"name":"eth0","network":"net-a"}]' "$(guest_spec)"
wait_for 60 "g1 Running" converged default vm g1 Running
st=$(status_of default vm g1)
mac=$(echo "$st" | jq -r '.interfaces[0].mac')
gip=$(echo "$st" | jq -r '.interfaces[0].ip')
tap=$(echo "$st" | jq -r '.interfaces[0].device')
[ "$(ec get "${PREFIX}alloc/mac/$mac" --print-value-only)" = vm/default/g1/eth0 ] || fail "MAC $mac not allocated to g1"
[ "$(ec get "${PREFIX}alloc/ip/default/net-a/$gip" --print-value-only)" = vm/default/g1/eth0 ] || fail "IP $gip not allocated to g1"
[ "$gip" != "${ip_a%/*}" ] && [ "$gip" != "${ip_b%/*}" ] || fail "g1 got a bridge's address $gip"
ip -n "$A" link show "$tap" | grep -q "master $br" || fail "tap $tap is not on $br in $A: $(ip -n "$A" link show "$tap" 2>&1)"
! ip link show "$tap" >/dev/null 2>&1 || fail "tap $tap is still in the root namespace"
dpid=$(cat "$RUN/host-a/dnsmasq/$br.pid")
[ "$(ip netns identify "$dpid")" = "$A" ] || fail "dnsmasq $dpid is not in $A"
grep -qx "$mac,$gip" "$RUN/host-a/dnsmasq/$br.hosts" || fail "dnsmasq hosts: $(cat "$RUN/host-a/dnsmasq/$br.hosts")"
! grep -q "$mac" "$RUN/host-b/dnsmasq/$br.hosts" 2>/dev/null || fail "host-b's dnsmasq answers for host-a's guest"
wait_for 90 "g1's DHCP address on its console" console_has default g1 "NOVACRON-GUEST-IP $gip"
ip netns exec "$B" ping -c 3 -W 2 -q "$gip" >/dev/null || fail "no ping from host-b to the guest at $gip"
ok "guest g1 on host-a: $mac/$gip allocated, tap $tap on $br inside $A, DHCP from host-a's dnsmasq (console: NOVACRON-GUEST-IP $gip), ping from host-b"

# NIC hot-plug: a second interface added to the running g1 is attached
# live (the same domain id), its tap on the bridge, the guest sees it;
# removed again, it is detached live and its addresses are given back.
id0=$($VIRSH domid "$(domain_of default g1)")
vm_with g1 host-a '[{"name":"eth0","network":"net-a"},{"name":"eth1","network":"net-a"}]' "$(guest_spec)"
two_nics() { converged default vm g1 Running && status_of default vm g1 | jq -e '.interfaces | length == 2 and all(.[]; .mac != null)' >/dev/null; }
wait_for 30 "g1 with two interfaces" two_nics
mac2=$(status_of default vm g1 | jq -r '.interfaces[1].mac')
tap2=$(status_of default vm g1 | jq -r '.interfaces[1].device')
ip2=$(status_of default vm g1 | jq -r '.interfaces[1].ip')
nics_are() { [ "$(grep -ao 'NOVACRON-GUEST-NICS.*' "$(status_of default vm g1 | jq -r .consoleLog)" | tail -n 1 | tr -d '\r')" = "NOVACRON-GUEST-NICS $1" ]; }
wait_for 30 "the guest sees eth1" nics_are "eth0=$mac eth1=$mac2"
[ "$($VIRSH domid "$(domain_of default g1)")" = "$id0" ] || fail "g1 restarted for a new interface"
wait_for 10 "tap $tap2 on $br" sh -c "ip -n $A link show $tap2 | grep -q 'master $br'"
has_event default g1 InterfaceAttached || fail "no InterfaceAttached event"
vm_with g1 host-a '[{"name":"eth0","network":"net-a"}]' "$(guest_spec)"
one_nic() { converged default vm g1 Running && status_of default vm g1 | jq -e '.interfaces | length == 1' >/dev/null; }
wait_for 30 "g1 back to one interface" one_nic
wait_for 30 "the guest lost eth1" nics_are "eth0=$mac"
[ "$($VIRSH domid "$(domain_of default g1)")" = "$id0" ] || fail "g1 restarted to lose an interface"
has_event default g1 InterfaceDetached || fail "no InterfaceDetached event"
wait_for 10 "eth1's IP given back" sh -c "! etcdctl --endpoints $ETCD get ${PREFIX}alloc/ip/default/net-a/$ip2 --print-value-only | grep -q ."
ok "NIC hot-plug: eth1 ($mac2/$ip2, tap $tap2) attached to the running g1 and seen by the guest, then detached, domain id $id0 throughout"

# A cloud-init seed (a new definition: g1 restarts onto it) whose
# network-config, made since the spec gives none, has g1's MAC and IP.
vm_with g1 host-a '[{"name":"eth0","network":"net-a"}]' "$(guest_spec | jq -c '. + {cloudInit: {}}')"
wait_for 60 "g1's seed on its console" console_has default g1 "NOVACRON-GUEST-SEED network-config"
log=$(status_of default vm g1 | jq -r .consoleLog)
for want in 'NOVACRON-GUEST-SEED network-config   "eth0":' "NOVACRON-GUEST-SEED network-config       macaddress: \"$mac\"" \
    "NOVACRON-GUEST-SEED network-config     addresses: [\"$gip/24\"]"; do
    grep -qF -- "$want" "$log" || fail "g1's console lacks '$want': $(grep network-config "$log")"
done
ok "g1 with a cloud-init seed: its network-config matches $mac to $gip/24"

# Status is never input: a forged Network status (another bridge, MTU) and
# a forged VM status (a MAC with a line break, an address it does not
# hold) change neither the tap nor dnsmasq's hosts, and are written back.
ec put "${PREFIX}status/default/network/net-a" \
    "$(status_of default network net-a | jq -c '.bridge = "nc-veth" | .mtu = 9000')" >/dev/null
ec put "${PREFIX}status/default/vm/g1" "$(status_of default vm g1 | jq -c '.interfaces += [{"name":"eth9","network":"net-a","mac":"1:2:3:4:5:6\nset:x","ip":"10.214.0.99"},{"name":"eth8","network":"net-a","mac":"52:54:00:00:00:99","ip":"10.214.0.98"}]')" >/dev/null
stop_host host-a
$VIRSH destroy "$(domain_of default g1)" >/dev/null
start_host host-a "$A" "$PA" $QEMU_FLAGS
g1_back() { converged default vm g1 Running && status_of default vm g1 | jq -e '.interfaces | length == 1' >/dev/null &&
    [ "$(domstate "$(domain_of default g1)")" = running ] && ip -n "$A" link show "$tap" | grep -q "master $br"; }
wait_for 60 "g1 Running again, its status written back" g1_back
wait_for 10 "net-a's status written back" sh -c "etcdctl --endpoints $ETCD get ${PREFIX}status/default/network/net-a --print-value-only | jq -e '.bridge == \"$br\" and .mtu == 1450' >/dev/null"
ip -n "$A" link show "$tap" | grep -q "master $br" || fail "after forged statuses, tap $tap is not on $br: $(ip -n "$A" link show "$tap")"
! grep -q "set:x\|10.214.0.9[89]" "$RUN/host-a/dnsmasq/$br.hosts" || fail "forged entries reached dnsmasq: $(cat "$RUN/host-a/dnsmasq/$br.hosts")"
grep -qx "$mac,$gip" "$RUN/host-a/dnsmasq/$br.hosts" || fail "g1's own entry is gone: $(cat "$RUN/host-a/dnsmasq/$br.hosts")"
ok "forged statuses (bridge nc-veth, MTU 9000; a MAC with a line break, an address not held): g1 restarted onto $br, dnsmasq kept only its held MAC/IP"

# Explicit MAC and IP honoured; an address another holds is a conflict.
vm_with g2 host-b "[{\"name\":\"eth0\",\"network\":\"net-a\",\"ip\":\"$gip\"}]"
vm_with g3 host-b '[{"name":"eth0","network":"net-a","mac":"52:54:00:aa:bb:cc","ip":"10.214.0.200"}]'
vm_with g4 host-b '[{"name":"eth0","network":"net-a","ip":"10.214.1.7"}]'
vm_with g5 host-b '[{"name":"eth0","network":"nowhere"}]'
failed_vm() { status_of default vm "$1" | jq -r '.phase + ": " + .conditions[0].message' | grep -qF "$2"; }
wait_for 20 "g2 Failed" failed_vm g2 "Failed: spec.interfaces[0].ip: $gip is held by VM default/g1 (interface eth0)"
wait_for 20 "g4 Failed" failed_vm g4 "Failed: spec.interfaces[0].ip: 10.214.1.7 is not a host address of network net-a"
wait_for 20 "g5 Pending" failed_vm g5 'Pending: waiting for network "nowhere" (spec.interfaces[0]): it does not exist'
wait_for 20 "g3 Running" converged default vm g3 Running
status_of default vm g3 | jq -e '.interfaces[0] | .mac == "52:54:00:aa:bb:cc" and .ip == "10.214.0.200"' >/dev/null || fail "g3: $(status_of default vm g3)"
wait_for 10 "g3 in host-b's dnsmasq" grep -qx "52:54:00:aa:bb:cc,10.214.0.200" "$RUN/host-b/dnsmasq/$br.hosts"
! grep -q "$mac" "$RUN/host-b/dnsmasq/$br.hosts" || fail "host-b answers for host-a's guest"
put_net nowhere '{"cidr":"10.216.0.0/24","mode":"isolated"}'
wait_for 20 "g5 Running once its Network is Ready" converged default vm g5 Running
ok "explicit MAC/IP honoured (g3); an address held by g1 and one outside the CIDR Failed naming the field; g5 Pending on a missing Network, Running when it appeared"

# Only where its VMs are: "nowhere" has g5 on host-b only; when g5 goes,
# host-b takes it down too. The anchors go, net-a keeps g1..g4.
nbr=$(status_of default network nowhere | jq -r .bridge)
[ "$(status_of default network nowhere | jq -c .nodes)" = '["host-b"]' ] || fail "nowhere: $(status_of default network nowhere)"
ip -n "$B" link show "$nbr" >/dev/null || fail "no $nbr on host-b"
! ip -n "$A" link show "$nbr" >/dev/null 2>&1 || fail "$nbr on host-a, which runs no VM of it"
for v in g5 anchor-a anchor-b; do ec del "${PREFIX}spec/default/vm/$v" >/dev/null; done
wait_for 20 "nowhere taken down from host-b" sh -c "! ip -n $B link show $nbr >/dev/null 2>&1 &&
    etcdctl --endpoints $ETCD get ${PREFIX}status/default/network/nowhere --print-value-only | jq -e '.nodes == [] and .phase == \"Ready\"'"
ok "a Network is realised only where its VMs are: $nbr on host-b alone, removed with its last VM there"

# Addresses are stable across a restart.
stop_host host-a
start_host host-a "$A" "$PA" $QEMU_FLAGS
sleep 1
[ "$(ip -n "$A" -4 -o addr show "$br" | awk '{print $4}')" = "$ip_a" ] || fail "host-a's bridge address changed"
[ "$(status_of default network net-a | jq -r .vni)" = "$vni" ] || fail "the VNI changed"
status_of default vm g1 | jq -e --arg m "$mac" --arg i "$gip" '.interfaces[0] | .mac == $m and .ip == $i' >/dev/null || fail "g1's addresses changed"
# g1 was started again (after the destroy above) a few seconds ago: it
# may still be booting.
wait_for 60 "a ping to the guest after the restart" ip netns exec "$B" ping -c 1 -W 1 -q "$gip"
ok "after a restart of host-a: the same bridge address $ip_a, VNI $vni and guest address $gip, still reached"

# Deleting the Network waits for its VMs; kill -9 meanwhile leaks nothing.
ec del "${PREFIX}spec/default/network/net-a" >/dev/null
net_says() { status_of default network net-a | jq -r '.phase + ": " + .conditions[0].message' | grep -qF "$1"; }
wait_for 20 "net-a waits for its VMs" net_says "Deleting: deletion waits: in use by VM g1, g2, g3, g4"
ip -n "$A" link show "$br" >/dev/null || fail "net-a's bridge went while VMs use it"
kill -9 "$(cat "$TMP/host-a.pid")"
for v in g1 g2 g3 g4; do ec del "${PREFIX}spec/default/vm/$v" >/dev/null; done
ec del "${PREFIX}spec/default/network/nowhere" >/dev/null
wait_for 20 "host-b's VMs gone" sh -c "[ \"\$(etcdctl --endpoints $ETCD get ${PREFIX}status/default/vm/ --prefix --keys-only | grep -c .)\" = 1 ]"
net_says "in use by VM g1" || fail "net-a did not wait for g1 while host-a was down"
start_host host-a "$A" "$PA" $QEMU_FLAGS
wait_for 30 "net-a gone from both hosts" sh -c "! ip -n $A link show $br >/dev/null 2>&1 && ! ip -n $A link show $vx >/dev/null 2>&1 && ! ip -n $B link show $br >/dev/null 2>&1"
wait_for 20 "statuses and allocations gone" sh -c "[ -z \"\$(etcdctl --endpoints $ETCD get ${PREFIX}alloc/ --prefix --keys-only)\" ] && [ -z \"\$(etcdctl --endpoints $ETCD get ${PREFIX}status/ --prefix --keys-only)\" ]"
[ -z "$(test_domains)" ] || fail "domains left: $(test_domains)"
# (A killed dnsmasq may stay a zombie for a while: PID 1 here is no init.)
! pgrep -r D,R,S,T -f -- "--pid-file=$RUN/" >/dev/null ||
    fail "a dnsmasq is still running: $(pgrep -r D,R,S,T -af -- "--pid-file=$RUN/")"
[ -z "$(find "$RUN" -type f ! -name "*.lock")" ] || fail "dnsmasq files left: $(find "$RUN" -type f)"
[ -z "$(ip -o link | grep -E "ncb|ncx|nct" || true)" ] || fail "a device appeared in the root namespace"
ok "net-a deleted while g1..g4 used it: Deleting naming them; with host-a killed meanwhile, after its restart no domain, device, dnsmasq, allocation or status left"
