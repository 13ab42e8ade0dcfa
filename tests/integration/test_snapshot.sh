# Snapshots on a real libvirtd (qemu:///system, TCG guests, a directory
# pool), checked with virsh snapshot-list and qemu-img snapshot -l: a
# running guest with a qcow2 disk (disks and memory: Online, Memory), a
# stopped one (Offline), novactl snapshot --wait and get snapshot; bad
# input Failed naming the field (an unknown VM, a raw disk, quiesce); a VM
# deleted while it has a snapshot waits, naming it, until that is deleted
# too, and then both go; a snapshot deleted on its own leaves the VM.
. "$(dirname "$0")/lib.sh"
: "${NOVACTL:=$(cd "$(dirname "$0")/../.." && pwd)/build/novactl}"
nctl() { "$NOVACTL" --etcd "$ETCD" --prefix "$PREFIX" "$@"; }
use_qemu
NS=sn$$
test_vols() { $VIRSH vol-list default | awk '{print $1}' | grep "\.$NS\." || true; }
# A failed run may leave domains with snapshots, which undefine refuses
# without --snapshots-metadata.
remove_test_vols() {
    for d in $(test_domains); do
        $VIRSH destroy "$d" >/dev/null 2>&1 || true
        $VIRSH undefine --snapshots-metadata "$d" >/dev/null 2>&1 || true
    done
    for v in $(test_vols); do $VIRSH vol-delete --pool default "$v" >/dev/null 2>&1 || true; done
}
on_cleanup remove_test_vols
start_novacrond --libvirt qemu:///system --force-tcg --workers 2

