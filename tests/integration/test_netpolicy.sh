# NetworkPolicies, on two hosts (network namespaces this test makes,
# joined by a veth pair) sharing an overlay Network. On host-a two real
# TCG guests: srv (app=web) answers on TCP 80 and 81; cli (role=client)
# tries both ports again and again and prints what it saw. On host-b a
# test-driver VM, also app=web, brings the Network there.
# Without a policy cli reaches both ports. A policy selecting app=web that
# lets in TCP 80 from role=client and TCP 81 from host-b's bridge address
# only: cli reaches 80 and not 81; host-b reaches 81 across the VXLAN and
# not 80. Each node holds in its sets only its own selected VMs, and the
# peers from anywhere. cli relabelled loses port 80 (the set changes, no
# rule) and gets it back; an egress policy on cli holds it to srv's port
# 80. A bad rule is Failed naming the field; deleting the policies
# restores everything, removes the table, and never touches another's.
. "$(dirname "$0")/lib.sh"
RUN=/run/nc-test-$$

A=nc-np-$$-a
B=nc-np-$$-b
on_cleanup 'for f in "$TMP"/host-*.pid; do kill -9 $(cat "$f"); done 2>/dev/null; pkill -f -- "--pid-file='"$RUN"'/" 2>/dev/null; rm -rf '"$RUN"'; ip netns del '"$A"' 2>/dev/null; ip netns del '"$B"' 2>/dev/null'
use_qemu
netns_pair "$A" "$B" 192.168.221
ip netns exec "$A" nft add table inet someone-else
ip netns exec "$A" nft add chain inet someone-else keep '{ type filter hook forward priority 10; policy accept; }'

start_host host-a "$A" "$(free_port)" --libvirt qemu:///system --force-tcg
start_host host-b "$B" "$(free_port)"

SRV=10.220.0.10
CLI=10.220.0.20
put_net pn '{"cidr":"10.220.0.0/24"}'
labelled_vm() { # NAME LABELS SPEC
    ec put "${PREFIX}spec/default/vm/$1" "$(jq -cn --arg n "$1" --argjson l "$2" --argjson s "$3" \
        '{apiVersion: "novacron.io/v1", kind: "VirtualMachine", metadata: {name: $n, namespace: "default", labels: $l}, spec: $s}')" >/dev/null
}
srv_script='#!/bin/sh
for p in 80 81; do ( while :; do echo srv-$p | nc -l -p $p; done ) & done
echo NOVACRON-NP-LISTENING'
cli_script='#!/bin/sh
( i=0; while :; do
    for p in 80 81; do
        if echo | nc -w 1 '"$SRV"' $p | grep -q srv-$p; then r=OK; else r=NO; fi
        echo "NOVACRON-NP $i $p $r"
    done
    i=$((i + 1)); sleep 0.2
done ) &'
guest() { # IP SCRIPT
    guest_spec | jq -c --arg ip "$1" --arg s "$2" \
        '. + {node: "host-a", interfaces: [{name: "eth0", network: "pn", ip: $ip}], cloudInit: {userData: $s}}'
}
labelled_vm srv '{"app":"web"}' "$(guest "$SRV" "$srv_script")"
labelled_vm cli '{"role":"client"}' "$(guest "$CLI" "$cli_script")"
labelled_vm anchor '{"app":"web"}' '{"vcpus":1,"memory":"64MiB","node":"host-b","interfaces":[{"name":"eth0","network":"pn"}]}'
for vm in srv cli anchor; do wait_for 60 "$vm Running" converged default vm "$vm" Running; done
wait_for 90 "srv listening" console_has default srv NOVACRON-NP-LISTENING

