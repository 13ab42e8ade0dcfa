#!/bin/bash
# NetworkPolicy figures for `make bench`: two hosts (network namespaces
# joined by a veth pair, each with its own novacrond --netns on
# test:///default), one overlay Network, BENCH_POLICY_VMS VMs (1,000, half
# on each host) and BENCH_POLICIES policies (100), each selecting
# BENCH_POLICY_VMS / BENCH_POLICIES VMs by an app label and letting in TCP
# 80 from the VMs of one tier label.
# - Update latency: VM v1 changes tier, BENCH_FLIPS times (20); each time,
#   from the etcd write until both nodes' policy tables hold its address
#   in the new tier's sets (seen by `nft monitor` in each namespace), as
#   p50 and p99; against `nft -f` rebuilding the same table from scratch
#   (a listing of host-a's) in a namespace of its own, in the same run.
# - Data path: the test driver runs no guest, so two namespaces play v1
#   and v2 (a veth on each host's bridge with the VM's address, as its tap
#   would be); ping latency and a TCP transfer between them across the
#   VXLAN, with the policies on (both isolated, v1 allowed into v2 by its
#   policy) and after they are deleted (no table).
# Prints figures only.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
export NOVACROND=${NOVACROND:-$top/build/novacrond}
export NOVACTL=${NOVACTL:-$top/build/novactl}
export VMS=${BENCH_POLICY_VMS:-1000} POLS=${BENCH_POLICIES:-100} FLIPS=${BENCH_FLIPS:-20}

cat >"$top/tests/integration/.bench_policies.sh" <<'INNER'
. "$(dirname "$0")/lib.sh"
now() { echo "${EPOCHREALTIME/./}"; } # microseconds, without a fork of date
RUN=/run/nc-bench-$$
A=nc-bp-$$-a B=nc-bp-$$-b F=nc-bp-$$-f GA=nc-bp-$$-ga GB=nc-bp-$$-gb
on_cleanup 'for f in "$TMP"/mon-*.pid; do kill -9 -- -$(cat "$f"); done 2>/dev/null; for f in "$TMP"/host-*.pid "$TMP"/sink.pid; do kill -9 $(cat "$f"); done 2>/dev/null; pkill -f -- "--pid-file='"$RUN"'/" 2>/dev/null; rm -rf '"$RUN"'; for n in '"$A $B $F $GA $GB"'; do ip netns del $n 2>/dev/null; done'
PREFIX="/nc-bench-$$/"
netns_pair "$A" "$B" 192.168.222
start_host() { # NAME NETNS PORT
    "$NOVACROND" --etcd "$ETCD" --prefix "$PREFIX" --listen "127.0.0.1:$3" --node "$1" \
        --netns "$2" --underlay nc-veth --resync 1h --workers 4 --run-dir "$RUN" \
        --log-level warn >>"$TMP/$1.log" 2>&1 &
    echo $! >"$TMP/$1.pid"
    wait_for 30 "$1 ready" curl -sf "http://127.0.0.1:$3/readyz"
}
start_host host-a "$A" "$(free_port)"
start_host host-b "$B" "$(free_port)"
per=$((VMS / POLS))
vm_doc() { # I TIER
    node=host-a
    [ $(($1 % 2)) = 0 ] && node=host-b
    printf '{"apiVersion":"novacron.io/v1","kind":"VirtualMachine","metadata":{"name":"v%s","namespace":"bench","labels":{"app":"a%s","tier":"t%s"}},"spec":{"vcpus":1,"memory":"64MiB","node":"%s","interfaces":[{"name":"eth0","network":"pn"}]}}\n' \
        "$1" "$(($1 % POLS))" "$2" "$node"
}
{
    printf '{"apiVersion":"novacron.io/v1","kind":"Network","metadata":{"name":"pn","namespace":"bench"},"spec":{"cidr":"10.70.0.0/20"}}\n'
    for i in $(seq 1 "$VMS"); do vm_doc "$i" "$((i % 10))"; done
    for k in $(seq 0 $((POLS - 1))); do
        printf '{"apiVersion":"novacron.io/v1","kind":"NetworkPolicy","metadata":{"name":"p%s","namespace":"bench"},"spec":{"vmSelector":{"matchLabels":{"app":"a%s"}},"ingress":[{"from":[{"vmSelector":{"matchLabels":{"tier":"t%s"}}}],"ports":[{"port":80}]}]}}\n' \
            "$k" "$k" "$((k % 10))"
    done
} >"$TMP/all.json"
"$NOVACTL" --etcd "$ETCD" --prefix "$PREFIX" apply -f "$TMP/all.json" >/dev/null
ready() {
    ec get "${PREFIX}status/bench/" --prefix --print-value-only | jq -s -r \
        '[([.[] | select(.vmCount == '"$per"' and .phase == "Ready")] | length),
          ([.[] | select(.domain and .phase == "Running" and .interfaces[0].ip)] | length)] | @tsv'
}
wait_for 600 "every VM Running and every policy Ready" eval '[ "$(ready)" = "$(printf "%s\t%s" "$POLS" "$VMS")" ]'
table_of() { ip netns exec "$1" nft list tables inet | awk '/ncpol-/ { print $3 }'; }
wait_for 60 "the policy tables" eval '[ -n "$(table_of "$A")" ] && [ -n "$(table_of "$B")" ]'
TABLE=$(table_of "$A")
elements() { ip netns exec "$1" nft -j list table inet "$TABLE" | jq '[.nftables[] | select(.set) | .set.elem // [] | length] | add'; }
# Each host: its half of the selected VMs twice (its policy's set and
# iso_in), and every tier's peers for each policy.
want=$((VMS / 2 * 2 + VMS / 10 * POLS))
filled() { [ "$(elements "$A")" = "$want" ] && [ "$(elements "$B")" = "$want" ]; }
end=$(($(date +%s) + 60))
until filled; do
    [ "$(date +%s)" -lt "$end" ] || fail "the tables hold $(elements "$A") and $(elements "$B") elements, not $want: $(tail -n 3 "$TMP/host-a.log")"
    sleep 0.2
