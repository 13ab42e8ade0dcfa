# spec.cloudInit on a real libvirtd (qemu:///system, TCG guests): the VM
# gets a NoCloud seed as a read-only CD-ROM, which the tiny guest mounts
# and prints on its console: user-data as given, meta-data with
# instance-id (status.cloudInit.instanceId) and local-hostname (its name,
# which it takes) and the spec's entries. A changed userData restarts the
# guest onto a new seed with the same instance-id and removes the old
# seed; a userData over 64 KiB is Failed naming the field; deleting the VM
# removes its seeds. (The network-config made from interfaces is checked
# in test_network.sh, which has Networks.)
. "$(dirname "$0")/lib.sh"
use_qemu
NS=ci$$
start_novacrond --libvirt qemu:///system --force-tcg --workers 2

spec() { # USERDATA
    guest_spec Running 2 "" 128MiB | jq -c --arg u "$1" '. + {cloudInit: {userData: $u, metaData: {team: "blue \"b\""}}}'
}
seeds() { ls "$RUN_DIR/node-a/seeds/$1" 2>/dev/null; }

put_vm "$NS" c "$(spec "$(printf '#cloud-config\n# NOVACRON-CI first %s\nruncmd: [true]\n' "$NS")")"
wait_for 60 "c Running" converged "$NS" vm c Running
dom=$(domain_of "$NS" c)
iid=$(status_of "$NS" vm c | jq -r .cloudInit.instanceId)
[ -n "$iid" ] && [ "$iid" != null ] || fail "no status.cloudInit.instanceId: $(status_of "$NS" vm c)"
wait_for 30 "the user data on c's console" console_has "$NS" c "NOVACRON-GUEST-SEED user-data # NOVACRON-CI first $NS"
log=$(status_of "$NS" vm c | jq -r .consoleLog)
for want in "NOVACRON-GUEST-SEED meta-data instance-id: $iid" "NOVACRON-GUEST-SEED meta-data local-hostname: c" \
    'NOVACRON-GUEST-SEED meta-data team: "blue \"b\""' "NOVACRON-GUEST-HOSTNAME c"; do
    grep -qF "$want" "$log" || fail "c's console lacks '$want': $(grep NOVACRON-GUEST-SEED "$log")"
done
xml=$($VIRSH dumpxml "$dom")
echo "$xml" | tr -d '\n' | grep -q "<disk type=.file. device=.cdrom.>.*<target dev=.sda. bus=.scsi./>.*<readonly/>" ||
    fail "no read-only CD-ROM in $dom: $(echo "$xml" | grep -A8 cdrom)"
[ "$(seeds "$dom" | wc -l)" = 1 ] || fail "seeds of $dom: $(seeds "$dom")"
first=$(seeds "$dom")
ok "cloud-init seed read by the guest: user-data, instance-id $iid, local-hostname c (hostname set), metaData team; a read-only CD-ROM sda"

id0=$($VIRSH domid "$dom")
put_vm "$NS" c "$(spec "$(printf '#cloud-config\n# NOVACRON-CI second %s\n' "$NS")")"
# (The last line without a line break: the guest reads it too.)
wait_for 60 "the new user data on c's console" console_has "$NS" c "NOVACRON-GUEST-SEED user-data # NOVACRON-CI second $NS"
wait_for 30 "c converged" converged "$NS" vm c Running
[ "$($VIRSH domid "$dom")" != "$id0" ] || fail "c was not restarted (domain id $id0)"
status_of "$NS" vm c | jq -e --arg i "$iid" '.cloudInit.instanceId == $i and
    any(.conditions[]; .type == "ConfigApplied" and .reason == "Restarted")' >/dev/null ||
    fail "status after the change: $(status_of "$NS" vm c | jq -c '{cloudInit, conditions}')"
console_has "$NS" c "NOVACRON-GUEST-SEED meta-data instance-id: $iid" || fail "instance-id changed"
[ "$(seeds "$dom")" != "$first" ] && [ "$(seeds "$dom" | wc -l)" = 1 ] || fail "seeds after the change: $(seeds "$dom") (first $first)"
ok "changed userData: restarted (domain id $id0 -> $($VIRSH domid "$dom")) onto a new seed, same instance-id, the old seed removed"

put_vm "$NS" big "$(spec "$(head -c 65537 /dev/zero | tr '\0' x)")"
wait_for 20 "big Failed" failed_as vm big "spec.cloudInit.userData: must be at most 65536 bytes long, got 65537"
ok "userData over 64 KiB: Failed, naming the field"

ec del "${PREFIX}spec/$NS/vm/c" >/dev/null
wait_for 60 "c gone" sh -c "! $VIRSH domstate $dom >/dev/null 2>&1"
wait_for 10 "c's seeds gone" sh -c "[ ! -e $RUN_DIR/node-a/seeds/$dom ]"
ok "VM deleted: its domain and its seeds are gone"
