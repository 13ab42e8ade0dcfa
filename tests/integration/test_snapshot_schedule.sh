# Scheduled snapshots and kill -9 around snapshots on a real libvirtd
# (qemu:///system, TCG guests, a directory pool): a VM with
# snapshotSchedule {every: 10s, keep: 2} gets its first Snapshot at once,
# one each period after, named <vm>-YYYYMMDD-hhmmss, labelled as its own,
# never more than two; a novacrond killed for a period boundary takes the
# current period's when it is back, and no period is written twice; the
# VM's deletion takes its scheduled Snapshots with it. Then kill -9 of
# novacrond while a snapshot is taken, while a VM is restored (with its
# memory, and of its disks alone) and while a snapshot is deleted: each
# ends, after the restart, as it would have without the kill, with no
# libvirt snapshot left that no status accounts for.
. "$(dirname "$0")/lib.sh"
use_qemu
NS=ss$$
use_test_volumes
DAEMON_ARGS="--libvirt qemu:///system --force-tcg --workers 2"
# shellcheck disable=SC2086
start_novacrond $DAEMON_ARGS

scheduled() { ec get "${PREFIX}spec/$NS/snapshot/sched-" --prefix --keys-only | sed 's|.*/||' | grep . || true; }
libvirt_snaps() { $VIRSH snapshot-list "$1" --name 2>/dev/null | grep . || true; }
# shellcheck disable=SC2086
restart() { kill9_novacrond; start_novacrond $DAEMON_ARGS; }
dom_running() { [ "$(domstate "$1")" = running ]; }

put volume d '{"size":"32MiB"}'
put vm sched "$(guest_spec Running 5 "" 64MiB | jq -c '. + {disks: [{name: "root", volume: "d"}], snapshotSchedule: {every: "10s", keep: 2}}')"
wait_for 60 "sched Running" converged "$NS" vm sched Running
sdom=$(domain_of "$NS" sched)

# The first at once, Ready, the VM's own; the VM's status says so.
wait_for 30 "a first scheduled Snapshot" sh -c "[ -n \"\$(etcdctl --endpoints $ETCD get ${PREFIX}spec/$NS/snapshot/sched- --prefix --keys-only)\" ]"
first=$(scheduled | head -n 1)
echo "$first" | grep -Eq '^sched-[0-9]{8}-[0-9]{5}0$' || fail "the first scheduled Snapshot is named $first"
wait_for 30 "$first Ready" converged "$NS" snapshot "$first" Ready
ec get "${PREFIX}spec/$NS/snapshot/$first" --print-value-only |
    jq -e '.metadata.labels["novacron.io/scheduled-by"] == "sched" and .spec == {"vm": "sched"}' >/dev/null ||
    fail "$first: $(ec get "${PREFIX}spec/$NS/snapshot/$first" --print-value-only)"
# (The first may be a period behind already.) The status is read first:
# the Snapshot it names was written with it, in one transaction, so the
# list read after holds it even when a period begins in between.
st=$(status_of "$NS" vm sched)
all=$(scheduled | tr '\n' ' ')
echo "$st" | jq -e --arg all "$all" '.snapshotSchedule as $s |
    ($all | split(" ") | index($s.lastSnapshot)) != null and ($s.lastSnapshot | test("^sched-[0-9]{8}-[0-9]{6}$")) and
    ($s.nextScheduleTime | test("^[0-9-]+T[0-9:]+0Z$"))' >/dev/null ||
    fail "the VM's status: $(echo "$st" | jq -c .snapshotSchedule), scheduled: $all"
ok "the first scheduled Snapshot at once: $first, labelled novacron.io/scheduled-by: sched"

# One each period; beyond keep, the oldest goes, from etcd and libvirt.
: >"$TMP/seen"
seen_three() { scheduled >>"$TMP/seen"; [ "$(sort -u "$TMP/seen" | grep -c .)" -ge 3 ]; }
wait_for 40 "three periods' Snapshots" seen_three
wait_for 20 "$first deleted (keep: 2)" sh -c "[ -z \"\$(etcdctl --endpoints $ETCD get ${PREFIX}status/$NS/snapshot/$first --keys-only)\" ]"
[ "$(scheduled | grep -c .)" -le 2 ] || fail "more than keep: $(scheduled | tr '\n' ' ')"
libvirt_snaps "$sdom" | grep -qF ".$first" && fail "libvirt still has $first"
ok "a Snapshot each period, never more than keep (2): $(sort -u "$TMP/seen" | tr '\n' ' ')"

# Down across a period boundary: back, it takes the current period's at
# once (not skipped), and no period has two (one SnapshotScheduled event
# per Snapshot ever written).
wait_for 20 "a period's Snapshot Ready" sh -c "etcdctl --endpoints $ETCD get ${PREFIX}status/$NS/snapshot/$(scheduled | tail -n 1) --print-value-only | jq -e '.phase == \"Ready\"'"
kill9_novacrond
down_at=$(date +%s)
sleep 12
# shellcheck disable=SC2086
start_novacrond $DAEMON_ARGS
now=$(date +%s)
period=$(date -u -d "@$((now - now % 10))" +%Y%m%d-%H%M%S)
wait_for 15 "sched-$period, the current period's, after the restart" sh -c "etcdctl --endpoints $ETCD get ${PREFIX}spec/$NS/snapshot/sched-$period --keys-only | grep -q ."
wait_for 30 "sched-$period Ready" converged "$NS" snapshot "sched-$period" Ready
# Each SnapshotScheduled event names the Snapshot it wrote: as many names
# as events (a period that begins meanwhile adds one of each).
ec get "${PREFIX}events/$NS/vm/sched/" --prefix --print-value-only |
    jq -r 'select(.reason == "SnapshotScheduled") | .message' >"$TMP/written"