CLI_LOG=$(status_of default vm cli | jq -r .consoleLog)
ANCHOR_IP=$(status_of default vm anchor | jq -r '.interfaces[0].ip')
BR=$(status_of default network pn | jq -r .bridge)
HOST_B=$(ip -n "$B" -4 -o addr show "$BR" | awk '{ print $4 }' | cut -d/ -f1)
[ -n "$HOST_B" ] || fail "host-b has no address on $BR"
# The last attempt cli printed, and what it saw on PORT after attempt N.
np_seq() { grep -ao 'NOVACRON-NP [0-9]* 81' "$CLI_LOG" | tail -n 1 | awk '{ print $2 }'; }
np_after() { # N PORT
    grep -ao "NOVACRON-NP [0-9]* $2 [A-Z]*" "$CLI_LOG" | awk -v n="$1" '$2 > n { print $4; exit }'
}
# sees PORT RESULT: the first attempt started after now saw RESULT on PORT
# (the one after the last printed may have begun before now).
sees() {
    s=$(($(np_seq) + 1))
    wait_for 20 "cli's next attempt on port $1" eval '[ -n "$(np_after '"${s:-0}"' '"$1"')" ]'
    [ "$(np_after "${s:-0}" "$1")" = "$2" ]
}
from_b() { # PORT: what host-b's bridge address gets from srv (three tries:
    # srv's one-shot listener may be busy with cli's own attempt)
    ip netns exec "$B" timeout 10 python3 -c '
import socket, sys, time
for _ in range(3):
    try:
        s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2, source_address=(sys.argv[3], 0))
        print(s.recv(64).decode(errors="replace").strip())
        break
    except OSError:
        time.sleep(0.3)
' "$SRV" "$1" "$HOST_B" 2>/dev/null || true
}
wait_for 90 "cli's attempts" eval '[ -n "$(np_seq)" ]'
sees 80 OK || fail "without a policy cli does not reach srv:80"
sees 81 OK || fail "without a policy cli does not reach srv:81"
ok "no policy: cli reaches srv ($SRV) on 80 and 81"

put_policy() { # NAME SPEC
    ec put "${PREFIX}spec/default/networkpolicy/$1" "$(jq -cn --arg n "$1" --argjson s "$2" \
        '{apiVersion: "novacron.io/v1", kind: "NetworkPolicy", metadata: {name: $n, namespace: "default"}, spec: $s}')" >/dev/null
}
put_policy web-in '{"vmSelector":{"matchLabels":{"app":"web"}},"ingress":[
    {"from":[{"vmSelector":{"matchLabels":{"role":"client"}}}],"ports":[{"protocol":"TCP","port":80}]},
    {"from":[{"cidr":"'"$HOST_B"'/32"}],"ports":[{"port":81}]}]}'
wait_for 20 "web-in Ready" converged default networkpolicy web-in Ready
st=$(status_of default networkpolicy web-in)
echo "$st" | jq -e '.vms == ["anchor","srv"] and .nodes == ["host-a","host-b"] and .vmCount == 2 and .policyTypes == ["Ingress"]' >/dev/null ||
    fail "web-in's status: $st"
TABLE=$(ip netns exec "$A" nft list tables inet | awk '/ncpol-/ { print $3 }')
[ -n "$TABLE" ] || fail "no policy table on host-a: $(ip netns exec "$A" nft list ruleset)"
set_of() { # NS SET
    ip netns exec "$1" nft -j list set inet "$TABLE" "$2" | jq -c '[.nftables[] | select(.set) | .set.elem // [] | .[]] | sort'
}
ID=$(ip netns exec "$A" nft -j list sets inet | jq -r '[.nftables[] | select(.set) | .set.name | select(test("^p[0-9a-f]+s$"))][0] | rtrimstr("s")')
[ "$(set_of "$A" "${ID}s")" = "[\"$SRV\"]" ] || fail "host-a's selected set: $(set_of "$A" "${ID}s")"
wait_for 10 "host-b's selected set" eval '[ "$(set_of "$B" "${ID}s")" = "[\"$ANCHOR_IP\"]" ]'
for ns in "$A" "$B"; do
    [ "$(set_of "$ns" "${ID}i0")" = "[\"$CLI\"]" ] || fail "$ns: rule 0's peers: $(set_of "$ns" "${ID}i0")"
done
sees 80 OK || fail "web-in: cli lost srv:80"
sees 81 NO || fail "web-in: cli still reaches srv:81"
[ "$(from_b 81)" = srv-81 ] || fail "web-in: host-b ($HOST_B) does not reach srv:81 across the VXLAN"
[ -z "$(from_b 80)" ] || fail "web-in: host-b reaches srv:80"
ok "web-in: status $(echo "$st" | jq -c '{vms, nodes}'); cli reaches srv:80, not 81; host-b ($HOST_B) reaches 81 across the VXLAN, not 80; each node's set holds its own selected VM ($SRV on host-a, $ANCHOR_IP on host-b), rule 0's peers $CLI on both"

