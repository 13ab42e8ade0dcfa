#!/bin/bash
# Snapshot figures for `make bench`, on qemu:///system with TCG: a running
# 256 MiB guest whose 1 GiB qcow2 Volume holds 256 MiB of data,
# BENCH_SNAP_ROUNDS times (default 5), alternating which goes first:
#   - a Snapshot with memory, from the put to readyToUse as etcd shows it,
#     against `virsh snapshot-create-as` of the same domain (the same
#     internal snapshot with memory libvirt takes for us);
#   - a Restore of it, from the put to complete, against `virsh
#     snapshot-revert` of the same domain to the virsh one;
#   - how long the guest stood paused while each snapshot was written, from
#     libvirt's lifecycle events (Suspended -> Resumed).
# Prints figures only.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
export NOVACROND=${NOVACROND:-$top/build/novacrond}
export ROUNDS=${BENCH_SNAP_ROUNDS:-5}

cat >"$top/tests/integration/.bench_snapshot.sh" <<'INNER'
. "$(dirname "$0")/lib.sh"
use_qemu
NS=sb$$
use_test_volumes
start_novacrond --libvirt qemu:///system --force-tcg --workers 2
now() { date +%s%N; }
ms() { echo $(( ($2 - $1) / 1000000 )); }
stats() { # "label" values...: min, median and max
    local label=$1
    shift
    printf '%s\n' "$@" | sort -n | awk -v l="$label" '{ v[NR] = $1 } END {
        printf "  %-44s min %6d  median %6d  max %6d ms\n", l, v[1], v[int((NR + 1) / 2)], v[NR] }'
}
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
ratio() { awk -v a="$(median $1)" -v b="$(median $2)" -v l="$3" 'BEGIN { printf "  %-44s %6.2fx\n", l, a / b }'; }

# The guest, stopped while its disk gets 256 MiB of data, then running.
put volume bdisk '{"size":"1GiB"}'
put vm bench "$(guest_spec Stopped 30 novacron.counter 256MiB | jq -c '. + {disks: [{name: "data", volume: "bdisk"}]}')"
wait_for 60 "bench Stopped" converged "$NS" vm bench Stopped
path=$(status_of "$NS" volume bdisk | jq -r .path)
qemu-io -f qcow2 -c "write -P 0x5a 0 256M" "$path" >/dev/null
put vm bench "$(guest_spec Running 30 novacron.counter 256MiB | jq -c '. + {disks: [{name: "data", volume: "bdisk"}]}')"
wait_for 90 "bench Running" converged "$NS" vm bench Running
dom=$(domain_of "$NS" bench)
log=$(status_of "$NS" vm bench | jq -r .consoleLog)
wait_for 60 "the guest counting" grep -aq NOVACRON-GUEST-TICK "$log"

# libvirt's lifecycle events of the domain, with their times.
virsh -c qemu:///system event --domain "$dom" --event lifecycle --loop --timestamp >"$TMP/events" 2>&1 &
events_pid=$!
on_cleanup "kill $events_pid 2>/dev/null"
sleep 0.5
# The pause of the last snapshot: its Suspended -> Resumed, in ms.
last_pause() {
    grep -E "Suspended|Resumed" "$TMP/events" | tail -n 2 |
        sed -E 's/^([0-9-]+ [0-9:.]+)\+0000: .*(Suspended|Resumed).*/\1 \2/' |
        python3 -c '
import sys, datetime
t = {}
for line in sys.stdin:
    d, h, what = line.split()
    t[what] = datetime.datetime.fromisoformat(d + " " + h)
print(int((t["Resumed"] - t["Suspended"]).total_seconds() * 1000))'
}

# put_and_wait KIND NAME SPEC TEXT: puts the document and returns once its
# status holds TEXT (timed_until: no poll takes CPU from the guest); $took
# is the milliseconds from the put to then.
put_and_wait() {
    timed_until "${PREFIX}status/$NS/$1/$2" "$4" put "$1" "$2" "$3"
}

ours_snap=() floor_snap=() ours_rest=() floor_rest=() ours_pause=() floor_pause=()
ours() { # ROUND
    put_and_wait snapshot "s$1" '{"vm":"bench","memory":true}' '"readyToUse":true'
    ours_snap+=("$took")
    sleep 0.3
    ours_pause+=("$(last_pause)")
    put_and_wait restore "r$1" "{\"vm\":\"bench\",\"snapshot\":\"s$1\"}" '"complete":true'
    ours_rest+=("$took")
    ec del "${PREFIX}spec/$NS/restore/r$1" >/dev/null
    ec del "${PREFIX}spec/$NS/snapshot/s$1" >/dev/null
    wait_for 60 "s$1 gone" sh -c "[ -z \"\$(etcdctl --endpoints $ETCD get ${PREFIX}status/$NS/snapshot/s$1 --keys-only)\" ]"
    wait_for 30 "bench running" sh -c "[ \"\$($VIRSH domstate $dom)\" = running ]"
}
floor() { # ROUND
    t0=$(now)
    $VIRSH snapshot-create-as "$dom" "floor-$1" >/dev/null
    floor_snap+=("$(ms "$t0" "$(now)")")
    sleep 0.3
    floor_pause+=("$(last_pause)")
    t0=$(now)
    $VIRSH snapshot-revert "$dom" "floor-$1" >/dev/null
    floor_rest+=("$(ms "$t0" "$(now)")")
    $VIRSH snapshot-delete "$dom" "floor-$1" >/dev/null
}
for i in $(seq 1 "$ROUNDS"); do
    if [ $((i % 2)) = 1 ]; then floor "$i"; ours "$i"; else ours "$i"; floor "$i"; fi
done

printf 'snapshots: a running 256 MiB TCG guest, a 1 GiB qcow2 disk holding 256 MiB, %s rounds\n' "$ROUNDS"
stats "virsh snapshot-create-as (floor)" "${floor_snap[@]}"
stats "novacron Snapshot, put -> readyToUse" "${ours_snap[@]}"
ratio "${ours_snap[*]}" "${floor_snap[*]}" "ratio of the medians to the floor"
stats "virsh snapshot-revert (floor)" "${floor_rest[@]}"
stats "novacron Restore, put -> complete" "${ours_rest[@]}"
ratio "${ours_rest[*]}" "${floor_rest[*]}" "ratio of the medians to the floor"
stats "guest paused, virsh snapshot" "${floor_pause[@]}"
stats "guest paused, novacron Snapshot" "${ours_pause[@]}"
INNER
trap 'rm -f "$top/tests/integration/.bench_snapshot.sh"' EXIT
bash "$top/tests/integration/.bench_snapshot.sh" | grep -v '^ok '
