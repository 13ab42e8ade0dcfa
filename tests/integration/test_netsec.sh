# Guests' network security, with a node in a network namespace of this
# test and another namespace playing "the outside" behind the node's
# uplink, with no route back to the guests' CIDR.
# Egress NAT (Network spec.egress): a real TCG guest whose user-data
# script pings the outside and sends a line over TCP reaches it only
# through the node's masquerade, and arrives from the node's address. The
# rules live in an nftables table of the Network's own, marked with its
# owner, inside the node's namespace only; a table of someone else's there
# is never touched; nat: false takes the table away, a `via` the node
# lacks is Failed naming the field, and deleting the Network removes its
# table.
# Port security (interfaces[].portSecurity, on by default): the same guest
# sending from an address or a MAC that is not its own is cut off, and
# answers again once it uses its own; a second guest with portSecurity
# false may send from any address.
. "$(dirname "$0")/lib.sh"
RUN=/run/nc-test-$$

A=nc-egr-$$-a
O=nc-egr-$$-o
on_cleanup 'for f in "$TMP"/host-*.pid; do kill -9 $(cat "$f"); done 2>/dev/null; pkill -f -- "--pid-file='"$RUN"'/" 2>/dev/null; [ -f "$TMP/outside.pid" ] && kill $(cat "$TMP/outside.pid") 2>/dev/null; rm -rf '"$RUN"'; ip netns del '"$A"' 2>/dev/null; ip netns del '"$O"' 2>/dev/null'
use_qemu
netns_pair "$A" "$O" 192.168.216
OUTSIDE=192.168.216.2

# The outside: a TCP server that writes down who connected and what came.
ip netns exec "$O" python3 -c '
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("'"$OUTSIDE"'", 7000))
s.listen(4)
while True:
    c, peer = s.accept()
    c.settimeout(5)
    data = c.recv(200).decode(errors="replace").strip()
    with open(sys.argv[1], "a") as f:
        f.write("%s %s\n" % (peer[0], data))
    c.close()
' "$TMP/outside.log" &
echo $! >"$TMP/outside.pid"
# Someone else's rules in the node's namespace: never to be touched.
ip netns exec "$A" nft add table ip someone-else
ip netns exec "$A" nft add chain ip someone-else input '{ type filter hook input priority 0; policy accept; }'
ip netns exec "$A" nft add rule ip someone-else input tcp dport 9 counter accept

PA=$(free_port)
start_host host-a "$A" "$PA" --libvirt qemu:///system --force-tcg

put_net out '{"cidr":"10.216.0.0/24","mode":"isolated","egress":{"nat":true,"via":"nc-veth"}}'

script="#!/bin/sh
ping -c 3 -W 2 $OUTSIDE >/dev/null 2>&1 && echo NOVACRON-EGRESS-PING-OK || echo NOVACRON-EGRESS-PING-FAILED
echo hello-from-g1 | nc -w 3 $OUTSIDE 7000 && echo NOVACRON-EGRESS-TCP-SENT
"
# Each guest tries the gateway (the node's bridge address) from its own
# address, from one that is not its own, from a MAC that is not its own,
# and from its own again.
spoof='
gw=$(ip route | awk "/default/ { print \$3 }")
try() { if ping -c 2 -W 2 "$@" "$gw" >/dev/null 2>&1; then echo "NOVACRON-PS-$step-PASSED"; else echo "NOVACRON-PS-$step-BLOCKED"; fi; }
step=OWN; try
ip addr add 10.216.0.200/32 dev eth0
step=IP; try -I 10.216.0.200
ip addr del 10.216.0.200/32 dev eth0
mac=$(cat /sys/class/net/eth0/address)
ip link set eth0 address 52:54:00:de:ad:01
ip neigh flush dev eth0
step=MAC; try
ip link set eth0 address "$mac"
ip neigh flush dev eth0
step=AGAIN; try
'
put_vm default g1 "$(guest_spec | jq -c --arg s "$script$spoof" \
    '. + {node: "host-a", interfaces: [{name: "eth0", network: "out"}], cloudInit: {userData: $s}}')"
put_vm default g2 "$(guest_spec | jq -c --arg s "#!/bin/sh$spoof" \
    '. + {node: "host-a", interfaces: [{name: "eth0", network: "out", portSecurity: false}], cloudInit: {userData: $s}}')"
wait_for 60 "g1 Running" converged default vm g1 Running
wait_for 60 "g2 Running" converged default vm g2 Running
wait_for 30 "out Ready" converged default network out Ready
st=$(status_of default network out)
br=$(echo "$st" | jq -r .bridge)
table="ncn${br#ncb}"
echo "$st" | jq -e '.conditions[] | select(.type == "Ready") | .message | test("egress through NAT")' >/dev/null ||
    fail "out's Ready condition does not say NAT: $st"
rules=$(ip netns exec "$A" nft list table ip "$table") || fail "no table $table in $A: $(ip netns exec "$A" nft list ruleset)"
echo "$rules" | grep -q 'comment "novacron:' || fail "table $table carries no owner mark: $rules"
echo "$rules" | grep -q 'ip saddr 10.216.0.0/24 ip daddr != 10.216.0.0/24 oifname "nc-veth" masquerade' ||
    fail "table $table: $rules"