# cli relabelled: one set element goes on each node, and port 80 with it.
rules_before=$(ip netns exec "$A" nft -a list chain inet "$TABLE" ingress | grep -c handle)
t0=$(date +%s%N)
labelled_vm cli '{"role":"other"}' "$(guest "$CLI" "$cli_script")"
wait_for 10 "cli out of rule 0's peers on host-a" eval '[ "$(set_of "$A" "${ID}i0")" = "[]" ]'
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
wait_for 10 "cli out of rule 0's peers on host-b" eval '[ "$(set_of "$B" "${ID}i0")" = "[]" ]'
msb=$(( ($(date +%s%N) - t0) / 1000000 ))
sees 80 NO || fail "cli relabelled still reaches srv:80"
[ "$(ip netns exec "$A" nft -a list chain inet "$TABLE" ingress | grep -c handle)" = "$rules_before" ] ||
    fail "relabelling changed the rules, not only a set"
labelled_vm cli '{"role":"client"}' "$(guest "$CLI" "$cli_script")"
wait_for 10 "cli back in rule 0's peers" eval '[ "$(set_of "$A" "${ID}i0")" = "[\"$CLI\"]" ]'
sees 80 OK || fail "cli labelled back does not reach srv:80"
ok "cli relabelled role=other: out of the peers' set on host-a in $ms ms, on host-b in $msb ms (rules untouched), srv:80 refused; labelled back, reached again"

# Egress: cli may reach srv:80 only.
put_policy cli-out '{"vmSelector":{"matchLabels":{"role":"client"}},"policyTypes":["Egress"],
    "egress":[{"to":[{"vmSelector":{"matchLabels":{"app":"web"}}}],"ports":[{"port":80}]}]}'
wait_for 20 "cli-out Ready" converged default networkpolicy cli-out Ready
sees 80 OK || fail "cli-out: cli lost srv:80"
put_policy web-in '{"vmSelector":{"matchLabels":{"app":"web"}},"ingress":[{}]}'
wait_for 20 "web-in open to all" eval 'ip netns exec "$A" nft list chain inet "$TABLE" ingress | grep -q "ip daddr @${ID}s accept"'
[ "$(from_b 81)" = srv-81 ] || fail "web-in open to all: host-b does not reach srv:81"
sees 81 NO || fail "cli-out: cli reaches srv:81, which its egress does not allow"
ok "egress policy cli-out: cli reaches srv:80 and not srv:81, which srv's ingress now allows to all"

# A bad rule: Failed, naming the field; what is enforced stays.
put_policy bad '{"vmSelector":{},"ingress":[{"ports":[{"port":80,"endPort":70}]}]}'
bad_failed() { failed_as_in default networkpolicy bad "spec.ingress[0].ports[0]: endPort: must not be below port (80), got 70"; }
failed_as_in() { # NS KIND NAME TEXT
    status_of "$1" "$2" "$3" | jq -e --arg t "$4" '.phase == "Failed" and (.conditions[] | select(.type == "Ready") | .message | contains($t))' >/dev/null
}
wait_for 20 "bad Failed" bad_failed
ok "a bad rule: $(status_of default networkpolicy bad | jq -r '.conditions[] | select(.type == "Ready") | .message')"

# Deleted: everything reachable again, the table gone, another's kept.
for p in web-in cli-out bad; do ec del "${PREFIX}spec/default/networkpolicy/$p" >/dev/null; done
no_table() { ! ip netns exec "$1" nft list table inet "$TABLE" >/dev/null 2>&1; }
wait_for 20 "the table gone from host-a" no_table "$A"
wait_for 20 "the table gone from host-b" no_table "$B"
sees 81 OK || fail "policies deleted: cli does not reach srv:81"
[ "$(from_b 80)" = srv-80 ] || fail "policies deleted: host-b does not reach srv:80"
ip netns exec "$A" nft list table inet someone-else >/dev/null || fail "someone else's table was deleted"
[ -z "$(ec get "${PREFIX}status/default/networkpolicy/" --prefix --keys-only)" ] || fail "a policy status outlived its spec"
ok "policies deleted: cli reaches srv:81 and host-b srv:80 again; table $TABLE gone from both nodes, someone else's table kept"
