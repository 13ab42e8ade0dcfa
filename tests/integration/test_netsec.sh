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
# Bandwidth (interfaces[].bandwidth): g1, limited, sends 2 MiB to the node
# and fetches 4 MiB from it, each timed by the node's end, and is held
# near its limits while g2, unlimited, does the same far faster; a new
# limit takes effect on the running guest, which is not restarted.
. "$(dirname "$0")/lib.sh"
RUN=/run/nc-test-$$

A=nc-egr-$$-a
O=nc-egr-$$-o
on_cleanup 'for f in "$TMP"/host-*.pid; do kill -9 $(cat "$f"); done 2>/dev/null; pkill -f -- "--pid-file='"$RUN"'/" 2>/dev/null; for f in "$TMP/outside.pid" "$TMP/bw.pid"; do [ -f "$f" ] && kill $(cat "$f"); done 2>/dev/null; rm -rf '"$RUN"'; ip netns del '"$A"' 2>/dev/null; ip netns del '"$O"' 2>/dev/null'
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
# The node's end of the bandwidth transfers: port 7001 times what a guest
# sends (first byte to last), port 7002 serves 4 MiB over HTTP and times
# it until the guest, having read it all, closes.
ip netns exec "$A" python3 -c '
import socket, sys, threading, time
def log(line):
    with open(sys.argv[1], "a") as f:
        f.write(line + "\n")
def sink(c, peer):
    n, first, last = 0, None, None
    c.settimeout(30)
    while True:
        b = c.recv(65536)
        if not b:
            break
        last = time.monotonic()
        first = first or last
        n += len(b)
    log("OUT %s %d %.3f" % (peer[0], n, last - first if n else 0))
def source(c, peer):
    c.settimeout(30)
    c.recv(4096)
    size = 4 << 20
    t = time.monotonic()
    c.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n" % size + bytes(size))
    while c.recv(4096):
        pass
    log("IN %s %d %.3f" % (peer[0], size, time.monotonic() - t))
def serve(port, fn):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    s.listen(4)
    while True:
        c, peer = s.accept()
        threading.Thread(target=lambda c, peer: (fn(c, peer), c.close()), args=(c, peer),
                         daemon=True).start()
threading.Thread(target=serve, args=(7001, sink), daemon=True).start()
serve(7002, source)
' "$TMP/bw.log" &
echo $! >"$TMP/bw.pid"
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
# Each guest sends to the node and fetches from it, timed there.
bw='
gw=$(ip route | awk "/default/ { print \$3 }")
dd if=/dev/zero bs=1024 count=2048 2>/dev/null | nc -w 3 "$gw" 7001
wget -q -O /dev/null "http://$gw:7002/" && echo NOVACRON-BW-DONE
'
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
put_vm default g1 "$(guest_spec | jq -c --arg s "$script$bw$spoof" \
    '. + {node: "host-a", interfaces: [{name: "eth0", network: "out",
        bandwidth: {outboundKbps: 4000, inboundKbps: 8000}}], cloudInit: {userData: $s}}')"
put_vm default g2 "$(guest_spec | jq -c --arg s "#!/bin/sh$bw$spoof" \
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

