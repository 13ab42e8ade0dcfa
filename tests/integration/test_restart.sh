# Restart as a request, on a real libvirtd (qemu:///system, TCG guests):
# novactl restart --wait restarts the guest once (a new domain id, event
# Restarted, status.restart with the reason and restartTime); the same
# annotation value seen again (another change of the spec) restarts
# nothing; a novacrond killed while it stops the guest finishes the
# restart once back, with one Restarted event; a stopped VM is left
# stopped, the request recorded as done.
. "$(dirname "$0")/lib.sh"
: "${NOVACTL:=$(cd "$(dirname "$0")/../.." && pwd)/build/novactl}"
nctl() { "$NOVACTL" --etcd "$ETCD" --prefix "$PREFIX" "$@"; }
use_qemu
NS=rs$$
start_novacrond --libvirt qemu:///system --force-tcg --workers 2

dom_id() { $VIRSH domid "$1" 2>/dev/null | grep -v '^-$' | head -n 1; }
restarted_events() { ec get "${PREFIX}events/$NS/vm/$1/" --prefix --print-value-only | jq -s --arg t "$2" '[.[] | select(.reason == "Restarted" and (.message | contains($t)))] | length'; }

put_vm "$NS" r "$(guest_spec Running 2 "" 64MiB)"
wait_for 60 "r Running" converged "$NS" vm r Running
dom=$(domain_of "$NS" r)
id0=$(dom_id "$dom")

nctl -n "$NS" restart vm r --reason "kernel update" --wait --timeout 60s >"$TMP/out" || fail "novactl restart: $(cat "$TMP/out")"
token=$(sed -n 's/.*novacron.io\/restartedAt \([^)]*\)).*/\1/p' "$TMP/out" | head -n 1)
grep -q "^vm/r -n $NS restarted at " "$TMP/out" || fail "novactl restart said: $(cat "$TMP/out")"
id1=$(dom_id "$dom")
[ -n "$id1" ] && [ "$id1" != "$id0" ] || fail "domain id before $id0, after $id1"
status_of "$NS" vm r | jq -e --arg t "$token" --argjson from "$id0" '.restart.requestedAt == $t and
    .restart.reason == "kernel update" and .restart.fromDomainId == $from and (.restart.restartTime | length > 0)' >/dev/null ||
    fail "status.restart: $(status_of "$NS" vm r | jq -c .restart)"
[ "$(restarted_events r "$token")" -eq 1 ] || fail "Restarted events for $token: $(restarted_events r "$token")"
ec get "${PREFIX}spec/$NS/vm/r" --print-value-only | jq -e --arg t "$token" '.metadata.annotations["novacron.io/restartedAt"] == $t' >/dev/null ||
    fail "the spec's annotation: $(ec get "${PREFIX}spec/$NS/vm/r" --print-value-only | jq -c .metadata)"
wait_for 30 "r Running after the restart" converged "$NS" vm r Running
ok "novactl restart --wait: domain id $id0 -> $id1, one Restarted event, status.restart $(status_of "$NS" vm r | jq -c .restart)"

# Another change of the spec keeps the annotation: no second restart.
ec get "${PREFIX}spec/$NS/vm/r" --print-value-only | jq -c '.spec.stopGracePeriodSeconds = 3' >"$TMP/doc"
ec put "${PREFIX}spec/$NS/vm/r" "$(cat "$TMP/doc")" >/dev/null
wait_for 30 "r converged on the new generation" converged "$NS" vm r Running
sleep 2
[ "$(dom_id "$dom")" = "$id1" ] || fail "restarted again by an unrelated change: id $(dom_id "$dom")"
ok "an unrelated change to the spec, the annotation unchanged: no restart (id still $id1)"

# kill -9 while the guest is being stopped for the restart: back, the
# restart is finished, once.
nctl -n "$NS" restart vm r >"$TMP/out" || fail "novactl restart: $(cat "$TMP/out")"
token2=$(sed -n 's/.*novacron.io\/restartedAt \([^)]*\)).*/\1/p' "$TMP/out" | head -n 1)
recorded() { status_of "$NS" vm r | jq -e --arg t "$token2" '.restart.requestedAt == $t and .restart.restartTime == null' >/dev/null; }
wait_for 30 "the restart recorded" recorded
kill9_novacrond
[ "$(dom_id "$dom")" = "$id1" ] || fail "the domain changed before the kill could land: $(dom_id "$dom")"
start_novacrond --libvirt qemu:///system --force-tcg --workers 2
done2() { status_of "$NS" vm r | jq -e --arg t "$token2" '.restart.requestedAt == $t and .restart.restartTime != null' >/dev/null; }
wait_for 60 "the restart finished after the kill" done2
id2=$(dom_id "$dom")
[ -n "$id2" ] && [ "$id2" != "$id1" ] || fail "domain id after the kill: $id2 (before $id1)"
[ "$(restarted_events r "$token2")" -eq 1 ] || fail "Restarted events for $token2: $(restarted_events r "$token2")"
sleep 3
[ "$(dom_id "$dom")" = "$id2" ] || fail "restarted more than once: id $id2 then $(dom_id "$dom")"
ok "kill -9 mid-restart: finished once back, id $id1 -> $id2, one Restarted event"

# A stopped VM: nothing to restart, the request recorded as done.
put_vm "$NS" off "$(guest_spec Stopped 2 "" 64MiB)"
wait_for 60 "off Stopped" converged "$NS" vm off Stopped
nctl -n "$NS" restart vm off --wait --timeout 30s >"$TMP/out" || fail "novactl restart off: $(cat "$TMP/out")"
grep -q "restarted at .*: the domain was not running$" "$TMP/out" || fail "novactl restart off said: $(cat "$TMP/out")"
[ "$(domstate "$(domain_of "$NS" off)")" = "shut off" ] || fail "off: $(domstate "$(domain_of "$NS" off)")"
nctl -n "$NS" restart vm ghost >"$TMP/out" 2>&1 && fail "restart of a VM that is not there succeeded"
grep -q "not found" "$TMP/out" || fail "restart ghost said: $(cat "$TMP/out")"
ok "a stopped VM stays stopped, the request done ('the domain was not running'); an unknown VM is an error"
