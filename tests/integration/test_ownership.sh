# Never touch what NovaCron did not create. libvirt's test driver is loaded
# from a node file holding: an unmarked domain; an unmarked domain that has
# exactly the name NovaCron would give a VM; a domain marked as ours with
# neither spec nor status (an orphan); one marked as ours whose spec is gone
# but whose status remains (a delete interrupted by a crash); and one marked
# by another etcd cluster.
# lane: light
. "$(dirname "$0")/lib.sh"

cluster=$(curl -sf -X POST -d '{"key":"Lw=="}' "$ETCD/v3/kv/range" | jq -r .header.cluster_id)
hash=$(python3 - "$cluster" "$PREFIX" <<'PY'
import sys
h = 0xcbf29ce484222325
for b in sys.argv[1].encode() + b"\0" + sys.argv[2].encode() + b"\0":
    h = ((h ^ b) * 0x100000001b3) & 0xffffffffffffffff
print("%08x" % ((h ^ (h >> 32)) & 0xffffffff))
PY
)

mark() { # NAMESPACE NAME CLUSTER
    printf '<metadata><nc:owner xmlns:nc="https://novacron.io/xmlns/owner/v1"><nc:namespace>%s</nc:namespace><nc:kind>vm</nc:kind><nc:name>%s</nc:name><nc:cluster>%s</nc:cluster><nc:prefix>%s</nc:prefix><nc:config>0</nc:config></nc:owner></metadata>' \
        "$1" "$2" "$3" "$PREFIX"
}
domain() { # NAME [METADATA]
    printf "<domain type='test'><name>%s</name>%s<memory>65536</memory><os><type>hvm</type></os></domain>\n" "$1" "${2:-}"
}
{
    echo "<node>"
    domain plain
    domain "nc-$hash.default.victim"
    domain "nc-$hash.default.orphan" "$(mark default orphan "$cluster")"
    domain "nc-$hash.default.stale" "$(mark default stale "$cluster")"
    domain "nc-0badc0de.default.foreign" "$(mark default foreign 42)"
    echo "</node>"
} >"$TMP/node.xml"

ec put "${PREFIX}status/default/vm/stale" '{"observedGeneration":1,"phase":"Running","conditions":[]}' >/dev/null
start_novacrond --libvirt "test://$TMP/node.xml"

wait_for 15 "the stale domain torn down" sh -c "[ -z \"\$(etcdctl --endpoints $ETCD get ${PREFIX}status/default/vm/stale)\" ]"
grep -q "default/vm/stale: Deleted: domain nc-$hash.default.stale destroyed and undefined" \
    "$TMP/novacrond.log" || fail "no teardown logged for the stale domain"
ok "a marked domain whose spec is gone but whose status remains is deleted, then its status"

grep -q "default/vm/orphan: domain nc-$hash.default.orphan is marked as ours but has neither spec nor status: left alone" \
    "$TMP/novacrond.log" || fail "the orphan was not reported"
ok "a marked domain with neither spec nor status is reported and left alone"

put_vm default victim '{"vcpus":1,"memory":"64MiB"}'
wait_for 15 "victim Failed" sh -c "etcdctl --endpoints $ETCD get ${PREFIX}status/default/vm/victim --print-value-only | jq -e '.phase == \"Failed\"'"
status_of default vm victim | jq -r '.conditions[0].reason + ": " + .conditions[0].message' |
    grep -q "NameConflict: libvirt domain nc-$hash.default.victim exists but NovaCron did not create it" ||
    fail "victim: $(status_of default vm victim)"
ok "an unmarked domain with our name is reported as a conflict"

# A spec for the orphan adopts it: it is ours.
put_vm default orphan '{"vcpus":1,"memory":"64MiB"}'
wait_for 15 "orphan adopted" converged default vm orphan Running
ok "a spec for the orphan adopts its domain"

for who in plain victim foreign; do
    if grep -E "Deleted|Stopped|Started|Updated|Created" "$TMP/novacrond.log" | grep -q "$who"; then
        fail "the controller acted on domain '$who'"
    fi
done
grep -q "default/vm/foreign" "$TMP/novacrond.log" && fail "another cluster's domain was looked at"
ok "the unmarked, conflicting and foreign domains were never acted on"
