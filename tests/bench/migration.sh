#!/bin/bash
# Migration figures for `make bench`, on the two-host rig (hack/hosts.sh);
# BENCH_MIG_ROUNDS, BENCH_MIG_COLD_ROUNDS set how many of each:
#   - live: a 256 MiB TCG guest moved back and forth BENCH_MIG_ROUNDS
#     times each way (default 3) by Migration documents, from the put to
#     Succeeded as etcd shows it; against `virsh migrate --live --p2p
#     --persistent --undefinesource --auto-converge` of the same domain
#     between the same hosts (the flags novacrond uses), with both
#     novacronds stopped, in the same run. Downtime: libvirt's completed
#     job on both sides.
#   - cold: a stopped VM with a 1 GiB raw node-local Volume full of
#     random bytes, moved BENCH_MIG_COLD_ROUNDS times (default 6) by a
#     cold Migration; against `virsh vol-download
#     | virsh vol-upload` of the same volume between the same hosts, each
#     started with the page cache dropped. Both copies are checked byte
#     for byte.
# Prints figures only.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
export NOVACROND=${NOVACROND:-$top/build/novacrond}
export ROUNDS=${BENCH_MIG_ROUNDS:-3} COLD_ROUNDS=${BENCH_MIG_COLD_ROUNDS:-6}

cat >"$top/tests/integration/.bench_migration.sh" <<'INNER'
. "$(dirname "$0")/lib.sh"
RUN=/run/nc-bench-$$
HOSTS=/run/nc-bench-hosts-$$
export NC_HOSTS_NETNS="nb$$-" NC_HOSTS_SUBNET=10.253.0
A=${NC_HOSTS_NETNS}host-a
B=${NC_HOSTS_NETNS}host-b
on_cleanup 'for f in "$TMP"/host-*.pid; do kill -9 $(cat "$f"); done 2>/dev/null; '"$HACK"'/hosts.sh stop '"$HOSTS"'; rm -rf '"$RUN"
use_qemu
"$HACK/hosts.sh" start "$HOSTS" >/dev/null
URI_A="qemu+unix:///system?socket=$HOSTS/host-a/run/libvirt/libvirt-sock"
URI_B="qemu+unix:///system?socket=$HOSTS/host-b/run/libvirt/libvirt-sock"
PEER_A=qemu+tcp://$NC_HOSTS_SUBNET.1/system
PEER_B=qemu+tcp://$NC_HOSTS_SUBNET.2/system
uri_of() { [ "$1" = host-a ] && echo "$URI_A" || echo "$URI_B"; }
peer_of() { [ "$1" = host-a ] && echo "$PEER_A" || echo "$PEER_B"; }
other() { [ "$1" = host-a ] && echo host-b || echo host-a; }
# Nanoseconds, without a fork: the figures below should not pay for one.
now() { echo $((${EPOCHREALTIME/./} * 1000)); }
ms() { echo $(( ($2 - $1) / 1000000 )); }

start_host host-a "$A" "$(free_port)" --libvirt "$URI_A" --force-tcg
start_host host-b "$B" "$(free_port)" --libvirt "$URI_B" --force-tcg

mig_doc() { # NAME SPEC
    printf '{"apiVersion":"novacron.io/v1","kind":"Migration","metadata":{"name":"%s"},"spec":%s}' "$1" "$2"
}
# Writes Migration NAME with SPEC and waits for its end (timed_until: no
# poll takes CPU from the move); $took is the milliseconds from the put to
# Succeeded, $seen its status.
migrate() { # NAME SPEC
    timed_until "${PREFIX}status/default/migration/$1" '"phase":"(Succeeded|Failed|Cancelled)"' \
        ec put "${PREFIX}spec/default/migration/$1" "$(mig_doc "$1" "$2")"
    [[ $seen == *'"phase":"Succeeded"'* ]] || fail "$1: $seen"
}
downtime_of() { # URI DOMAIN: the completed job's downtime, ms
    virsh -c "$1" domjobinfo --completed "$2" 2>/dev/null | awk '/^Total downtime:/ { print $3 }'
}
stats() { # "label" values...: min, median and max
    local label=$1
    shift
    printf '%s\n' "$@" | sort -n | awk -v l="$label" '{ v[NR] = $1 } END {
        printf "  %-44s min %6d  median %6d  max %6d ms\n", l, v[1], v[int((NR + 1) / 2)], v[NR] }'
}

# --- live ---------------------------------------------------------------
put_vm default bench "$(guest_spec Running 30 novacron.counter 256MiB)"
wait_for 90 "bench running" converged default vm bench Running
dom=$(domain_of default bench)
at=$(ec get "${PREFIX}placement/default/bench" --print-value-only)
ours_total=() ours_down=()
for i in $(seq 1 $((2 * ROUNDS))); do
    to=$(other "$at")
    migrate "live-$i" "{\"vm\":\"bench\",\"mode\":\"live\",\"targetNode\":\"$to\"}"
    ours_total+=("$took")
    ours_down+=("$(jq -r .downtimeMs <<<"$seen")")
    [ "$(virsh -c "$(uri_of "$to")" -q domstate "$dom")" = running ] || fail "bench is not running on $to"
    at=$to
    wait_for 30 "bench Ready on $at" sh -c "etcdctl --endpoints $ETCD get ${PREFIX}status/default/vm/bench --print-value-only | jq -e '.node == \"$at\" and .phase == \"Running\"'"
done

# --- cold ---------------------------------------------------------------
ec put "${PREFIX}spec/default/volume/big" \
    '{"apiVersion":"novacron.io/v1","kind":"Volume","metadata":{"name":"big"},"spec":{"size":"1GiB","format":"raw"}}' >/dev/null