written=$(grep -c . "$TMP/written")
distinct=$(sort -u "$TMP/written" | grep -c .)
[ "$written" -eq "$distinct" ] || fail "$written Snapshots written for $distinct names: $(sort "$TMP/written" | uniq -d)"
wait_for 20 "keep: 2 after the restart" sh -c "[ \$(etcdctl --endpoints $ETCD get ${PREFIX}status/$NS/snapshot/sched- --prefix --keys-only | grep -c .) -le 2 ]"
ok "novacrond down $(($(date +%s) - down_at))s across a period boundary: sched-$period taken once back; $written written for $distinct periods"

# Every libvirt snapshot of the VM is a scheduled Snapshot with a status.
for s in $(libvirt_snaps "$sdom"); do
    name=${s##*.}
    [ -n "$(status_of "$NS" snapshot "$name")" ] || fail "libvirt snapshot $s has no status"
done

# Deleting the VM deletes its scheduled Snapshots, then the VM goes.
ec del "${PREFIX}spec/$NS/vm/sched" >/dev/null
wait_for 60 "sched's domain gone" sh -c "! $VIRSH domstate '$sdom' >/dev/null 2>&1"
wait_for 30 "the scheduled Snapshots gone" sh -c "[ -z \"\$(etcdctl --endpoints $ETCD get ${PREFIX}spec/$NS/snapshot/ --prefix --keys-only)\$(etcdctl --endpoints $ETCD get ${PREFIX}status/$NS/snapshot/ --prefix --keys-only)\" ]"
ok "the VM deleted: its scheduled Snapshots went with it"

# kill -9 while libvirt takes a snapshot with memory: back, it is Ready,
# taken once.
put volume kd '{"size":"32MiB"}'
put vm k "$(guest_spec Running 3 "" 256MiB | jq -c '. + {disks: [{name: "root", volume: "kd"}]}')"
wait_for 60 "k Running" converged "$NS" vm k Running
kdom=$(domain_of "$NS" k)
ksnap() { echo "${kdom%.*}.$1"; }
put snapshot kc '{"vm":"k","memory":true}'
wait_for 30 "kc InProgress" phase_is snapshot kc InProgress
restart
wait_for 60 "kc Ready after the kill" converged "$NS" snapshot kc Ready
[ "$(libvirt_snaps "$kdom")" = "$(ksnap kc)" ] || fail "libvirt snapshots of k: $(libvirt_snaps "$kdom")"
wait_for 30 "k Running after the kill" converged "$NS" vm k Running
# And killed at once after the put, before anything was said.
put snapshot kc2 '{"vm":"k"}'
sleep 0.05
restart
wait_for 60 "kc2 Ready after the kill" converged "$NS" snapshot kc2 Ready
[ "$(libvirt_snaps "$kdom" | sort | tr '\n' ' ')" = "$(printf '%s\n' "$(ksnap kc)" "$(ksnap kc2)" | sort | tr '\n' ' ')" ] ||
    fail "libvirt snapshots of k: $(libvirt_snaps "$kdom")"
ok "kill -9 while a snapshot is taken (InProgress, and just after the put): Ready once back, one libvirt snapshot each"

# kill -9 mid-restore, with memory and of the disks alone (the guest is
# being stopped then): back, the restore is done again and Complete, and
# the VM back to Running.
put restore kr1 '{"vm":"k","snapshot":"kc"}'
wait_for 30 "kr1 InProgress" phase_is restore kr1 InProgress
restart
wait_for 60 "kr1 Complete after the kill" phase_is restore kr1 Complete
wait_for 60 "k's domain running after kr1" dom_running "$kdom"
put restore kr2 '{"vm":"k","snapshot":"kc2"}'
wait_for 30 "kr2 InProgress" phase_is restore kr2 InProgress
restart
wait_for 60 "kr2 Complete after the kill" phase_is restore kr2 Complete
ready_msg restore kr2 | grep -qF "the guest boots from its disks" || fail "kr2 says: $(ready_msg restore kr2)"
# Off after the restore, the VM's reconciler starts it again.
wait_for 60 "k started after kr2" sh -c "etcdctl --endpoints $ETCD get ${PREFIX}events/$NS/vm/k/ --prefix --print-value-only | jq -s -e 'any(.[]; .reason == \"Started\" and .message == \"domain started from the disks a Restore brought back\")'"
wait_for 60 "k's domain running after kr2" dom_running "$kdom"
wait_for 30 "k Running after kr2" converged "$NS" vm k Running
ok "kill -9 mid-restore (memory, and disks alone): Complete once back, the VM Running"

# kill -9 while a snapshot is deleted: back, it is gone from libvirt and
# etcd, and the other is left.
ec del "${PREFIX}spec/$NS/snapshot/kc" >/dev/null
sleep 0.1
restart
wait_for 30 "kc's status gone after the kill" sh -c "[ -z \"\$(etcdctl --endpoints $ETCD get ${PREFIX}status/$NS/snapshot/kc --keys-only)\" ]"
[ "$(libvirt_snaps "$kdom")" = "$(ksnap kc2)" ] || fail "libvirt snapshots of k after deleting kc: $(libvirt_snaps "$kdom")"
phase_is snapshot kc2 Ready || fail "kc2: $(status_of "$NS" snapshot kc2)"
ok "kill -9 while a snapshot is deleted: gone from libvirt and etcd once back, kc2 left"