! nft list table ip "$table" >/dev/null 2>&1 || fail "table $table appeared in the root namespace"
[ "$(ip netns exec "$A" cat /proc/sys/net/ipv4/ip_forward)" = 1 ] || fail "IPv4 forwarding is off in $A"
ip -n "$O" route get 10.216.0.2 2>/dev/null | grep -q "via" &&
    fail "the outside has a route to the guests: the test would prove nothing"

wait_for 90 "g1's user-data on its console" console_has default g1 "NOVACRON-EGRESS-"
console_has default g1 "NOVACRON-EGRESS-PING-OK" ||
    fail "g1 could not ping $OUTSIDE: $(grep -a 'NOVACRON-GUEST-IP\|NOVACRON-EGRESS' "$(status_of default vm g1 | jq -r .consoleLog)")"
wait_for 20 "g1's line at the outside" grep -q "hello-from-g1" "$TMP/outside.log"
from=$(awk '/hello-from-g1/ { print $1; exit }' "$TMP/outside.log")
[ "$from" = 192.168.216.1 ] || fail "g1's connection arrived from $from, not the node's 192.168.216.1"
gip=$(status_of default vm g1 | jq -r '.interfaces[0].ip')
ok "guest g1 ($gip) on an isolated Network with egress NAT via nc-veth: ping to the outside $OUTSIDE and a TCP line, arriving from the node's 192.168.216.1; table $table in $A only"

ps_steps() { # VM: what each step of the spoofing script saw
    grep -ao 'NOVACRON-PS-[A-Z]*-[A-Z]*' "$(status_of default vm "$1" | jq -r .consoleLog)" | tr -d '\r' | tr '\n' ' '
}
ps_done() { console_has default "$1" "NOVACRON-PS-AGAIN-"; }
wait_for 90 "g1's port security steps" ps_done g1
wait_for 90 "g2's port security steps" ps_done g2
[ "$(ps_steps g1)" = "NOVACRON-PS-OWN-PASSED NOVACRON-PS-IP-BLOCKED NOVACRON-PS-MAC-BLOCKED NOVACRON-PS-AGAIN-PASSED " ] ||
    fail "g1 (portSecurity on): $(ps_steps g1)"
[ "$(ps_steps g2)" = "NOVACRON-PS-OWN-PASSED NOVACRON-PS-IP-PASSED NOVACRON-PS-MAC-PASSED NOVACRON-PS-AGAIN-PASSED " ] ||
    fail "g2 (portSecurity false): $(ps_steps g2)"
ports=$(ip netns exec "$A" nft list ruleset bridge)
tap1=$(status_of default vm g1 | jq -r '.interfaces[0].device')
tap2=$(status_of default vm g2 | jq -r '.interfaces[0].device')
echo "$ports" | grep -q "\"$tap1\" . $gip" || fail "g1's tap $tap1 is not held to $gip: $ports"
! echo "$ports" | grep -q "\"$tap2\"" || fail "g2's tap $tap2 is in the port table: $ports"
ok "port security: g1 reached the gateway from its own address and MAC, was cut off from 10.216.0.200 and from 52:54:00:de:ad:01, and reached it again; g2 (portSecurity false) from all of them"

# A device the node lacks: Failed, naming the field; nothing made.
put_net out '{"cidr":"10.216.0.0/24","mode":"isolated","egress":{"nat":true,"via":"nope0"}}'
failed_via() { status_of default network out | jq -e '.phase == "Failed" and (.conditions[] | select(.type == "Ready") | .message | test("spec.egress.via: node host-a has no interface \"nope0\""))' >/dev/null; }
wait_for 20 "out Failed for its via" failed_via
ok "egress via a device host-a lacks: $(status_of default network out | jq -r '.conditions[] | select(.type == "Ready") | .message')"

# NAT off: the table goes; someone else's stays as it was.
put_net out '{"cidr":"10.216.0.0/24","mode":"isolated"}'
wait_for 20 "out Ready without NAT" converged default network out Ready
no_table() { ! ip netns exec "$A" nft list table ip "$table" >/dev/null 2>&1; }
wait_for 10 "table $table gone" no_table
ip netns exec "$A" nft list table ip someone-else | grep -q "tcp dport 9 counter" ||
    fail "someone else's table was changed: $(ip netns exec "$A" nft list ruleset)"
ok "egress NAT turned off: table $table gone, someone else's table untouched"

# On again, then the Network and its VM deleted: the table goes with it.
put_net out '{"cidr":"10.216.0.0/24","mode":"isolated","egress":{"nat":true}}'
has_table() { ip netns exec "$A" nft list table ip "$table" 2>/dev/null | grep -q 'oifname != "'"$br"'" masquerade'; }
wait_for 20 "table $table back, leaving by any device but $br" has_table
ec del "${PREFIX}spec/default/vm/g1" >/dev/null
ec del "${PREFIX}spec/default/vm/g2" >/dev/null
ec del "${PREFIX}spec/default/network/out" >/dev/null
net_gone() { [ -z "$(ec get "${PREFIX}status/default/network/out" --print-value-only)" ]; }
wait_for 60 "out deleted" net_gone
no_table || fail "table $table outlived its Network"
! ip netns exec "$A" nft list ruleset bridge | grep -q "\"$tap1\"" || fail "g1's tap outlived it in the port table"
ip netns exec "$A" nft list table ip someone-else >/dev/null || fail "someone else's table was deleted"
ok "the Network deleted: its table with it; someone else's table still there"
