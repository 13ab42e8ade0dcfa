# 20 VMs converge to Running with Ready=True and observedGeneration equal to
# the spec's mod_revision; a bad document fails alone, naming its fields;
# an update advances observedGeneration; Stopped and Paused are held; a
# delete removes the domain and the status; SIGTERM exits 0.
# lane: light
. "$(dirname "$0")/lib.sh"

start_novacrond --workers 4

for i in $(seq 1 20); do
    put_vm default "vm-$i" '{"vcpus":1,"memory":"128MiB"}'
done
ec put "${PREFIX}spec/default/vm/broken" \
    "$(vm_doc default broken '{"vcpus":"many","memory":"lots","colour":"red"}')" >/dev/null
# A key whose name is not a DNS label, and a VM that needs a volume and a
# network nobody provides.
ec put "${PREFIX}spec/default/vm/Bad_Name" "$(vm_doc default Bad_Name '{"vcpus":1,"memory":"64MiB"}')" >/dev/null
put_vm default needy '{"vcpus":1,"memory":"64MiB","disks":[{"name":"root","volume":"root-vol"}],"interfaces":[{"name":"eth0","network":"net-a"}]}'

all_converged() {
    for i in $(seq 1 20); do
        converged default vm "vm-$i" Running || return 1
    done
}
wait_for 30 "20 VMs Running" all_converged
ok "20 VMs converged to Running, Ready=True, observedGeneration = mod_revision"

st=$(status_of default vm broken)
echo "$st" | jq -e '.phase == "Failed"' >/dev/null || fail "broken VM is not Failed: $st"
msg=$(echo "$st" | jq -r '.conditions[] | select(.type == "Ready") | .message')
for want in 'spec.vcpus: must be an integer from 1 to 256, got "many"' \
    'spec.memory: must be a size' 'spec."colour": unknown field'; do
    case "$msg" in *"$want"*) ;; *) fail "message lacks '$want': $msg" ;; esac
done
ok "the bad document is Failed with its fields named: $msg"

st=$(status_of default vm Bad_Name)
echo "$st" | jq -e '.phase == "Failed" and (.conditions[0].message | contains("metadata.name: the key'"'"'s name \"Bad_Name\" is not a DNS label"))' \
    >/dev/null || fail "a key with a bad name: $st"
ok "a key whose name is not a DNS label is Failed, naming it"

st=$(status_of default vm needy)
echo "$st" | jq -e '.phase == "Pending" and .conditions[0].reason == "WaitingForVolume" and
    (.conditions[0].message | contains("waiting for volume \"root-vol\" (spec.disks[0]): it does not exist"))' \
    >/dev/null || fail "a VM with a missing volume: $st"
ok "a VM whose volume does not exist is Pending, naming it"

# Every domain has a distinct UUID and the status names it.
uuids=$(for i in $(seq 1 20); do status_of default vm "vm-$i" | jq -r .domain.uuid; done | sort -u | grep -c .)
[ "$uuids" -eq 20 ] || fail "expected 20 distinct domain UUIDs, got $uuids"

# Update: vcpus/memory change takes effect; the status says a restart was needed.
old_gen=$(status_of default vm vm-1 | jq .observedGeneration)
put_vm default vm-1 '{"vcpus":2,"memory":"256MiB"}'
wait_for 15 "vm-1 updated" converged default vm vm-1 Running
st=$(status_of default vm vm-1)
new_gen=$(echo "$st" | jq .observedGeneration)
[ "$new_gen" -gt "$old_gen" ] || fail "observedGeneration did not advance: $old_gen -> $new_gen"
echo "$st" | jq -e '.conditions[] | select(.type == "ConfigApplied") | .reason == "Restarted"' \
    >/dev/null || fail "status does not say the update needed a restart: $st"
ok "update advanced observedGeneration $old_gen -> $new_gen and reports the restart"

# Stopped and Paused are reached and held.
put_vm default vm-2 '{"vcpus":1,"memory":"128MiB","runState":"Stopped","stopGracePeriodSeconds":5}'
put_vm default vm-3 '{"vcpus":1,"memory":"128MiB","runState":"Paused"}'
wait_for 15 "vm-2 Stopped" converged default vm vm-2 Stopped
wait_for 15 "vm-3 Paused" converged default vm vm-3 Paused
[ "$(status_of default vm vm-2 | jq -r .domain.state)" = shutoff ] || fail "vm-2 domain not shut off"
[ "$(status_of default vm vm-3 | jq -r .domain.state)" = paused ] || fail "vm-3 domain not paused"
ok "Stopped and Paused are held"

# A converged, idle controller writes nothing.
rev1=$(store_revision)
sleep 3
rev2=$(store_revision)
[ "$rev1" -eq "$rev2" ] || fail "idle controller wrote to etcd: revision $rev1 -> $rev2"
ok "idle for 3s: no etcd writes (revision stays $rev1)"

# Delete: domain destroyed and undefined, then the status key removed.
uuid=$(status_of default vm vm-4 | jq -r .domain.uuid)
ec del "${PREFIX}spec/default/vm/vm-4" >/dev/null
wait_for 15 "vm-4 status deleted" sh -c "[ -z \"\$(etcdctl --endpoints $ETCD get ${PREFIX}status/default/vm/vm-4)\" ]"
ec get "${PREFIX}events/default/vm/vm-4/" --prefix --print-value-only | jq -s -e 'any(.[]; .reason == "Deleted")' \
    >/dev/null || fail "no Deleted event for vm-4"
ok "delete removed domain $uuid and the status"

# The events tell what happened, on a lease.
lease=$(ec get "${PREFIX}events/default/vm/vm-1/" --prefix -w json | jq -r '.kvs[0].lease')
[ "$lease" != null ] && [ "$lease" != 0 ] || fail "events carry no lease"
ok "events are recorded on a lease"

stop_novacrond || fail "SIGTERM: novacrond exited with status $?"
ok "SIGTERM: exit status 0"
