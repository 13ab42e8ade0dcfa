# Snapshots and restores on a real libvirtd (qemu:///system, TCG guests, a
# directory pool), checked with virsh snapshot-list/snapshot-parent,
# qemu-img snapshot -l and the guest's console: a running guest with two
# qcow2 disks (disks and memory: Online, Memory), restored with its memory
# (its counter goes back to the snapshot's and on, no reboot), and with its
# disks alone (a marker written after the snapshot is gone, the guest
# booted again); a snapshot deleted from the middle of a chain, its child
# restored after; a stopped one (Offline); novactl snapshot/restore --wait
# and get snapshot; bad input Failed naming the field (an unknown VM, a raw
# disk, quiesce, a restore of another VM's snapshot or of none); a Volume
# and a VM deleted while snapshots hold them wait, naming them, until those
# are deleted too, and then both go; retainSeconds.
. "$(dirname "$0")/lib.sh"
: "${NOVACTL:=$(cd "$(dirname "$0")/../.." && pwd)/build/novactl}"
nctl() { "$NOVACTL" --etcd "$ETCD" --prefix "$PREFIX" "$@"; }
use_qemu
NS=sn$$
use_test_volumes
start_novacrond --libvirt qemu:///system --force-tcg --workers 2

run_spec() { guest_spec "$1" 5 "novacron.write=MARKER1 novacron.vda novacron.counter" 128MiB | jq -c '. + {disks: [{name: "data", volume: "data"}, {name: "more", volume: "data2"}]}'; }
put volume data '{"size":"64MiB"}'
put volume data2 '{"size":"16MiB"}'
# Retained for 60 s (the least), then deleted by the controller; checked
# at the end.
put volume tmpd '{"size":"16MiB"}'
put vm tmp "$(guest_spec Stopped 5 "" 64MiB | jq -c '. + {disks: [{name: "root", volume: "tmpd"}]}')"
put snapshot short '{"vm":"tmp","retainSeconds":60}'
put vm run "$(run_spec Running)"
put volume cold '{"size":"32MiB"}'
put vm off "$(guest_spec Stopped 5 "" 64MiB | jq -c '. + {disks: [{name: "root", volume: "cold"}]}')"
put volume flat '{"size":"32MiB","format":"raw"}'
put vm rawvm "$(guest_spec Stopped 5 "" 64MiB | jq -c '. + {disks: [{name: "root", volume: "flat"}]}')"
wait_for 60 "run Running" converged "$NS" vm run Running
wait_for 30 "off Stopped" converged "$NS" vm off Stopped
wait_for 30 "rawvm Stopped" converged "$NS" vm rawvm Stopped
# (Seen Ready well within its 60 s, however slow the rest of the test.)
wait_for 30 "short Ready" converged "$NS" snapshot short Ready
dom=$(domain_of "$NS" run)
log=$(status_of "$NS" vm run | jq -r .consoleLog)
wait_for 30 "the guest's marker on its disk" grep -aq "NOVACRON-GUEST-VDA MARKER1" "$log"

# A running guest, with its memory: novactl waits until it is Ready. Taken
# once its counter passed 100, so that a guest resumed from it is told
# from one booted again (which counts from 0). A restart of QEMU starts
# the console log afresh, so the checks below read it whole.
last_tick() { grep -a NOVACRON-GUEST-TICK "$log" | tail -n 1 | awk '{print $2}'; }
tick_over() { [ "$(last_tick)" -gt "$1" ] 2>/dev/null; }
tick_under() { [ "$(last_tick)" -lt "$1" ] 2>/dev/null; }
wait_for 60 "the counter past 100" tick_over 100
nctl -n "$NS" snapshot vm run s1 --memory --wait --timeout 60s >"$TMP/snap.out" ||
    fail "novactl snapshot: $(cat "$TMP/snap.out")"
grep -q "^snapshot/s1 -n $NS Ready: disks and memory of VirtualMachine \"run\"$" "$TMP/snap.out" ||
    fail "novactl snapshot said: $(cat "$TMP/snap.out")"
st=$(status_of "$NS" snapshot s1)
echo "$st" | jq -e --argjson gen "$(mod_revision "$NS" vm run)" --arg node node-a '
    .readyToUse == true and .node == $node and .vm == "run" and .sourceGeneration == $gen and
    .indications == ["Online", "Memory"] and
    .disks == [{"disk": "data", "volume": "data", "size": 67108864}, {"disk": "more", "volume": "data2", "size": 16777216}] and
    (.creationTime | test("^[0-9-]+T[0-9:]+Z$"))' >/dev/null || fail "s1's status: $st"
