# spec.resources on a real libvirtd (qemu:///system, TCG guests):
# memoryBalloon gives a running guest less than its memory, and a change
# of it is applied live (the same domain id), in the running domain (virsh
# dominfo's used memory, which the guest's balloon driver reports) and in
# its definition (currentMemory of virsh dumpxml --inactive); a disk's
# limits are in virsh blkdeviotune, and changed live the same way; CPU
# shares and quota are in virsh schedinfo (the guest's cgroup), the
# pinning in virsh vcpupin, both changed live too. A pinning of a CPU the
# node lacks cannot be placed, or is Failed on the node it names.
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

# CPU shares, quota and pinning (this machine has CPUs 0 and 1).
cpu_spec() { # SHARES QUOTA PINNING
    guest_spec Running 2 "" 128MiB | jq -c --argjson s "$1" --argjson q "$2" --arg p "$3" \
        '. + {resources: {cpuShares: $s, cpuQuota: $q, pinning: $p}}'
}
sched() { $VIRSH schedinfo "$1" | awk -F: -v k="$2" '{ gsub(/ /, "") } $1 == k { print $2 }'; }
pinned_to() { $VIRSH vcpupin "$1" --live | awk '$1 == "0" { print $2 }'; }
put_vm "$NS" c "$(cpu_spec 512 50000 1)"
wait_for 60 "c Running" converged "$NS" vm c Running
dom=$(domain_of "$NS" c)
id0=$($VIRSH domid "$dom")
[ "$(sched "$dom" cpu_shares)" = 512 ] && [ "$(sched "$dom" vcpu_quota)" = 50000 ] &&
    [ "$(sched "$dom" vcpu_period)" = 100000 ] || fail "virsh schedinfo $dom: $($VIRSH schedinfo "$dom")"
[ "$(pinned_to "$dom")" = 1 ] || fail "virsh vcpupin $dom: $($VIRSH vcpupin "$dom")"
ok "cpuShares 512, cpuQuota 50000, pinning 1: schedinfo cpu_shares $(sched "$dom" cpu_shares), vcpu_quota $(sched "$dom" vcpu_quota)/$(sched "$dom" vcpu_period), vcpupin 0 -> $(pinned_to "$dom")"

put_vm "$NS" c "$(cpu_spec 256 25000 0)"
wait_for 30 "c pinned to CPU 0" sh -c "[ \"\$($VIRSH vcpupin $dom --live | awk '\$1 == \"0\" { print \$2 }')\" = 0 ]"
wait_for 30 "c converged" converged "$NS" vm c Running
[ "$($VIRSH domid "$dom")" = "$id0" ] || fail "restarted: id $id0 -> $($VIRSH domid "$dom")"
[ "$(sched "$dom" cpu_shares)" = 256 ] && [ "$(sched "$dom" vcpu_quota)" = 25000 ] || fail "virsh schedinfo $dom: $($VIRSH schedinfo "$dom")"
$VIRSH dumpxml --inactive "$dom" | tr -d ' \n' | grep -q "<shares>256</shares><period>100000</period><quota>25000</quota><vcpupinvcpu='0'cpuset='0'/>" ||
    fail "cputune not in the definition: $($VIRSH dumpxml --inactive "$dom" | grep -A6 cputune)"
status_of "$NS" vm c | jq -e '.cpuTune == {"shares": 256, "quota": 25000, "pinning": "0"}' >/dev/null || fail "status: $(status_of "$NS" vm c | jq -c .cpuTune)"
has_event "$NS" c CPUTuneSet || fail "no CPUTuneSet event"
ok "cpuShares 256, cpuQuota 25000, pinning 0: applied live (domain id $id0 kept), in schedinfo, vcpupin and the definition, status.cpuTune"

put_vm "$NS" far "$(cpu_spec 512 50000 7)"
put_vm "$NS" here "$(cpu_spec 512 50000 7 | jq -c '. + {node: "node-a"}')"
far_pending() { status_of "$NS" vm far | jq -e '.phase == "Pending" and (.conditions[0].message | contains("without the CPUs it pins"))' >/dev/null; }
wait_for 20 "far unschedulable" far_pending
wait_for 20 "here Failed" failed_as vm here "spec.resources.pinning: node node-a has no CPU 7 (it has 0-1)"
ok "pinning a CPU no node has: Pending ($(status_of "$NS" vm far | jq -r .conditions[0].message)); on the node it names: Failed"
