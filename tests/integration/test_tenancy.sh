# Tenants kept apart by etcd's access control (hack/tenancy.sh), over TLS
# with per-user passwords: novacrond
# runs as its least-privilege user and still converges, and takes the
# Snapshots of a schedule; a tenant applies, gets and describes in its
# namespace with novactl; reading or writing another namespace, or writing
# a status, is denied with etcd's reason and exit code 1; a VM cannot
# reach another namespace's Volume by naming it; novacrond's user cannot
# write a tenant's VM.
. "$(dirname "$0")/lib.sh"
: "${NOVACTL:=$(cd "$(dirname "$0")/../.." && pwd)/build/novactl}"

use_tls_etcd server-only
export NOVACRON_ROOT_PASSWORD=r00t NOVACRON_DAEMON_PASSWORD=d43mon NOVACRON_TENANT_PASSWORD=t3nant
ETCDCTL_CACERT=$TLS/ca.pem "$HACK/tenancy.sh" "$ETCD" "$PREFIX" node-a "team-a team-b" || fail "hack/tenancy.sh"
ec get /x >/dev/null 2>&1 && fail "etcd auth is not enabled"
ectl() { # USER:PASSWORD ARGS...: etcdctl as that user
    u=$1
    shift
    etcdctl --endpoints "$ETCD" --cacert "$TLS/ca.pem" --user "$u" "$@"
}
ec() { ectl "root:$NOVACRON_ROOT_PASSWORD" "$@"; }
as() { # USER ARGS...: novactl as that user
    u=$1
    shift
    # shellcheck disable=SC2086
    NOVACRON_ETCD_PASSWORD=$NOVACRON_TENANT_PASSWORD \
        "$NOVACTL" --etcd "$ETCD" $ETCD_TLS_FLAGS --prefix "$PREFIX" --etcd-user "$u" "$@"
}
doc() { # NS KIND NAME SPEC
    printf '{"apiVersion":"novacron.io/v1","kind":"%s","metadata":{"name":"%s","namespace":"%s"},"spec":%s}' "$2" "$3" "$1" "$4"
}
denied() { # WHAT RC COMMAND...: it fails with exit status RC ("any" for
          # etcdctl's own) and etcd's reason
    what=$1 want=$2
    shift 2
    set +e
    out=$("$@" 2>&1 </dev/null)
    rc=$?
    set -e
    { [ "$want" = any ] && [ "$rc" != 0 ] || [ "$rc" = "$want" ]; } &&
        echo "$out" | grep -q "permission denied" || fail "$what: rc $rc: $out"
}

# shellcheck disable=SC2086
NOVACRON_ETCD_PASSWORD=$NOVACRON_DAEMON_PASSWORD start_novacrond --etcd-user novacrond $ETCD_TLS_FLAGS

doc team-a VirtualMachine web '{"vcpus":1,"memory":"64MiB","snapshotSchedule":{"every":"1h","keep":1}}' >"$TMP/web.json"
as team-a apply -f "$TMP/web.json" >/dev/null || fail "team-a could not apply in team-a"
wait_for 20 "web Running" converged team-a vm web Running
as team-a get vm -n team-a | grep -q "^web  *Running  *True" || fail "team-a's get: $(as team-a get vm -n team-a 2>&1)"
as team-a describe vm web -n team-a | grep -q "Namespace: *team-a" || fail "team-a's describe"
sched() { ec get "${PREFIX}spec/team-a/snapshot/" --prefix --keys-only | grep -q "web-"; }
wait_for 20 "the schedule's Snapshot, written by novacrond's user" sched
ok "over TLS, novacrond as its least-privilege user: team-a's VM Running, its scheduled Snapshot written; team-a applies, gets and describes in its namespace"

doc team-b VirtualMachine web '{"vcpus":1,"memory":"64MiB"}' >"$TMP/web-b.json"
denied "team-a applying in team-b" 1 as team-a apply -f "$TMP/web-b.json"
denied "team-a listing team-b" 1 as team-a get vm -n team-b
denied "team-a listing every namespace" 1 as team-a get vm -A
denied "team-a writing its own status" any ectl "team-a:$NOVACRON_TENANT_PASSWORD" put "${PREFIX}status/team-a/vm/web" '{"phase":"Running"}'
denied "team-a watching team-b" any timeout 5 etcdctl --endpoints "$ETCD" --cacert "$TLS/ca.pem" \
    --user "team-a:$NOVACRON_TENANT_PASSWORD" watch "${PREFIX}spec/team-b/" --prefix
denied "novacrond's user writing a VM" any ectl "novacrond:$NOVACRON_DAEMON_PASSWORD" put "${PREFIX}spec/team-a/vm/evil" '{}'
ok "denied with etcd's reason (\"$(echo "$out" | tail -n 1)\"), novactl exiting 1: team-a applying or listing in team-b, listing every namespace, writing a status, watching team-b; novacrond's user writing a VM"

# References stay in their namespace: team-b's Volume is not team-a's.
doc team-b Volume shared '{"size":"16MiB","pool":"default-pool","node":"node-a"}' | as team-b apply -f - >/dev/null || fail "team-b's Volume"
wait_for 20 "team-b's Volume Ready" converged team-b volume shared Ready
doc team-a VirtualMachine thief '{"vcpus":1,"memory":"64MiB","disks":[{"name":"d","volume":"shared"}]}' |
    as team-a apply -f - >/dev/null || fail "team-a's thief"
pending() { status_of team-a vm thief | jq -e '.phase == "Pending" and (.conditions[0].message | contains("waiting for volume \"shared\" (spec.disks[0]): it does not exist"))' >/dev/null; }
wait_for 20 "thief Pending" pending
status_of team-b volume shared | jq -e '(.attachedTo // []) | length == 0' >/dev/null || fail "team-b's Volume was attached: $(status_of team-b volume shared)"
ok "a team-a VM naming Volume \"shared\" (team-b's) waits for team-a's, which does not exist; team-b's is untouched"
