# InstanceTypes on a real libvirtd (qemu:///system, TCG guests): a VM
# takes its vcpus and memory from one (virsh dominfo shows them); naming
# vcpus too is Failed, naming both fields; a VM whose InstanceType is not
# there yet waits, Pending, and is placed and defined once it comes; a
# changed InstanceType does not restart a running VM (the same domain id,
# condition UpdatePending) until a restart is asked for, which applies it.
. "$(dirname "$0")/lib.sh"
: "${NOVACTL:=$(cd "$(dirname "$0")/../.." && pwd)/build/novactl}"
nctl() { "$NOVACTL" --etcd "$ETCD" --prefix "$PREFIX" "$@"; }
use_qemu
NS=it$$
start_novacrond --libvirt qemu:///system --force-tcg --workers 2

put_it() { # NAME SPEC
    ec put "${PREFIX}spec/$NS/instancetype/$1" \
        "$(printf '{"apiVersion":"novacron.io/v1","kind":"InstanceType","metadata":{"name":"%s","namespace":"%s"},"spec":%s}' "$1" "$NS" "$2")" >/dev/null
}
# A tiny guest's spec without vcpus and memory, from an instance type.
it_spec() { guest_spec "$2" 2 | jq -c --arg it "$1" 'del(.vcpus, .memory) + {instancetype: $it}'; }
max_kib() { $VIRSH dominfo "$1" | awk '/^Max memory:/ { print $3 }'; }
cpus() { $VIRSH dominfo "$1" | awk '/^CPU\(s\):/ { print $2 }'; }
msg_of() { status_of "$NS" "$1" "$2" | jq -r '.conditions[] | select(.type == "Ready") | .reason + ": " + .message'; }

put_it small '{"vcpus":1,"memory":"128MiB"}'
wait_for 20 "small Ready" converged "$NS" instancetype small Ready
put_vm "$NS" a "$(it_spec small Running)"
wait_for 60 "a Running" converged "$NS" vm a Running
dom=$(domain_of "$NS" a)
[ "$(max_kib "$dom")" = 131072 ] && [ "$(cpus "$dom")" = 1 ] || fail "a's domain: $($VIRSH dominfo "$dom")"
status_of "$NS" vm a | jq -e '.instancetype.name == "small" and .instancetype.vcpus == 1 and .instancetype.memory == 134217728' >/dev/null ||
    fail "a's status: $(status_of "$NS" vm a | jq -c .instancetype)"
nctl -n "$NS" get vm a -o wide | grep -Eq "^a .* 1 +128MiB +small +$dom" || fail "get -o wide: $(nctl -n "$NS" get vm a -o wide)"
ok "a VM sized by InstanceType small: virsh dominfo 1 CPU, 131072 KiB; get -o wide shows it"

# The VM names vcpus too: a conflict, Failed naming both.
put_vm "$NS" b "$(it_spec small Stopped | jq -c '. + {vcpus: 2}')"
wait_for 20 "b Failed" sh -c "etcdctl --endpoints $ETCD get ${PREFIX}status/$NS/vm/b --print-value-only | jq -e '.phase == \"Failed\"'"
msg_of vm b | grep -qF 'InstanceTypeConflict: spec.vcpus: conflicts with InstanceType "small", which gives spec.vcpus (1)' ||
    fail "b says: $(msg_of vm b)"
ok "vcpus in the VM and in its InstanceType: Failed, $(msg_of vm b)"

# Not there yet: Pending, and defined once it comes.
put_vm "$NS" c "$(it_spec later Stopped)"
wait_for 20 "c Pending" sh -c "etcdctl --endpoints $ETCD get ${PREFIX}status/$NS/vm/c --print-value-only | jq -e '.phase == \"Pending\"'"
msg_of vm c | grep -qF "WaitingForInstanceType: spec.instancetype: no InstanceType \"later\" in namespace $NS" || fail "c says: $(msg_of vm c)"
put_it later '{"vcpus":2,"memory":"64MiB"}'
wait_for 30 "c Stopped once later came" converged "$NS" vm c Stopped
[ "$(cpus "$(domain_of "$NS" c)")" = 2 ] || fail "c's domain: $($VIRSH dominfo "$(domain_of "$NS" c)")"
ok "an InstanceType not there yet: Pending, then placed and defined with it (2 CPUs)"

# A changed InstanceType does not restart a running VM behind its back.
id0=$($VIRSH domid "$dom")
put_it small '{"vcpus":1,"memory":"192MiB"}'
pending() { status_of "$NS" vm a | jq -e 'any(.conditions[]; .type == "UpdatePending" and .status == "True" and .reason == "InstanceTypeChanged")' >/dev/null; }
wait_for 20 "a UpdatePending" pending
sleep 2
[ "$($VIRSH domid "$dom")" = "$id0" ] && [ "$(max_kib "$dom")" = 131072 ] || fail "a changed under a changed InstanceType: id $($VIRSH domid "$dom"), $(max_kib "$dom") KiB"
converged "$NS" vm a Running || fail "a is not Ready while an update waits: $(msg_of vm a)"
nctl -n "$NS" restart vm a --wait --timeout 60s >"$TMP/out" || fail "novactl restart: $(cat "$TMP/out")"
wait_for 30 "a with 192 MiB" sh -c "[ \"\$($VIRSH dominfo $dom | awk '/^Max memory:/ { print \$3 }')\" = 196608 ]"
[ "$($VIRSH domid "$dom")" != "$id0" ] || fail "a was not restarted"
wait_for 30 "a Running, the update applied" converged "$NS" vm a Running
pending && fail "UpdatePending after the restart"
ok "InstanceType small changed: a kept running (id $id0, 128 MiB, UpdatePending) until novactl restart, then 192 MiB"