put() { # KIND NAME SPEC
    kind=$(case $1 in vm) echo VirtualMachine ;; volume) echo Volume ;; snapshot) echo Snapshot ;; esac)
    ec put "${PREFIX}spec/$NS/$1/$2" \
        "$(printf '{"apiVersion":"novacron.io/v1","kind":"%s","metadata":{"name":"%s","namespace":"%s"},"spec":%s}' \
            "$kind" "$2" "$NS" "$3")" >/dev/null
}
phase_is() { [ "$(status_of "$NS" "$1" "$2" | jq -r .phase)" = "$3" ]; }
ready_msg() { status_of "$NS" "$1" "$2" | jq -r '.conditions[] | select(.type == "Ready") | .reason + ": " + .message'; }
failed_with() { # NAME TEXT
    phase_is snapshot "$1" Failed && ready_msg snapshot "$1" | grep -qF "$2"
}
snap_name() { echo "$(domain_of "$NS" "$1" | sed "s/\.[^.]*$//").$2"; }

put volume data '{"size":"64MiB"}'
put vm run "$(guest_spec Running 5 "novacron.write=MARKER1 novacron.vda novacron.counter" 128MiB | jq -c '. + {disks: [{name: "data", volume: "data"}]}')"
put volume cold '{"size":"32MiB"}'
put vm off "$(guest_spec Stopped 5 "" 64MiB | jq -c '. + {disks: [{name: "root", volume: "cold"}]}')"
put volume flat '{"size":"32MiB","format":"raw"}'
put vm rawvm "$(guest_spec Stopped 5 "" 64MiB | jq -c '. + {disks: [{name: "root", volume: "flat"}]}')"
wait_for 60 "run Running" converged "$NS" vm run Running
wait_for 30 "off Stopped" converged "$NS" vm off Stopped
wait_for 30 "rawvm Stopped" converged "$NS" vm rawvm Stopped
dom=$(domain_of "$NS" run)
log=$(status_of "$NS" vm run | jq -r .consoleLog)
wait_for 30 "the guest's marker on its disk" grep -aq "NOVACRON-GUEST-VDA MARKER1" "$log"

# A running guest, with its memory: novactl waits until it is Ready.
nctl -n "$NS" snapshot vm run s1 --memory --wait --timeout 60s >"$TMP/snap.out" ||
    fail "novactl snapshot: $(cat "$TMP/snap.out")"
grep -q "^snapshot/s1 -n $NS Ready: disks and memory of VirtualMachine \"run\"$" "$TMP/snap.out" ||
    fail "novactl snapshot said: $(cat "$TMP/snap.out")"
st=$(status_of "$NS" snapshot s1)
echo "$st" | jq -e --argjson gen "$(mod_revision "$NS" vm run)" --arg node node-a '
    .readyToUse == true and .node == $node and .vm == "run" and .sourceGeneration == $gen and
    .indications == ["Online", "Memory"] and .disks == [{"disk": "data", "volume": "data", "size": 67108864}] and
    (.creationTime | test("^[0-9-]+T[0-9:]+Z$"))' >/dev/null || fail "s1's status: $st"
sname=$(snap_name run s1)
$VIRSH snapshot-list "$dom" --name | grep -qx "$sname" || fail "virsh snapshot-list $dom: $($VIRSH snapshot-list "$dom" --name)"
$VIRSH snapshot-dumpxml "$dom" "$sname" | grep -qF "<description>novacron owner: $NS/snapshot/s1," ||
    fail "$sname carries no owner mark"
vpath=$(status_of "$NS" volume data | jq -r .path)
qemu-img snapshot -U -l "$vpath" | grep -qF "$sname" || fail "qemu-img snapshot -l $vpath: $(qemu-img snapshot -U -l "$vpath")"
[ "$($VIRSH domstate "$dom" | head -n 1)" = running ] || fail "the guest is not running after the snapshot"
nctl -n "$NS" get snapshot >"$TMP/get.out"
grep -Eq "^s1 +Ready +True +node-a +[0-9]+[smh] +run +64MiB *$" "$TMP/get.out" || fail "get snapshot: $(cat "$TMP/get.out")"
ok "a running guest's disks and memory: $sname in virsh snapshot-list and in qemu-img snapshot -l of its disk; $(echo "$st" | jq -c '{indications, creationTime}')"

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
wait_for 20 "nosuch Failed" failed_with nosuch 'spec.vm: no VirtualMachine "ghost" in namespace '"$NS"
wait_for 20 "rawsnap Failed" failed_with rawsnap 'spec.vm: disk root: Volume "flat" is raw; snapshots are kept inside qcow2 images'
wait_for 20 "frozen Failed" failed_with frozen 'spec.quiesce: freezing file systems needs a guest agent'
[ -z "$($VIRSH snapshot-list "$(domain_of "$NS" rawvm)" --name)" ] || fail "rawvm has a snapshot"
[ "$($VIRSH snapshot-list "$dom" --name | grep -c .)" -eq 1 ] || fail "run has more than s1: $($VIRSH snapshot-list "$dom" --name)"
ok "an unknown VM, a raw disk and quiesce: Failed naming the field, nothing taken"

# A snapshot deleted on its own goes from libvirt and from the image.
ec del "${PREFIX}spec/$NS/snapshot/s2" >/dev/null
wait_for 30 "s2's status gone" sh -c "[ -z \"\$(etcdctl --endpoints $ETCD get ${PREFIX}status/$NS/snapshot/s2 --print-value-only)\" ]"
[ -z "$($VIRSH snapshot-list "$(domain_of "$NS" off)" --name)" ] || fail "off's snapshot is still there"
ok "a deleted snapshot is gone from libvirt"

# The VM is not deleted under its snapshot; with the snapshot deleted
# too, both go.
ec del "${PREFIX}spec/$NS/vm/run" >/dev/null
wait_for 30 "run waiting for s1" sh -c "etcdctl --endpoints $ETCD get ${PREFIX}status/$NS/vm/run --print-value-only | jq -e '.phase == \"Deleting\" and any(.conditions[]; .reason == \"WaitingForSnapshots\" and (.message | test(\"s1\")))'"
$VIRSH domstate "$dom" >/dev/null 2>&1 || fail "the domain went under its snapshot"
phase_is snapshot s1 Ready || fail "s1 after its VM's deletion: $(status_of "$NS" snapshot s1)"
ec del "${PREFIX}spec/$NS/snapshot/s1" >/dev/null
wait_for 60 "run gone" sh -c "! $VIRSH domstate '$dom' >/dev/null 2>&1"
wait_for 30 "run's and s1's statuses gone" sh -c "[ -z \"\$(etcdctl --endpoints $ETCD get ${PREFIX}status/$NS/vm/run --print-value-only)\$(etcdctl --endpoints $ETCD get ${PREFIX}status/$NS/snapshot/s1 --print-value-only)\" ]"
qemu-img snapshot -U -l "$vpath" | grep -qF "$sname" && fail "the image still holds $sname"
ok "a VM deleted with a snapshot waited for it, naming it; deleting the snapshot let both go, and the image holds no snapshot"