sname=$(snap_name run s1)
$VIRSH snapshot-list "$dom" --name | grep -qx "$sname" || fail "virsh snapshot-list $dom: $($VIRSH snapshot-list "$dom" --name)"
$VIRSH snapshot-dumpxml "$dom" "$sname" | grep -qF "<description>novacron owner: $NS/snapshot/s1," ||
    fail "$sname carries no owner mark"
vpath=$(status_of "$NS" volume data | jq -r .path)
vpath2=$(status_of "$NS" volume data2 | jq -r .path)
for p in "$vpath" "$vpath2"; do
    qemu-img snapshot -U -l "$p" | grep -qF "$sname" || fail "qemu-img snapshot -l $p: $(qemu-img snapshot -U -l "$p")"
done
[ "$($VIRSH domstate "$dom" | head -n 1)" = running ] || fail "the guest is not running after the snapshot"
nctl -n "$NS" get snapshot >"$TMP/get.out"
grep -Eq "^s1 +Ready +True +node-a +[0-9]+[smh] +run +80MiB *$" "$TMP/get.out" || fail "get snapshot: $(cat "$TMP/get.out")"
# A VM with snapshots does not move: libvirt keeps them on its host.
ec put "${PREFIX}spec/$NS/migration/away" "{\"apiVersion\":\"novacron.io/v1\",\"kind\":\"Migration\",\"metadata\":{\"name\":\"away\",\"namespace\":\"$NS\"},\"spec\":{\"vm\":\"run\"}}" >/dev/null
wait_for 20 "Migration away Failed" failed_as migration away 'HasSnapshots: spec.vm: VirtualMachine "run" has Snapshots (s1), which stay on their node'
ec del "${PREFIX}spec/$NS/migration/away" >/dev/null
ok "a running guest's two disks and memory: $sname in virsh snapshot-list and in qemu-img snapshot -l of both disks; $(echo "$st" | jq -c '{indications, creationTime}'); a Migration of it Failed (HasSnapshots)"

# Restore with memory: the guest resumes where the snapshot left it, its
# counter back at the snapshot's count and going on from there.
at_snap=$(last_tick)
wait_for 30 "the counter past the snapshot" tick_over $((at_snap + 30))
before=$(last_tick)
nctl -n "$NS" restore vm run s1 --wait --timeout 60s >"$TMP/restore.out" || fail "novactl restore: $(cat "$TMP/restore.out")"
grep -q "Complete: VM run restored from Snapshot s1: the guest resumes where it was$" "$TMP/restore.out" ||
    fail "novactl restore said: $(cat "$TMP/restore.out")"
wait_for 20 "the counter back below $before" tick_under "$before"
after=$(last_tick)
[ "$after" -ge "$((at_snap - 20))" ] || fail "the counter after the restore: $after (at the snapshot ~$at_snap, before the restore $before): booted again?"
wait_for 10 "the counter going on from $after" tick_over $((after + 5))
rname=$(nctl -n "$NS" get restore -o name | head -n 1 | sed 's|.*/||')
status_of "$NS" restore "$rname" | jq -e '.complete == true and (.restoreTime | length > 0) and .phase == "Complete"' >/dev/null ||
    fail "the restore's status: $(status_of "$NS" restore "$rname")"
wait_for 20 "run Running after the restore" converged "$NS" vm run Running
ok "a restore with memory: the counter went back from $before to $after (the snapshot was at ~$at_snap) and went on, no reboot"

# Restore of the disks alone: a marker written after the snapshot is gone.
put snapshot s3 '{"vm":"run"}'
wait_for 30 "s3 Ready" converged "$NS" snapshot s3 Ready
put vm run "$(run_spec Stopped)"
wait_for 60 "run Stopped" converged "$NS" vm run Stopped
printf '%-16s' MARKER2 >"$TMP/m2"
qemu-io -f qcow2 -c "write -s $TMP/m2 0 16" "$vpath" >/dev/null || fail "qemu-io could not write MARKER2"
put vm run "$(run_spec Running)"
wait_for 60 "MARKER2 read by the guest" grep -aq 'NOVACRON-GUEST-VDA MARKER2' "$log"
put restore back '{"vm":"run","snapshot":"s3"}'
wait_for 60 "back Complete" phase_is restore back Complete
ready_msg restore back | grep -qF "the guest boots from its disks; the snapshot is of the VM's spec at generation" ||
    fail "back says: $(ready_msg restore back)"
