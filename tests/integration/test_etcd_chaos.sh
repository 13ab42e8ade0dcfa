# Chaos on a 3-member etcd cluster under a churn of CHAOS_N VMs (default
# 1000) on test:///default, run by two nodes in network namespaces, node-b
# reaching etcd through a loopback proxy that can drop everything. Each
# round churns VMs (creations, changes, deletions) for CHAOS_SECONDS while
# one fault strikes:
#   - the etcd leader is killed with -9, then restarted;
#   - the leader is paused (SIGSTOP) past the election timeout, then resumed;
#   - the store is compacted and every member defragmented under the watches;
#   - node-b's link to etcd is cut past its lease's TTL, then restored.
# After each: every VM converges to its latest spec with exactly one domain
# on one node, and nothing is left of deleted ones. At the end, every status
# write, recorded from the start with `etcdctl watch`, shows no
# observedGeneration going backwards, and the record ends where etcd does.
# lane: light
. "$(dirname "$0")/lib.sh"

N=${CHAOS_N:-1000}
SECONDS_PER_ROUND=${CHAOS_SECONDS:-6}
CHAOS="python3 $(dirname "$0")/chaos.py"
PORT_B=$(free_port)

use_etcd_cluster 3
RUN=$RUN_DIR
NA=nc-chaos-a-$$ NB=nc-chaos-b-$$
netns_pair "$NA" "$NB" 10.254.7
on_cleanup "ip netns del $NA; ip netns del $NB"

# Every status write from now on.
etcdctl --endpoints "$ETCD" watch --prefix "${PREFIX}status/default/vm/" -w json >"$TMP/status.watch" 2>"$TMP/watch.err" &
recorder=$!
on_cleanup "kill $recorder 2>/dev/null"

# shellcheck disable=SC2086
$CHAOS proxy $(echo "$ETCD" | tr , ' ') >"$TMP/proxy.url" &
proxy=$!
on_cleanup "kill -CONT $proxy; kill $proxy 2>/dev/null"
wait_for 10 "the proxy" test -s "$TMP/proxy.url"

flags="--cpu-overcommit 1000 --memory-overcommit 1000 --workers 4"
on_cleanup 'for f in "$TMP"/node-*.pid; do kill -9 $(cat "$f"); done 2>/dev/null'
# shellcheck disable=SC2086
start_host node-a "$NA" "$LISTEN_PORT" $flags
# shellcheck disable=SC2086
ETCD=$(cat "$TMP/proxy.url") start_host node-b "$NB" "$PORT_B" $flags
METRICS="http://127.0.0.1:$LISTEN_PORT/metrics http://127.0.0.1:$PORT_B/metrics"

start=$(date +%s)
$CHAOS init "$ETCD" "$PREFIX" default "$N"
# shellcheck disable=SC2086
wait_for 300 "$N VMs converged" $CHAOS check "$ETCD" "$PREFIX" default $METRICS
ok "$N VMs converged on two nodes in $(($(date +%s) - start))s"

round=0
# chaos WHAT COMMAND...: churns while COMMAND injects the fault, then waits
# for convergence.
chaos() {
    fault=$1
    shift
    round=$((round + 1))
    $CHAOS churn "$ETCD" "$PREFIX" default "$N" "$SECONDS_PER_ROUND" "$round" >"$TMP/churn.out" &
    churner=$!
    sleep 1
    "$@"
    wait "$churner" || fail "the churn failed"
    t0=$(date +%s)
    # shellcheck disable=SC2086
    converged() { $CHAOS check "$ETCD" "$PREFIX" default $METRICS >"$TMP/check.out"; }
    end=$(($(date +%s) + 180))
    until converged; do
        [ "$(date +%s)" -lt "$end" ] ||
            fail "no convergence within 180s after: $fault: $(cat "$TMP/check.out")"
        sleep 0.1
    done
    # shellcheck disable=SC2086
    ok "$fault: churn of $(cat "$TMP/churn.out")${detail:-}; then $($CHAOS check "$ETCD" "$PREFIX" default $METRICS) within $(($(date +%s) - t0))s"
    detail=""
}

kill_leader() {
    m=$(etcd_leader)
    [ -n "$m" ] || fail "no etcd leader"
    t0=$(date +%s%N)
    kill -9 "$(cat "$m/pid")"
    until etcdctl --endpoints "$ETCD" --command-timeout 200ms put "${PREFIX}chaos-probe" x >/dev/null 2>&1; do :; done
    detail=" (a write went through again $((($(date +%s%N) - t0) / 1000000)) ms after the kill)"
    sleep 2
    "$HACK/etcd.sh" start "$m" >/dev/null
    ec del "${PREFIX}chaos-probe" >/dev/null
}
chaos "etcd leader killed with -9 and restarted" kill_leader

pause_leader() {
    m=$(etcd_leader)
    [ -n "$m" ] || fail "no etcd leader"
    kill -STOP "$(cat "$m/pid")"
    sleep 3 # the election timeout is 1s
    kill -CONT "$(cat "$m/pid")"
}
chaos "etcd leader paused for 3s (SIGSTOP) and resumed" pause_leader

compact() {
    sleep 2
    ec compact "$(store_revision)" >/dev/null
    ec defrag >/dev/null
}
chaos "compacted and defragmented under the watches" compact

# How many VMs with a spec are placed on node-b (a deleted VM's placement
# stays until its node has removed its domain).
# Two reads, joined in jq: one etcdctl per VM took seconds per look with
# hundreds of VMs on node-b, longer than the wait it is polled in.
on_b() {
    ec get "${PREFIX}spec/default/vm/" --prefix --keys-only | grep . | sed "s|.*/||" | sort >"$TMP/specs"
    ec get "${PREFIX}placement/default/" --prefix -w json |
        jq -r --arg b "$(printf node-b | base64)" '.kvs[]? | select(.value == $b) | .key | @base64d' |
        sed "s|.*/||" | sort | comm -12 - "$TMP/specs" | sed "s|^|${PREFIX}spec/default/vm/|"
}
cut_node_b() {
    before=$(on_b | grep -c .)
    [ "$before" -gt 0 ] || fail "node-b runs no VM"
    kill -STOP "$proxy"
    # Past the 3s TTL of node-b's registration: its VMs move to node-a.
    gone() { [ -z "$(ec get "${PREFIX}nodes/node-b" --print-value-only)" ]; }
    wait_for 20 "node-b's registration to expire" gone
    end=$(($(date +%s) + 30))
    while [ -n "$(on_b)" ]; do
        [ "$(date +%s)" -lt "$end" ] && { sleep 0.2; continue; }
        for k in $(on_b | head -3); do
            echo "$k: $(ec get "$k" -w json | jq -c '.kvs[0] | {create_revision, mod_revision}')"
            echo "  status: $(ec get "$(echo "$k" | sed 's|/spec/|/status/|')" --print-value-only)"
            grep -a "${k##*/}[:/ ]" "$TMP/node-a.log" | tail -n 5
        done
        fail "node-b's VMs were not placed elsewhere within 30s"
    done
    sleep 1
    detail=" (node-b's $before VMs placed on node-a meanwhile)"
    kill -CONT "$proxy"
}
chaos "node-b cut off from etcd past its lease's TTL, then back" cut_node_b

kill "$recorder"
$CHAOS history "$TMP/status.watch" "$ETCD" "$PREFIX" default || fail "the status history"
ok "status writes: $($CHAOS history "$TMP/status.watch" "$ETCD" "$PREFIX" default)"