done
ip_of() { status_of bench vm "$1" | jq -r '.interfaces[0].ip'; }
V1=$(ip_of v1) V2=$(ip_of v2)

# The floor: host-a's table made from scratch by nft -f, in a namespace of its own.
ip netns add "$F"
{ ip netns exec "$A" nft list table inet "$TABLE"; } >"$TMP/table.nft"
floor=()
for _ in $(seq 1 "$FLIPS"); do
    ip netns exec "$F" nft delete table inet "$TABLE" 2>/dev/null || true
    t0=$(now)
    ip netns exec "$F" nft -f "$TMP/table.nft"
    floor+=($(( $(now) - t0 )))
done
rules=$(grep -c "accept\|drop\|jump" "$TMP/table.nft")

# Update latency: v1 (host-a, tier t1) moves to tier t2 and back.
for h in A B; do
    ns=${!h}
    setsid bash -c 'ip netns exec "$1" stdbuf -oL nft monitor elements 2>/dev/null |
        while IFS= read -r l; do echo "${EPOCHREALTIME/./} $l"; done' _ "$ns" >>"$TMP/mon-$h.log" &
    echo $! >"$TMP/mon-$h.pid"
done
sleep 0.5
lat=()
tier=1
for f in $(seq 1 "$FLIPS"); do
    tier=$((tier == 1 ? 2 : 1))
    : >"$TMP/mon-A.log"
    : >"$TMP/mon-B.log"
    t0=$(now)
    ec put "${PREFIX}spec/bench/vm/v1" "$(vm_doc 1 "$tier")" >/dev/null
    # Both nodes took it out of the old tier's policies' sets and put it
    # in the new one's: the time of the last of those changes.
    seen() { grep -a "element .* { $V1 }" "$TMP/mon-$1.log" | sed -n "$((2 * POLS / 10))p" | awk '{ print $1 }'; }
    wait_for 20 "flip $f on both nodes" eval '[ -n "$(seen A)" ] && [ -n "$(seen B)" ]'
    ta=$(seen A) tb=$(seen B)
    t=$((ta > tb ? ta : tb))
    lat+=($(( t - t0 )))
    sleep 0.2
done
pct() { # P VALUES...: the P-th percentile (nearest rank), in microseconds
    p=$1
    shift
    printf '%s\n' "$@" | sort -n | awk -v p="$p" '{ v[NR] = $1 } END { i = int((p * NR + 99) / 100); if (i < 1) i = 1; print v[i] }'
}
printf 'network policies: %s VMs on 2 hosts (test:///default), %s policies of %s VMs each; each host'"'"'s table: %s rules, %s set elements\n' \
    "$VMS" "$POLS" "$per" "$rules" "$want"