# Booted again, the guest has a new log: MARKER1, and MARKER2 no more.
wait_for 60 "MARKER1 read again after the restore" grep -aq 'NOVACRON-GUEST-VDA MARKER1' "$log"
grep -aq 'NOVACRON-GUEST-VDA MARKER2' "$log" && fail "the guest read MARKER2 after the restore"
wait_for 20 "run Running after the disk restore" converged "$NS" vm run Running
ok "a restore of the disks: the guest was stopped, booted again and reads MARKER1, not the MARKER2 written after the snapshot"

# A snapshot in the middle of a chain: s4 is taken on s3 (where the guest
# was restored to); deleting s3 leaves s4 standing on s1, whole: restoring
# it resumes the guest.
put snapshot s4 '{"vm":"run","memory":true}'
wait_for 30 "s4 Ready" converged "$NS" snapshot s4 Ready
parent() { $VIRSH snapshot-parent "$dom" --snapshotname "$(snap_name run "$1")"; }
[ "$(parent s4)" = "$(snap_name run s3)" ] || fail "s4's parent: $(parent s4)"
ec del "${PREFIX}spec/$NS/snapshot/s3" >/dev/null
wait_for 30 "s3's status gone" sh -c "[ -z \"\$(etcdctl --endpoints $ETCD get ${PREFIX}status/$NS/snapshot/s3 --keys-only)\" ]"
[ "$(parent s4)" = "$(snap_name run s1)" ] || fail "s4's parent after s3 went: $(parent s4)"
for p in "$vpath" "$vpath2"; do
    held=$(qemu-img snapshot -U -l "$p")
    echo "$held" | grep -qF "$(snap_name run s3)" && fail "$p still holds s3"
    echo "$held" | grep -qF "$(snap_name run s4)" || fail "$p lost s4"
done
put restore back4 '{"vm":"run","snapshot":"s4"}'
wait_for 60 "back4 Complete" phase_is restore back4 Complete
ready_msg restore back4 | grep -qF "the guest resumes where it was" || fail "back4 says: $(ready_msg restore back4)"
[ "$(domstate "$dom")" = running ] || fail "run after back4: $(domstate "$dom")"
ok "s3 deleted from the middle of s1 <- s3 <- s4: s4 now on s1, in both images, and restoring it resumes the guest"

# A stopped VM: its disks only.
put snapshot s2 '{"vm":"off","memory":true}'
wait_for 30 "s2 Ready" converged "$NS" snapshot s2 Ready
status_of "$NS" snapshot s2 | jq -e '.indications == ["Offline"]' >/dev/null || fail "s2: $(status_of "$NS" snapshot s2)"
ready_msg snapshot s2 | grep -qF "it was not running: no memory to keep" || fail "s2 says: $(ready_msg snapshot s2)"
$VIRSH snapshot-list "$(domain_of "$NS" off)" --name | grep -qx "$(snap_name off s2)" || fail "no libvirt snapshot for s2"
ok "a stopped VM: disks only, Offline, and it says there was no memory to keep"

# Bad input: Failed, naming the field and the reason; nothing taken.
put snapshot nosuch '{"vm":"ghost"}'
put snapshot rawsnap '{"vm":"rawvm"}'
put snapshot frozen '{"vm":"run","quiesce":true}'
wait_for 20 "nosuch Failed" failed_as snapshot nosuch 'spec.vm: no VirtualMachine "ghost" in namespace '"$NS"
wait_for 20 "rawsnap Failed" failed_as snapshot rawsnap 'spec.vm: disk root: Volume "flat" is raw; snapshots are kept inside qcow2 images'
wait_for 20 "frozen Failed" failed_as snapshot frozen 'spec.quiesce: freezing file systems needs a guest agent'
[ -z "$($VIRSH snapshot-list "$(domain_of "$NS" rawvm)" --name)" ] || fail "rawvm has a snapshot"
[ "$($VIRSH snapshot-list "$dom" --name | grep -c .)" -eq 2 ] || fail "run has more than s1 and s4: $($VIRSH snapshot-list "$dom" --name)"
put restore wrongvm '{"vm":"run","snapshot":"s2"}'
put restore nosnap '{"vm":"run","snapshot":"ghost"}'
wait_for 20 "wrongvm Failed" failed_as restore wrongvm 'spec.snapshot: Snapshot "s2" is of VirtualMachine "off", not "run"'
wait_for 20 "nosnap Failed" failed_as restore nosnap "spec.snapshot: no Snapshot \"ghost\" in namespace $NS"
ok "an unknown VM, a raw disk and quiesce, a restore of another VM's snapshot or of none: Failed naming the field, nothing taken"

