#!/bin/bash
# Network figures for `make bench`: two hosts (network namespaces joined by
# a veth pair, each with its own novacrond --netns on test:///default) and
# BENCH_NETS Networks (100) with BENCH_IFACES VM interfaces (1,000, ten VMs
# per Network, half on each host), applied with novactl, until every
# Network is Ready on both hosts and every VM Running with its MAC and IP;
# against a shell loop of ip(8)/bridge(8) commands making the same bridges,
# VXLAN devices, bridge addresses and forwarding entries in two other
# namespaces, measured in the same run. The test driver has no taps: the
# interfaces' part is their MAC/IP allocation and each host's dnsmasq (one
# per Network with guests there). Prints figures only.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
export NOVACROND=${NOVACROND:-$top/build/novacrond}
export NOVACTL=${NOVACTL:-$top/build/novactl}
export NETS=${BENCH_NETS:-100} IFACES=${BENCH_IFACES:-1000}

cat >"$top/tests/integration/.bench_networks.sh" <<'INNER'
. "$(dirname "$0")/lib.sh"
now() { date +%s%N; }
ms() { echo $(( ($2 - $1) / 1000000 )); }
RUN=/run/nc-bench-$$
A=nc-bn-$$-a B=nc-bn-$$-b FA=nc-bf-$$-a FB=nc-bf-$$-b
on_cleanup 'for f in "$TMP"/host-*.pid; do kill -9 $(cat "$f"); done 2>/dev/null; pkill -f -- "--pid-file='"$RUN"'/" 2>/dev/null; rm -rf '"$RUN"'; for n in '"$A $B $FA $FB"'; do ip netns del $n 2>/dev/null; done'
cidr_of() { echo "10.$((60 + $1 / 256)).$(($1 % 256)).0/24"; }

# The floor: the same devices by a shell loop.
netns_pair "$FA" "$FB" 192.168.215
t0=$(now)
for i in $(seq 1 "$NETS"); do
    c=$(cidr_of "$i")
    for h in 1 2; do
        ns=$FA peer=192.168.215.2
        [ "$h" = 2 ] && ns=$FB peer=192.168.215.1
        ip -n "$ns" link add "fb$i" mtu 1450 type bridge
        ip -n "$ns" link add "fx$i" mtu 1450 type vxlan id "$i" local "192.168.215.$h" dev nc-veth dstport 4789 nolearning
        ip -n "$ns" link set "fx$i" master "fb$i" up
        ip -n "$ns" link set "fb$i" up
        ip -n "$ns" addr add "${c%.0/24}.$h/24" dev "fb$i"
        bridge -n "$ns" fdb append 00:00:00:00:00:00 dev "fx$i" dst "$peer"
    done
done
t1=$(now)
floor=$(ms "$t0" "$t1")

netns_pair "$A" "$B" 192.168.215
start_host() { # NAME NETNS PORT
    "$NOVACROND" --etcd "$ETCD" --listen "127.0.0.1:$3" --node "$1" --netns "$2" \
        --underlay nc-veth --resync 1h --workers 4 --run-dir "$RUN" --log-level warn \
        >>"$TMP/$1.log" 2>&1 &
    echo $! >"$TMP/$1.pid"
    wait_for 30 "$1 ready" curl -sf "http://127.0.0.1:$3/readyz"
}
start_host host-a "$A" "$(free_port)"
start_host host-b "$B" "$(free_port)"
per=$((IFACES / NETS))
{
    for i in $(seq 1 "$NETS"); do
        printf '{"apiVersion":"novacron.io/v1","kind":"Network","metadata":{"name":"n%s","namespace":"bench"},"spec":{"cidr":"%s"}}\n' "$i" "$(cidr_of "$i")"
        for j in $(seq 1 "$per"); do
            node=host-a
            [ $((j % 2)) = 0 ] && node=host-b
            printf '{"apiVersion":"novacron.io/v1","kind":"VirtualMachine","metadata":{"name":"v%s-%s","namespace":"bench"},"spec":{"vcpus":1,"memory":"64MiB","node":"%s","interfaces":[{"name":"eth0","network":"n%s"}]}}\n' "$i" "$j" "$node" "$i"
        done
    done
} >"$TMP/all.json"
counts() {
    ec get "${PREFIX}status/bench/" --prefix --print-value-only | jq -s -r \
        '[([.[] | select(.bridge and .phase == "Ready" and (.nodes | length) == 2)] | length),
          ([.[] | select(.domain and .phase == "Running" and .interfaces[0].ip)] | length)] | @tsv'
}
revision() { ec get / --prefix --keys-only --limit 1 -w json | jq .header.revision; }
rev0=$(revision)
t0=$(now)
"$NOVACTL" --etcd "$ETCD" apply -f "$TMP/all.json" >/dev/null
until [ "$(counts)" = "$(printf '%s\t%s' "$NETS" "$((NETS * per))")" ]; do sleep 0.2; done
t1=$(now)
total=$(ms "$t0" "$t1")
writes=$(( $(revision) - rev0 ))
devs=$(( $(ip -n "$A" -o link | grep -c "novacron:") + $(ip -n "$B" -o link | grep -c "novacron:") ))
dnsmasqs=$(pgrep -r D,R,S,T -fc -- "--pid-file=$RUN/" || true)
printf 'networks: %s Networks on 2 hosts (namespaces, VXLAN over a veth), %s VM interfaces (test:///default), 4 workers each\n' "$NETS" "$((NETS * per))"
printf '  ip/bridge shell loop, the same %s bridges + VXLAN devices, addresses, FDB entries: %6d ms\n' "$((NETS * 2))" "$floor"
printf '  novactl apply -> all Ready/Running:   %6d ms (%s owned devices, %s dnsmasq, %s allocations)\n' \
    "$total" "$devs" "$dnsmasqs" "$(ec get "${PREFIX}alloc/" --prefix --keys-only | grep -c .)"
awk -v a="$total" -v b="$floor" 'BEGIN { printf "  ratio to the floor:                    %6.2fx\n", a / b }'
printf '  etcd writes (revisions) until then:   %6d (%s specs applied)\n' "$writes" "$((NETS + NETS * per))"
t0=$(now)
ec del --prefix "${PREFIX}spec/bench/" >/dev/null
until [ -z "$(ec get "${PREFIX}status/bench/" --prefix --keys-only)" ]; do sleep 0.2; done
printf '  one delete of all specs -> all gone:  %6d ms\n' "$(ms "$t0" "$(now)")"
[ "$(ip -n "$A" -o link | grep -c "novacron:")" = 0 ] || fail "devices left in $A"
! pgrep -r D,R,S,T -f -- "--pid-file=$RUN/" >/dev/null || fail "dnsmasq left running"
INNER
trap 'rm -f "$top/tests/integration/.bench_networks.sh"' EXIT
bash "$top/tests/integration/.bench_networks.sh" | grep -v '^ok '
