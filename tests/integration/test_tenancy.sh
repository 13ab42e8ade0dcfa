# Tenants kept apart by etcd's access control (hack/tenancy.sh), over TLS
# with per-user passwords: novacrond
# runs as its least-privilege user and still converges, and takes the
# Snapshots of a schedule; a tenant applies, gets and describes in its
# namespace with novactl, and watches and waits there; its get -A lists
# the namespaces it may read and nothing else; reading or writing another
# namespace, or writing a status, is denied with etcd's reason and exit
# code 1; a VM cannot reach another namespace's Volume or Network by
# naming it; novacrond's user cannot write a tenant's VM.
# lane: light
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
denied "team-a writing its own status" any ectl "team-a:$NOVACRON_TENANT_PASSWORD" put "${PREFIX}status/team-a/vm/web" '{"phase":"Running"}'
denied "team-a watching team-b" any timeout 5 etcdctl --endpoints "$ETCD" --cacert "$TLS/ca.pem" \
    --user "team-a:$NOVACRON_TENANT_PASSWORD" watch "${PREFIX}spec/team-b/" --prefix
denied "novacrond's user writing a VM" any ectl "novacrond:$NOVACRON_DAEMON_PASSWORD" put "${PREFIX}spec/team-a/vm/evil" '{}'
ok "denied with etcd's reason (\"$(echo "$out" | tail -n 1)\"), novactl exiting 1: team-a applying or listing in team-b, writing a status, watching team-b; novacrond's user writing a VM"

# References stay in their namespace: team-b's Volume is not team-a's.
doc team-b Volume shared '{"size":"16MiB","pool":"default-pool","node":"node-a"}' | as team-b apply -f - >/dev/null || fail "team-b's Volume"
wait_for 20 "team-b's Volume Ready" converged team-b volume shared Ready
doc team-a VirtualMachine thief '{"vcpus":1,"memory":"64MiB","disks":[{"name":"d","volume":"shared"}]}' |
    as team-a apply -f - >/dev/null || fail "team-a's thief"
pending() { status_of team-a vm thief | jq -e '.phase == "Pending" and (.conditions[0].message | contains("waiting for volume \"shared\" (spec.disks[0]): it does not exist"))' >/dev/null; }
wait_for 20 "thief Pending" pending
status_of team-b volume shared | jq -e '(.attachedTo // []) | length == 0' >/dev/null || fail "team-b's Volume was attached: $(status_of team-b volume shared)"
ok "a team-a VM naming Volume \"shared\" (team-b's) waits for team-a's, which does not exist; team-b's is untouched"

# Seen by a tenant, "every namespace" is every namespace it may read.
as team-b apply -f "$TMP/web-b.json" >/dev/null || fail "team-b could not apply in team-b"
wait_for 20 "team-b's web Running" converged team-b vm web Running
out=$(as team-a get vm -A) || fail "team-a's get -A: $out"
echo "$out" | grep -q "^team-a  *web  *Running" || fail "team-a's get -A lacks its web: $out"
echo "$out" | grep -q "team-b" && fail "team-a's get -A shows team-b: $out"
ok "team-a's get -A lists team-a's VMs and nothing of team-b's"

# Watching and waiting need only the namespace's keys.
# (novactl itself in the background, so that its pid is $!)
tenant_a="$NOVACTL --etcd $ETCD $ETCD_TLS_FLAGS --prefix $PREFIX --etcd-user team-a"
# shellcheck disable=SC2086
NOVACRON_ETCD_PASSWORD=$NOVACRON_TENANT_PASSWORD $tenant_a get vm -w -A >"$TMP/watch-all.out" 2>&1 &
w1=$!
# shellcheck disable=SC2086
NOVACRON_ETCD_PASSWORD=$NOVACRON_TENANT_PASSWORD $tenant_a get vm web -w -n team-a >"$TMP/watch-one.out" 2>&1 &
w2=$!
on_cleanup "kill $w1 $w2 2>/dev/null"
wait_for 10 "team-a's watches listing" sh -c "grep -q web '$TMP/watch-all.out' && grep -q web '$TMP/watch-one.out'"
doc team-a VirtualMachine web '{"vcpus":1,"memory":"96MiB","snapshotSchedule":{"every":"1h","keep":1}}' |
    as team-a apply -f - >/dev/null || fail "team-a's change of web"
as team-a wait vm web -n team-a --for=ready --timeout 20s >/dev/null || fail "team-a's wait: $(as team-a wait vm web -n team-a --for=ready --timeout 1s 2>&1)"
converged team-a vm web Running || fail "wait returned before web converged"
wait_for 10 "the change in team-a's watches" sh -c "grep -c 'team-a *web' '$TMP/watch-all.out' | grep -qv '^[01]$' && grep -c '^web' '$TMP/watch-one.out' | grep -qv '^[01]$'"
grep -q "team-b" "$TMP/watch-all.out" && fail "team-a's watch of every namespace shows team-b: $(cat "$TMP/watch-all.out")"
kill "$w1" "$w2"
ok "team-a watches its namespace and waits for its VM; its watch of every namespace shows nothing of team-b"

# A reference that names another namespace is refused by novactl, and
# Failed when written past it.
NS=team-a
for ref in '"disks":[{"name":"d","volume":"team-b/shared"}]' '"interfaces":[{"name":"n","network":"team-b/net"}]'; do
    doc team-a VirtualMachine thief2 "{\"vcpus\":1,\"memory\":\"64MiB\",$ref}" >"$TMP/thief2.json"
    denied=$(as team-a apply -f "$TMP/thief2.json" 2>&1) && fail "novactl applied $ref"
    field=$(echo "$ref" | sed 's/.*"\([a-z]*\)":"team-b.*/\1/')
    ectl "team-a:$NOVACRON_TENANT_PASSWORD" put "${PREFIX}spec/team-a/vm/thief2" "$(cat "$TMP/thief2.json")" >/dev/null
    wait_for 20 "thief2 Failed on $field" failed_as vm thief2 "[0].$field"
    echo "$denied" | grep -q "\[0\].$field" || fail "novactl's refusal does not name the field: $denied"
done
ok "a VM naming team-b's Volume or Network: novactl refuses it, and written anyway it is Failed ($(ready_msg vm thief2))"