# A Volume is not deleted under a snapshot that holds it: VM off lets its
# disk go, the Volume's deletion waits for s2, naming it; deleting s2
# (gone from libvirt and the image) lets it go.
offdom=$(domain_of "$NS" off)
cpath=$(status_of "$NS" volume cold | jq -r .path)
put vm off "$(guest_spec Stopped 5 "" 64MiB)"
wait_for 30 "off without its disk" sh -c "etcdctl --endpoints $ETCD get ${PREFIX}status/$NS/vm/off --print-value-only | jq -e '.disks == null and .observedGeneration == $(mod_revision "$NS" vm off)'"
ec del "${PREFIX}spec/$NS/volume/cold" >/dev/null
wait_for 30 "cold waiting for s2" sh -c "etcdctl --endpoints $ETCD get ${PREFIX}status/$NS/volume/cold --print-value-only | jq -e '.phase == \"Deleting\" and any(.conditions[]; .reason == \"WaitingForSnapshots\" and .message == \"waiting for its Snapshots to be deleted: s2\")'"
[ -f "$cpath" ] || fail "cold went under its snapshot"
ec del "${PREFIX}spec/$NS/snapshot/s2" >/dev/null
wait_for 30 "s2's status gone" sh -c "[ -z \"\$(etcdctl --endpoints $ETCD get ${PREFIX}status/$NS/snapshot/s2 --print-value-only)\" ]"
[ -z "$($VIRSH snapshot-list "$offdom" --name)" ] || fail "off's snapshot is still there"
wait_for 30 "cold gone" sh -c "[ ! -e '$cpath' ] && [ -z \"\$(etcdctl --endpoints $ETCD get ${PREFIX}status/$NS/volume/cold --keys-only)\" ]"
ok "a Volume held by a snapshot waited for it, naming it; the snapshot deleted, from libvirt too, the Volume went"

# The VM is not deleted under its snapshot; with the snapshot deleted
# too, both go.
ec del "${PREFIX}spec/$NS/vm/run" >/dev/null
wait_for 30 "run waiting for s1 and s4" sh -c "etcdctl --endpoints $ETCD get ${PREFIX}status/$NS/vm/run --print-value-only | jq -e '.phase == \"Deleting\" and any(.conditions[]; .reason == \"WaitingForSnapshots\" and .message == \"waiting for its Snapshots to be deleted: s1, s4\")'"
$VIRSH domstate "$dom" >/dev/null 2>&1 || fail "the domain went under its snapshot"
phase_is snapshot s1 Ready || fail "s1 after its VM's deletion: $(status_of "$NS" snapshot s1)"
ec del "${PREFIX}spec/$NS/snapshot/s1" >/dev/null
ec del "${PREFIX}spec/$NS/snapshot/s4" >/dev/null
wait_for 60 "run gone" sh -c "! $VIRSH domstate '$dom' >/dev/null 2>&1"
wait_for 30 "run's and s1's statuses gone" sh -c "[ -z \"\$(etcdctl --endpoints $ETCD get ${PREFIX}status/$NS/vm/run --print-value-only)\$(etcdctl --endpoints $ETCD get ${PREFIX}status/$NS/snapshot/s1 --print-value-only)\" ]"
qemu-img snapshot -U -l "$vpath" | grep -qF "$sname" && fail "the image still holds $sname"
ok "a VM deleted with a snapshot waited for it, naming it; deleting the snapshot let both go, and the image holds no snapshot"

# retainSeconds: 60 s after it was taken, the controller deleted the spec,
# and with it the libvirt snapshot.
wait_for 90 "short deleted after 60 s" sh -c "[ -z \"\$(etcdctl --endpoints $ETCD get ${PREFIX}spec/$NS/snapshot/short --keys-only)\$(etcdctl --endpoints $ETCD get ${PREFIX}status/$NS/snapshot/short --keys-only)\" ]"
[ -z "$($VIRSH snapshot-list "$(domain_of "$NS" tmp)" --name)" ] || fail "tmp's snapshot is still there"
ok "retainSeconds 60: spec, status and libvirt snapshot gone after a minute"
