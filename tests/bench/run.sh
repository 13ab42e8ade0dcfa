#!/bin/sh
# `make bench`: for each N in $BENCH_N (default "100 1000 10000"), a fresh
# etcd and novacrond on libvirt's test driver, then nc-bench applying N VMs.
# Prints figures only; there is no pass/fail threshold. The node offers
# 128 CPUs and 1 TiB: the overcommit flags make room for 100,000 VMs on
# it, since this measures reconciling, not placement.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
: "${NOVACROND:=$top/build/novacrond}"
: "${BENCH_TOOL:=$top/build/nc-bench}"
: "${BENCH_N:=100 1000 10000}"
: "${BENCH_IDLE:=60}"
: "${BENCH_WORKERS:=16}"
dir=$(mktemp -d /tmp/nc-bench.XXXXXX)
pid=

cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null
    "$top/hack/etcd.sh" stop "$dir/etcd" 2>/dev/null || true
    rm -rf "$dir"
}
trap cleanup EXIT INT TERM

port=$("$top/hack/free-port")
echo "novacrond benchmark on libvirt's test driver, $BENCH_WORKERS workers, $(nproc) cores"
# Each N twice, unless BENCH_HV says otherwise: "in" with the test driver
# inside novacrond, so that its RSS holds the domains' definitions too;
# "out" through libvirtd, where they live as they do with qemu:///system,
# so that novacrond's RSS is the controller's own (libvirtd is restarted
# before, so that its peak RSS is this run's). The test driver's node is
# tests/bench/node.xml, big enough for 100,000 VMs; a driver opened from a
# file is the connection's own, so its domains go with novacrond.
for n in $BENCH_N; do
    for hv in ${BENCH_HV:-in out}; do
        uri=test://$top/tests/bench/node.xml hv_pid=
        if [ "$hv" = out ]; then
            "$top/hack/libvirtd.sh" restart
            uri=test+unix://$top/tests/bench/node.xml hv_pid=$(cat /run/libvirtd.pid)
        fi
        rm -rf "$dir/etcd"
        etcd=$("$top/hack/etcd.sh" start "$dir/etcd")
        "$NOVACROND" --etcd "$etcd" --libvirt "$uri" --listen "127.0.0.1:$port" \
            --workers "$BENCH_WORKERS" --resync 1h --log-level warn --cpu-overcommit 1000 \
            --memory-overcommit 1000 >"$dir/novacrond.log" 2>&1 &
        pid=$!
        until curl -sf "http://127.0.0.1:$port/readyz" >/dev/null; do sleep 0.1; done
        echo "libvirt $uri:"
        "$BENCH_TOOL" "$etcd" "http://127.0.0.1:$port/metrics" "$pid" "$n" "$BENCH_IDLE" $hv_pid
        [ "$hv" = in ] && "$top/tests/bench/scrape.sh" "http://127.0.0.1:$port/metrics" "$n"
        kill "$pid"
        wait "$pid" || true
        pid=
        "$top/hack/etcd.sh" stop "$dir/etcd"
    done
done

# The scheduler: BENCH_SCHED_N VMs onto each of $BENCH_SCHED_NODES
# simulated nodes, with each policy, unless BENCH_SCHED=0.
: "${SCHED_BENCH_TOOL:=$top/build/nc-sched-bench}"
if [ "${BENCH_SCHED:-1}" = 1 ]; then
    for nodes in ${BENCH_SCHED_NODES:-10 100}; do
        for policy in spread pack; do
            rm -rf "$dir/etcd"
            etcd=$("$top/hack/etcd.sh" start "$dir/etcd")
            "$NOVACROND" --etcd "$etcd" --listen "127.0.0.1:$port" --node bench-own \
                --workers "$BENCH_WORKERS" --resync 1h --log-level warn \
                --placement-policy "$policy" >"$dir/novacrond.log" 2>&1 &
            pid=$!
            until curl -sf "http://127.0.0.1:$port/readyz" >/dev/null; do sleep 0.1; done
            "$SCHED_BENCH_TOOL" "$etcd" bench-own "${BENCH_SCHED_N:-10000}" "$nodes" "$policy"
            kill "$pid"
            wait "$pid" || true
            pid=
            "$top/hack/etcd.sh" stop "$dir/etcd"
        done
    done
fi

# Hardening, unless BENCH_HARDENING=0: each fuzz target's executions per
# second over BENCH_FUZZ_SECONDS (default 30); how many driver call sites
# the fault sweep failed; and chaos on a 3-member etcd under a churn of
# BENCH_CHAOS_N VMs (default 1000): how long after a leader's kill -9 a
# write goes through, and how long each fault takes to converge from.
if [ "${BENCH_HARDENING:-1}" = 1 ]; then
    make -s -C "$top" fuzz FUZZ_SECONDS="${BENCH_FUZZ_SECONDS:-30}" | grep '^fuzz:'
    make -s -C "$top" build/tests/itest_reconcilers >/dev/null
    for t in test_reconcilers.sh test_etcd_chaos.sh; do
        CHAOS_N=${BENCH_CHAOS_N:-1000} NOVACROND="$NOVACROND" ONLY=$t \
            "$top/tests/integration/run.sh" 2>&1 | sed -n 's/^ok   test_[a-z_]*: //p' |
            grep -v "^the VM, Volume and Network reconcilers"
    done
fi

# Networks and NetworkPolicies on two hosts in namespaces, unless BENCH_NET=0.
if [ "${BENCH_NET:-1}" = 1 ]; then
    NOVACROND="$NOVACROND" NOVACTL="${NOVACTL:-$top/build/novactl}" "$top/tests/bench/networks.sh"
    NOVACROND="$NOVACROND" NOVACTL="${NOVACTL:-$top/build/novactl}" "$top/tests/bench/policies.sh"
fi

# Real guests, unless BENCH_QEMU=0 (they need libvirtd and take minutes).
if [ "${BENCH_QEMU:-1}" = 1 ]; then
    trap - EXIT INT TERM
    cleanup
    NOVACROND="$NOVACROND" "$top/tests/bench/qemu.sh"
    NOVACROND="$NOVACROND" NOVACTL="${NOVACTL:-$top/build/novactl}" "$top/tests/bench/volumes.sh"
    # Migration between two libvirt hosts, unless BENCH_MIG=0.
    [ "${BENCH_MIG:-1}" = 1 ] && NOVACROND="$NOVACROND" "$top/tests/bench/migration.sh"
    # Snapshots and restores of a running guest, unless BENCH_SNAP=0.
    [ "${BENCH_SNAP:-1}" = 1 ] && NOVACROND="$NOVACROND" "$top/tests/bench/snapshot.sh"
    # Processes (libvirt's LXC driver) against virsh, unless BENCH_PROC=0.
    [ "${BENCH_PROC:-1}" = 1 ] && NOVACROND="$NOVACROND" NOVACTL="${NOVACTL:-$top/build/novactl}" \
        "$top/tests/bench/processes.sh"
    # Containers (Podman) against podman run -d, unless BENCH_CTR=0.
    [ "${BENCH_CTR:-1}" = 1 ] && NOVACROND="$NOVACROND" NOVACTL="${NOVACTL:-$top/build/novactl}" \
        "$top/tests/bench/containers.sh"
fi