put_vm default cold "$(guest_spec Stopped 30 "" 64MiB | jq -c '. + {disks: [{name: "big", volume: "big"}]}')"
wait_for 60 "cold defined" converged default vm cold Stopped
wait_for 30 "big Ready" sh -c "etcdctl --endpoints $ETCD get ${PREFIX}status/default/volume/big --print-value-only | jq -e '.phase == \"Ready\"'"
vol=$(status_of default volume big | jq -r .volume)
cat_at=$(status_of default volume big | jq -r .node)
head -c 1G /dev/urandom >"$TMP/fill"
sum=$(sha256sum <"$TMP/fill" | cut -d' ' -f1)
virsh -c "$(uri_of "$cat_at")" -q vol-upload --pool default "$vol" "$TMP/fill"
rm -f "$TMP/fill"
check_sum() { # URI VOLUME
    [ "$(sha256sum <"$(virsh -c "$1" -q vol-path --pool default "$2")" | cut -d' ' -f1)" = "$sum" ] ||
        fail "volume $2 at $1 is not what was written"
}
# Each copy starts from disk: what was written is flushed and no cache
# is warm, for the floor as for novacron.
cold_start() { sync; echo 3 >/proc/sys/vm/drop_caches; }
cold_total=() cold_down=() floor_cold=()
floor_copy() { # FROM TO: the volume by two virsh through a pipe, into a volume made as novacron's target makes its copy
    virsh -c "$(uri_of "$2")" -q vol-create-as default "floor-$$" 1G --format raw >/dev/null
    cold_start
    t0=$(now)
    virsh -c "$(uri_of "$1")" -q vol-download --pool default "$vol" /dev/stdout |
        virsh -c "$(uri_of "$2")" -q vol-upload --pool default "floor-$$" /dev/stdin
    floor_cold+=("$(ms "$t0" "$(now)")")
    check_sum "$(uri_of "$2")" "floor-$$"
    virsh -c "$(uri_of "$2")" -q vol-delete --pool default "floor-$$" >/dev/null
}
cold_move() { # TO ROUND
    cold_start
    migrate "cold-$2" "{\"vm\":\"cold\",\"mode\":\"cold\",\"targetNode\":\"$1\"}"
    cold_total+=("$took")
    cold_down+=("$(jq -r .downtimeMs <<<"$seen")")
    check_sum "$(uri_of "$1")" "$vol"
    # The copy left behind goes once the VM is defined on $1.
    wait_for 60 "the copy on $(other "$1") gone" sh -c "! virsh -c '$(uri_of "$(other "$1")")' -q vol-info --pool default '$vol' >/dev/null 2>&1"
}
# Odd rounds copy with virsh first, even ones with novacron first: the
# disk's own flushing after one copy slows whichever comes next.
for i in $(seq 1 "$COLD_ROUNDS"); do
    to=$(other "$cat_at")
    if [ $((i % 2)) = 1 ]; then
        floor_copy "$cat_at" "$to"
        cold_move "$to" "$i"
    else
        cold_move "$to" "$i"
        floor_copy "$to" "$cat_at"
    fi
    cat_at=$to
done

# --- the live floor: virsh alone, novacrond stopped ---------------------
stop_host host-a
stop_host host-b
floor_total=() floor_down=()
for i in $(seq 1 $((2 * ROUNDS))); do
    to=$(other "$at")
    t0=$(now)
    virsh -c "$(uri_of "$at")" -q migrate --live --p2p --persistent --undefinesource --auto-converge \
        "$dom" "$(peer_of "$to")" >/dev/null
    floor_total+=("$(ms "$t0" "$(now)")")
    floor_down+=("$(downtime_of "$(uri_of "$to")" "$dom")")
    at=$to
done

median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
printf 'migration: two libvirt hosts in namespaces (hack/hosts.sh), TCG, %s rounds each way\n' "$ROUNDS"
echo " live, 256 MiB guest counting on its console:"
stats "virsh migrate --live --p2p (floor), total" "${floor_total[@]}"
stats "novacron Migration, put -> Succeeded" "${ours_total[@]}"
awk -v a="$(median "${ours_total[@]}")" -v b="$(median "${floor_total[@]}")" \
    'BEGIN { printf "  %-44s %6.2fx\n", "ratio of the medians to the floor", a / b }'
stats "virsh: downtime (libvirt's completed job)" "${floor_down[@]}"
stats "novacron: downtimeMs (the same figure)" "${ours_down[@]}"
echo " cold, a stopped VM's 1 GiB raw volume of random bytes, $COLD_ROUNDS rounds, from a dropped page cache:"
stats "virsh vol-download | vol-upload (floor)" "${floor_cold[@]}"
stats "novacron Migration, put -> Succeeded" "${cold_total[@]}"
awk -v a="$(median "${cold_total[@]}")" -v b="$(median "${floor_cold[@]}")" \
    'BEGIN { printf "  %-44s %6.2fx\n", "ratio of the medians to the floor", a / b }'
stats "novacron: downtimeMs (stop -> copy done)" "${cold_down[@]}"
awk -v a="$(median "${cold_down[@]}")" -v b="$(median "${floor_cold[@]}")" \
    'BEGIN { printf "  %-44s %6.2fx\n", "ratio of the copy alone to the floor", a / b }'
# The relay itself, as the source's log times each Volume it sends.
mapfile -t sends < <(grep -ah "sent to node" "$TMP"/host-*.log | sed -n 's/.* in \([0-9]*\) ms$/\1/p')
stats "novacron: the volume's send alone (its log)" "${sends[@]}"
INNER
trap 'rm -f "$top/tests/integration/.bench_migration.sh"' EXIT
bash "$top/tests/integration/.bench_migration.sh" | grep -v '^ok '
