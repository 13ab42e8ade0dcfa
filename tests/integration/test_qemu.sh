# Real TCG guests on qemu:///system: a guest boots to its marker on the
# serial console named by consoleLog; one destroyed or paused behind the
# controller's back is brought back by libvirt's lifecycle events; a guest
# that honours ACPI stops gracefully and one that ignores it is destroyed
# after stopGracePeriodSeconds; runState Paused is held; libvirtd restarts
# under the controller; a deleted spec's domain is undefined.
. "$(dirname "$0")/lib.sh"
use_qemu

start_novacrond --libvirt qemu:///system --force-tcg --workers 2

put_vm default g1 "$(guest_spec Running 10)"
put_vm default g2 "$(guest_spec Running 2 novacron.ignore_acpi)"
wait_for 60 "g1 Running" converged default vm g1 Running
wait_for 60 "g2 Running" converged default vm g2 Running
wait_for 60 "g1's marker" console_has default g1 NOVACRON-GUEST-UP
wait_for 60 "g2's marker" console_has default g2 NOVACRON-GUEST-UP
d1=$(domain_of default g1)
d2=$(domain_of default g2)
[ "$(domstate "$d1")" = running ] || fail "virsh says $d1 is $(domstate "$d1")"
$VIRSH dumpxml "$d1" | grep -q "<domain type='qemu'" || fail "$d1 is not a TCG domain"
ok "two guests boot to NOVACRON-GUEST-UP in their consoleLog ($(status_of default vm g1 | jq -r .consoleLog))"

# Drift: destroyed and paused behind the controller's back.
$VIRSH destroy "$d1" >/dev/null
wait_for 20 "$d1 running again" sh -c "[ \"\$($VIRSH domstate $d1 | head -n1)\" = running ]"
wait_for 20 "DriftCorrected event" has_event default g1 DriftCorrected
$VIRSH suspend "$d2" >/dev/null
wait_for 20 "$d2 resumed" sh -c "[ \"\$($VIRSH domstate $d2 | head -n1)\" = running ]"
ok "a domain destroyed or paused behind the controller's back is running again"

# Paused is held, and resumed when asked.
put_vm default g1 "$(guest_spec Paused 10)"
wait_for 20 "g1 Paused" converged default vm g1 Paused
[ "$(domstate "$d1")" = paused ] || fail "$d1 is $(domstate "$d1")"
$VIRSH resume "$d1" >/dev/null
wait_for 20 "$d1 paused again" sh -c "[ \"\$($VIRSH domstate $d1 | head -n1)\" = paused ]"
put_vm default g1 "$(guest_spec Running 10)"
wait_for 20 "g1 resumed" converged default vm g1 Running
ok "Paused is held against a resume behind its back, and Running resumes it"

# Graceful stop: g1 honours ACPI, g2 ignores it and is destroyed after 2 s.
# g1 was started again above: wait until its init watches the power button.
wait_for 60 "g1's marker after its restart" console_has default g1 NOVACRON-GUEST-UP
put_vm default g1 "$(guest_spec Stopped 10)"
put_vm default g2 "$(guest_spec Stopped 2 novacron.ignore_acpi)"
wait_for 30 "g1 Stopped" converged default vm g1 Stopped
wait_for 30 "g2 Stopped" converged default vm g2 Stopped
console_has default g1 NOVACRON-GUEST-POWEROFF || fail "g1 did not see the power button"
has_event default g1 ForcedStop && fail "g1 was destroyed although it honours ACPI"
has_event default g2 ForcedStop || fail "g2 ignored ACPI but no ForcedStop event: $(ec get "${PREFIX}events/default/vm/g2/" --prefix)"
[ "$(domstate "$d2")" = "shut off" ] || fail "$d2 is $(domstate "$d2")"
ok "ACPI shutdown for the guest that honours it; destroy after the grace period for the one that does not"

# libvirtd restarts under the controller; events keep coming afterwards.
put_vm default g1 "$(guest_spec Running 10)"
wait_for 30 "g1 Running" converged default vm g1 Running
"$HACK/libvirtd.sh" restart
wait_for 30 "reconnected" grep -q "reconnected to a runtime" "$TMP/novacrond.log"
$VIRSH destroy "$d1" >/dev/null
wait_for 20 "$d1 running after the libvirtd restart" sh -c "[ \"\$($VIRSH domstate $d1 | head -n1)\" = running ]"
ok "libvirtd restarted: reconnected, and drift is still corrected"

# Delete: destroyed, undefined, status and console log removed.
log1=$(status_of default vm g1 | jq -r .consoleLog)
[ -f "$log1" ] || fail "no console log $log1"
ec del "${PREFIX}spec/default/vm/g1" >/dev/null
ec del "${PREFIX}spec/default/vm/g2" >/dev/null
wait_for 30 "statuses removed" sh -c "[ \$(etcdctl --endpoints $ETCD get ${PREFIX}status/ --prefix --keys-only | grep -c .) -eq 0 ]"
$VIRSH dominfo "$d1" >/dev/null 2>&1 && fail "$d1 is still defined"
$VIRSH dominfo "$d2" >/dev/null 2>&1 && fail "$d2 is still defined"
[ -e "$log1" ] && fail "$log1 was left behind"
ok "deleted specs: domains destroyed and undefined, statuses and console logs removed"

stop_novacrond || fail "SIGTERM: exit status $?"
ok "SIGTERM: exit status 0"