# Bandwidth: g1 held near its limits (a policer drops what goes over, and
# counts IP headers, so TCP stays a little under), g2 not held at all.
g2ip=$(status_of default vm g2 | jq -r '.interfaces[0].ip')
rate() { # DIRECTION IP [BUCKET]: kbit/s of that transfer, past the BUCKET bytes the limit lets by at once
    awk -v d="$1" -v ip="$2" -v b="${3:-0}" '$1 == d && $2 == ip && $4 > 0 { printf "%d", ($3 - b) * 8 / 1000 / $4; exit }' "$TMP/bw.log" 2>/dev/null
}
transfers() { [ -n "$(rate OUT "$gip")" ] && [ -n "$(rate IN "$gip")" ] && [ -n "$(rate OUT "$g2ip")" ] && [ -n "$(rate IN "$g2ip")" ]; }
wait_for 90 "g1's and g2's transfers at the node" transfers
# A limit lets by at once one second of its rate and burstKiB (16 KiB)
# more: nftables' byte limit bucket.
out1=$(rate OUT "$gip" $((500000 + 16384))) in1=$(rate IN "$gip" $((1000000 + 16384)))
out2=$(rate OUT "$g2ip") in2=$(rate IN "$g2ip")
[ "$out1" -le 4400 ] && [ "$out1" -ge 2000 ] || fail "g1 sent at $out1 kbit/s under a 4000 kbit/s limit"
[ "$in1" -le 8800 ] && [ "$in1" -ge 4000 ] || fail "g1 received at $in1 kbit/s under an 8000 kbit/s limit"
[ "$out2" -ge 8000 ] && [ "$in2" -ge 16000 ] ||
    fail "unlimited g2 sent at $out2 and received at $in2 kbit/s: too slow to tell a limit from the guest's own speed"
ok "bandwidth: g1 sent 2 MiB at $out1 kbit/s (limit 4000) and received 4 MiB at $in1 kbit/s (limit 8000), past the first second's bucket; unlimited g2: $out2 and $in2 kbit/s"

# A new limit on the running guest: the node's rules change, the domain
# stays the same.
tap1=$(status_of default vm g1 | jq -r '.interfaces[0].device')
id1=$(virsh -c qemu:///system domid "$(status_of default vm g1 | jq -r .domain.name)")
table_ports=$(ip netns exec "$A" nft list tables bridge | awk '/nc-/ { print $3 }')
put_vm default g1 "$(guest_spec | jq -c --arg s "$script$bw$spoof" \
    '. + {node: "host-a", interfaces: [{name: "eth0", network: "out",
        bandwidth: {outboundKbps: 16000, burstKiB: 64}}], cloudInit: {userData: $s}}')"
new_limit() {
    l=$(ip netns exec "$A" nft list table bridge "$table_ports")
    echo "$l" | grep -A1 "limit ${tap1}o" | grep -q "rate over 2000000 bytes/second burst 64 kbytes" &&
        ! echo "$l" | grep -q "limit ${tap1}i"
}
wait_for 20 "g1's new limit in $table_ports" new_limit
id2=$(virsh -c qemu:///system domid "$(status_of default vm g1 | jq -r .domain.name)")
[ "$id1" = "$id2" ] || fail "g1's domain restarted for a new limit ($id1, now $id2)"
status_of default vm g1 | jq -e '.interfaces[0].bandwidth == {"outboundKbps": 16000, "burstKiB": 64}' >/dev/null ||
    fail "g1's status: $(status_of default vm g1 | jq -c '.interfaces[0]')"
# The same spec again: reconciled, and the limit object is left as it is
# (a new one would start with a full bucket).
handle() { ip netns exec "$A" nft -a list table bridge "$table_ports" | awk -v l="${tap1}o" '$1 == "limit" && $2 == l { print $NF }'; }
h1=$(handle)
gen=$(status_of default vm g1 | jq .observedGeneration)
put_vm default g1 "$(guest_spec | jq -c --arg s "$script$bw$spoof" \
    '. + {node: "host-a", interfaces: [{name: "eth0", network: "out",
        bandwidth: {outboundKbps: 16000, burstKiB: 64}}], cloudInit: {userData: $s}}')"
newer() { [ "$(status_of default vm g1 | jq .observedGeneration)" -gt "$gen" ]; }
wait_for 20 "g1 reconciled again" newer
[ -n "$h1" ] && [ "$(handle)" = "$h1" ] || fail "limit ${tap1}o was made again (handle $h1, now $(handle))"
ok "a new limit on running g1: limit ${tap1}o at 2000000 bytes/second in $table_ports, the inbound one gone, domain id $id1 unchanged; the same spec again leaves the limit object alone (handle $h1)"

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
