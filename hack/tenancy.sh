#!/bin/sh
# Turns on etcd's access control for one NovaCron installation: a role
# per namespace for its tenants, a least-privilege role for novacrond, and
# root for operators. Run it once against an etcd without auth (again, it
# adds what is missing: every step is idempotent).
#
#   hack/tenancy.sh ENDPOINT PREFIX NODES NAMESPACES
#
# NODES and NAMESPACES are space-separated lists. Passwords come from
# NOVACRON_ROOT_PASSWORD, NOVACRON_DAEMON_PASSWORD and, for the user named
# like each namespace, NOVACRON_TENANT_PASSWORD (a test's; give each
# tenant its own with `etcdctl user passwd` afterwards).
#
#   user/role root       everything (operators)
#   user/role novacrond  reads specs, node registrations and cordons;
#                        writes statuses, events, allocations, placements,
#                        the scheduler's leader key and its nodes' keys;
#                        writes the Snapshots its schedules take and the
#                        Migrations a drain asks for (spec/NS/snapshot/,
#                        spec/NS/migration/)
#   user/role NS         reads and writes spec/NS/, reads status/NS/ and
#                        events/NS/: nothing of another namespace, no status
set -eu
[ $# -eq 4 ] || { echo "usage: $0 ENDPOINT PREFIX NODES NAMESPACES" >&2; exit 2; }
endpoint=$1 prefix=$2 nodes=$3 namespaces=$4
: "${NOVACRON_ROOT_PASSWORD:?}" "${NOVACRON_DAEMON_PASSWORD:?}" "${NOVACRON_TENANT_PASSWORD:?}"

ec() { etcdctl --endpoints "$endpoint" "$@" >/dev/null; }
# A user or role that exists already is fine; anything else is an error.
add() { # KIND NAME[:PASSWORD]
    out=$(etcdctl --endpoints "$endpoint" "$1" add "$2" 2>&1) ||
        echo "$out" | grep -q "already exists" || { echo "$out" >&2; exit 1; }
}
grant() { # ROLE read|write|readwrite KEY [prefix]
    ec role grant-permission "$1" "$2" "$prefix$3" ${4:+--prefix=true}
}

add role root
add user "root:$NOVACRON_ROOT_PASSWORD"
ec user grant-role root root

add role novacrond
grant novacrond read "" # the prefix's own key: how novacrond finds the cluster
for p in spec/ nodes/ cordon/; do grant novacrond read "$p" prefix; done
for p in status/ events/ alloc/ placement/ leader/; do grant novacrond readwrite "$p" prefix; done
for n in $nodes; do grant novacrond readwrite "nodes/$n"; done
for ns in $namespaces; do
    grant novacrond readwrite "spec/$ns/snapshot/" prefix
    grant novacrond readwrite "spec/$ns/migration/" prefix
done
add user "novacrond:$NOVACRON_DAEMON_PASSWORD"
ec user grant-role novacrond novacrond

for ns in $namespaces; do
    add role "$ns"
    grant "$ns" readwrite "spec/$ns/" prefix
    grant "$ns" read "status/$ns/" prefix
    grant "$ns" read "events/$ns/" prefix
    add user "$ns:$NOVACRON_TENANT_PASSWORD"
    ec user grant-role "$ns" "$ns"
done
ec auth enable
