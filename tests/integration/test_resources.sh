# spec.resources on a real libvirtd (qemu:///system, TCG guests):
# memoryBalloon gives a running guest less than its memory, and a change
# of it is applied live (the same domain id), in the running domain (virsh
# dominfo's used memory, which the guest's balloon driver reports) and in
# its definition (currentMemory of virsh dumpxml --inactive); a disk's
# limits are in virsh blkdeviotune, and changed live the same way.
. "$(dirname "$0")/lib.sh"
use_qemu
NS=rs$$
start_novacrond --libvirt qemu:///system --force-tcg --workers 2

use_test_volumes
put volume data '{"size":"16MiB"}'
spec() { # BALLOON IOPS
    guest_spec Running 2 "" 256MiB | jq -c --arg b "$1" --argjson iops "$2" \
        '. + {disks: [{name: "data", volume: "data"}], resources: {memoryBalloon: $b, disks: [{name: "data", iops: $iops, bps: "10MiB"}]}}'
}
iotune() { $VIRSH blkdeviotune "$1" vda | awk -F: -v k="$2" '{ gsub(/ /, "") } $1 == k { print $2 }'; }
used_kib() { $VIRSH dominfo "$1" | awk '/^Used memory:/ { print $3 }'; }
defined_kib() { $VIRSH dumpxml --inactive "$1" | sed -n 's/.*<currentMemory unit=.KiB.>\([0-9]*\)<.*/\1/p'; }

put_vm "$NS" b "$(spec 192MiB 200)"
wait_for 60 "b Running" converged "$NS" vm b Running
dom=$(domain_of "$NS" b)
id0=$($VIRSH domid "$dom")
wait_for 30 "the guest at 192 MiB" sh -c "[ \"\$($VIRSH dominfo $dom | awk '/^Used memory:/ { print \$3 }')\" = 196608 ]"
[ "$(defined_kib "$dom")" = 196608 ] || fail "currentMemory defined: $(defined_kib "$dom")"
ok "memoryBalloon 192MiB of 256MiB: used memory $(used_kib "$dom") KiB, currentMemory $(defined_kib "$dom") KiB"

[ "$(iotune "$dom" total_iops_sec)" = 200 ] && [ "$(iotune "$dom" total_bytes_sec)" = 10485760 ] ||
    fail "virsh blkdeviotune $dom vda: $($VIRSH blkdeviotune "$dom" vda)"
ok "disk data's limits: blkdeviotune 200 IO/s, 10485760 bytes/s"

put_vm "$NS" b "$(spec 160MiB 300)"
wait_for 30 "the guest at 160 MiB" sh -c "[ \"\$($VIRSH dominfo $dom | awk '/^Used memory:/ { print \$3 }')\" = 163840 ]"
[ "$($VIRSH domid "$dom")" = "$id0" ] || fail "restarted: id $id0 -> $($VIRSH domid "$dom")"
[ "$(defined_kib "$dom")" = 163840 ] || fail "currentMemory defined: $(defined_kib "$dom")"
wait_for 30 "b converged" converged "$NS" vm b Running
status_of "$NS" vm b | jq -e '.memoryBalloon == 167772160' >/dev/null || fail "status: $(status_of "$NS" vm b | jq -c .memoryBalloon)"
has_event "$NS" b Ballooned || fail "no Ballooned event"
[ "$(iotune "$dom" total_iops_sec)" = 300 ] || fail "live iops: $($VIRSH blkdeviotune "$dom" vda)"
$VIRSH dumpxml --inactive "$dom" | grep -q "<total_iops_sec>300</total_iops_sec>" || fail "iops not in the definition"
status_of "$NS" vm b | jq -e '.diskLimits == {"data": {"iops": 300, "bps": 10485760}}' >/dev/null || fail "status: $(status_of "$NS" vm b | jq -c .diskLimits)"
ok "memoryBalloon 160MiB and 300 IO/s on disk data: applied live (domain id $id0 kept), used memory $(used_kib "$dom") KiB, both defined the same, events Ballooned and DiskLimitsSet"