ms() { awk -v us="$1" 'BEGIN { printf "%6.1f", us / 1000 }'; }
printf '  nft -f of the whole table from scratch (the floor):  p50 %s ms  p99 %s ms\n' \
    "$(ms "$(pct 50 "${floor[@]}")")" "$(ms "$(pct 99 "${floor[@]}")")"
printf '  one VM relabelled -> both nodes'"'"' sets changed (%s): p50 %s ms  p99 %s ms\n' \
    "$FLIPS" "$(ms "$(pct 50 "${lat[@]}")")" "$(ms "$(pct 99 "${lat[@]}")")"
awk -v a="$(pct 50 "${lat[@]}")" -v b="$(pct 50 "${floor[@]}")" 'BEGIN { printf "  ratio of the p50s (update / rebuild):                %6.2fx\n", a / b }'

# Data path: namespaces playing v1 (on host-a's bridge) and v2 (host-b's).
BR=$(status_of bench network pn | jq -r .bridge)
guest_ns() { # NS HOST IP
    ip netns add "$1"
    ip -n "$2" link add "bp$$" type veth peer name eth0 netns "$1"
    ip -n "$2" link set "bp$$" mtu 1450 master "$BR" up
    ip -n "$1" addr add "$3/20" dev eth0
    ip -n "$1" link set eth0 mtu 1450 up
    ip -n "$1" link set lo up
}
guest_ns "$GA" "$A" "$V1"
guest_ns "$GB" "$B" "$V2"
# v2 (app a2) is let in by p2 from tier t2: v1 goes into t2, and p2 lets
# every port and protocol in from it, so that ping passes too.
ec put "${PREFIX}spec/bench/vm/v1" "$(vm_doc 1 2)" >/dev/null
ec put "${PREFIX}spec/bench/networkpolicy/p2" '{"apiVersion":"novacron.io/v1","kind":"NetworkPolicy","metadata":{"name":"p2","namespace":"bench"},"spec":{"vmSelector":{"matchLabels":{"app":"a2"}},"ingress":[{"from":[{"vmSelector":{"matchLabels":{"tier":"t2"}}}]}]}}' >/dev/null
ip netns exec "$GB" python3 -c '
import socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("'"$V2"'", 80))
s.listen(4)
while True:
    c, _ = s.accept()
    while c.recv(1 << 16):
        pass
    c.close()
' &
echo $! >"$TMP/sink.pid"
disown
wait_for 20 "v1 pings v2 through p2" ip netns exec "$GA" ping -c 1 -W 1 -q "$V2"
measure() { # prints "RTT_MS MBPS"
    rtt=$(ip netns exec "$GA" ping -c 200 -i 0.005 -q "$V2" | awk -F/ '/^rtt/ { print $5 }')
    mbps=$(ip netns exec "$GA" python3 -c '
import socket, time
s = socket.create_connection(("'"$V2"'", 80))
buf = b"x" * (1 << 16)
n, t0 = 0, time.time()
while time.time() - t0 < 3:
    s.sendall(buf)
    n += len(buf)
s.close()
print("%.1f" % (n * 8 / (time.time() - t0) / 1e6))
')
    echo "$rtt $mbps"
}
on=$(measure)
ec del --prefix "${PREFIX}spec/bench/networkpolicy/" >/dev/null
no_table() { ! ip netns exec "$A" nft list table inet "$TABLE" >/dev/null 2>&1 && ! ip netns exec "$B" nft list table inet "$TABLE" >/dev/null 2>&1; }
wait_for 60 "both tables gone" no_table
off=$(measure)
set -- $on $off
printf '  v1 -> v2 across the VXLAN, policies on:  ping rtt %s ms, TCP %s Mbit/s\n' "$1" "$2"
printf '  v1 -> v2 across the VXLAN, policies off: ping rtt %s ms, TCP %s Mbit/s\n' "$3" "$4"
awk -v a="$1" -v b="$3" -v c="$2" -v d="$4" 'BEGIN { printf "  with the policies: rtt %+.1f%%, throughput %+.1f%%\n", (a / b - 1) * 100, (c / d - 1) * 100 }'
INNER
trap 'rm -f "$top/tests/integration/.bench_policies.sh"' EXIT
bash "$top/tests/integration/.bench_policies.sh" | grep -v '^ok '
