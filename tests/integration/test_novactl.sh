# novactl against a real etcd and novacrond on test:///default: apply a
# directory, get/describe/wait show it converged, re-applying writes
# nothing, an invalid document makes apply write nothing, prune deletes
# only what it should, get -w prints the transitions, wait times out with a
# non-zero exit, and etcd being away is a clear error.
# lane: light
. "$(dirname "$0")/lib.sh"

: "${NOVACTL:=$(cd "$(dirname "$0")/../.." && pwd)/build/novactl}"
nctl() {
    "$NOVACTL" --etcd "$ETCD" "$@"
}

start_novacrond --workers 2

vm_file() { # FILE NS NAME LABEL SPEC
    printf '{"apiVersion":"novacron.io/v1","kind":"VirtualMachine","metadata":{"name":"%s","namespace":"%s","labels":{"sync":"%s"}},"spec":%s}\n' \
        "$3" "$2" "$4" "$5" >"$1"
}

mkdir -p "$TMP/set/sub"
vm_file "$TMP/set/a.json" default a git '{"vcpus":1,"memory":"64MiB"}'
vm_file "$TMP/set/sub/b.json" default b git '{"vcpus":1,"memory":"64MiB","runState":"Stopped"}'
# Two documents in one file, one after the other, one in another namespace.
vm_file "$TMP/set/sub/c.json" team c git '{"vcpus":2,"memory":"128MiB"}'
vm_file "$TMP/d.json" default d git '{"vcpus":1,"memory":"64MiB"}'
cat "$TMP/d.json" >>"$TMP/set/sub/c.json"
echo 'not a manifest' >"$TMP/set/notes.txt"

out=$(nctl apply -f "$TMP/set")
[ "$(echo "$out" | grep -c ' created$')" -eq 4 ] || fail "apply of a directory: $out"
ok "apply -f DIR stored 4 documents from 3 files, recursively, *.json only"

nctl wait vm/a --for=ready --timeout=30s >/dev/null || fail "wait vm/a"
nctl wait vm b --for=phase=Stopped --timeout=30s >/dev/null || fail "wait vm b Stopped"
nctl wait vm/c -n team --for=ready --timeout=30s >/dev/null || fail "wait vm/c -n team"
nctl wait vm/d --for=ready --timeout=30s >/dev/null || fail "wait vm/d"
converged default vm a Running || fail "wait returned before a converged"
ok "wait --for=ready and --for=phase=Stopped returned once converged (checked with etcdctl)"

table=$(nctl get vm)
echo "$table" | head -n 1 | grep -q '^NAME  *PHASE  *READY  *NODE  *AGE  *IP$' || fail "header: $table"
echo "$table" | grep -q '^a  *Running  *True  *node-a ' || fail "row a: $table"
echo "$table" | grep -q '^b  *Stopped  *True  *node-a ' || fail "row b: $table"
echo "$table" | grep -q '^c ' && fail "get without -n showed another namespace: $table"
nctl get vm -A | grep -q '^team  *c  *Running  *True' || fail "get -A: $(nctl get vm -A)"
nctl get vm -o wide | head -n 1 | grep -q 'RUNTIME  *VCPUS  *MEMORY  *INSTANCETYPE  *DOMAIN$' || fail "wide: $(nctl get vm -o wide)"
nctl get vm -o wide | grep -q '^a  *Running .* vm  *1 ' || fail "wide row a: $(nctl get vm -o wide)"
[ "$(nctl get vm a -o json | jq -r '.status.phase + " " + (.metadata.generation == .status.observedGeneration | tostring)')" = "Running true" ] ||
    fail "get -o json: $(nctl get vm a -o json)"
[ "$(nctl get vm -o json | jq '.items | length')" -eq 3 ] || fail "get -o json list"
[ "$(nctl get vms -A -o name | tr '\n' ' ')" = "vm/a vm/b vm/d vm/c " ] || fail "get -o name: $(nctl get vms -A -o name)"
multi=$(nctl get volume,vm,vms -A)
[ "$(echo "$multi" | grep -c '^NAMESPACE  *NAME  *PHASE')" = 1 ] && echo "$multi" | grep -q '^team  *vm/c  *Running  *True' ||
    fail "get volume,vm,vms -A (no volumes: one table): $multi"
[ "$(nctl get vm,volume -o json | jq -r '[.items[].metadata.name] | join(" ")')" = "a b d" ] ||
    fail "get vm,volume -o json: $(nctl get vm,volume -o json)"
rc=0
nctl get vm,volume a 2>/dev/null || rc=$?
[ "$rc" = 2 ] || fail "get with several kinds and a NAME: exit $rc, not 2"
ok "get: table, -A, wide, json, name, several kinds at once"

desc=$(nctl describe vm a)
for want in 'Name: *a$' 'Labels: *sync=git' 'Phase: *Running' 'Ready  *True  *DomainRunning' \
    'Normal  *Started  '; do
    echo "$desc" | grep -q "$want" || fail "describe lacks '$want': $desc"
done
ok "describe shows spec, status, conditions and events"

revs() { ec get "${PREFIX}spec/" --prefix -w json | jq -c '[.kvs[] | .mod_revision]'; }
before=$(revs)
out=$(nctl apply -f "$TMP/set")
[ "$(echo "$out" | grep -c ' unchanged$')" -eq 4 ] || fail "re-apply: $out"
[ "$(revs)" = "$before" ] || fail "re-apply changed mod_revisions: $before -> $(revs)"
ok "re-apply wrote nothing: every mod_revision unchanged"

# A set with one invalid document writes nothing, and says where.
vm_file "$TMP/set/a.json" default a git '{"vcpus":2,"memory":"64MiB"}'
vm_file "$TMP/set/bad.json" default bad git '{"vcpus":0,"memory":"64MiB","colour":"red"}'
rc=0
err=$(nctl apply -f "$TMP/set" 2>&1) || rc=$?
[ "$rc" -eq 1 ] || fail "apply with an invalid document exited $rc"
echo "$err" | grep -q "bad.json: document 1: spec.vcpus: must be an integer from 1 to 256, got 0" ||
    fail "error lacks file/document/field: $err"
echo "$err" | grep -q "bad.json: document 1: spec.\"colour\": unknown field" || fail "second error: $err"
[ "$(revs)" = "$before" ] || fail "apply with an invalid document wrote something"
ok "an invalid document in the set: exit 1, every error with file, document and field, nothing written"
rm "$TMP/set/bad.json"

# --dry-run says what would change and changes nothing.
nctl apply -f "$TMP/set" --dry-run | grep -q '^vm/a configured (dry run)$' || fail "dry run"
[ "$(revs)" = "$before" ] || fail "dry run wrote something"
ok "--dry-run reported the change and wrote nothing"

# get -w prints the transitions of an update; prune removes what left the set.
"$NOVACTL" --etcd "$ETCD" get vm -w >"$TMP/watch.out" 2>&1 &
watch_pid=$!
on_cleanup "kill $watch_pid 2>/dev/null"
wait_for 10 "get -w header" grep -q '^NAME' "$TMP/watch.out"
# d leaves the set; x carries another label; y is the same label in another namespace.
rm "$TMP/set/sub/c.json"
vm_file "$TMP/set/sub/c.json" team c git '{"vcpus":2,"memory":"128MiB"}'
put_vm default x '{"vcpus":1,"memory":"64MiB"}'
vm_file "$TMP/y.json" other y git '{"vcpus":1,"memory":"64MiB"}'
nctl apply -f "$TMP/y.json" >/dev/null
out=$(nctl apply -f "$TMP/set" --prune -l sync=git)
echo "$out" | grep -q '^vm/a configured$' || fail "prune run: $out"
echo "$out" | grep -q '^vm/d pruned$' || fail "d not pruned: $out"
echo "$out" | grep -q '^vm/y -n other pruned$' || fail "y not pruned: $out"
[ "$(echo "$out" | grep -c pruned)" -eq 2 ] || fail "pruned more than d and y: $out"
ec get "${PREFIX}spec/default/vm/x" --print-value-only | grep -q . || fail "x (other label) was pruned"
ok "prune deleted exactly the labelled specs that left the set"

nctl wait vm/d --for=delete --timeout=30s >/dev/null || fail "wait --for=delete"
[ -z "$(status_of default vm d)" ] || fail "d still has a status"
nctl wait vm/a --for=ready --timeout=30s >/dev/null || fail "a after update"
wait_for 10 "get -w rows" grep -q '^d  *Deleted' "$TMP/watch.out"
kill "$watch_pid"
grep -q '^a  *Running  *False' "$TMP/watch.out" || fail "get -w missed a's update: $(cat "$TMP/watch.out")"
grep -q '^a  *Running  *True' "$TMP/watch.out" || fail "get -w missed a ready again"
grep -q '^d  *Deleting' "$TMP/watch.out" || fail "get -w missed d deleting: $(cat "$TMP/watch.out")"
ok "get -w printed a's update and d's deletion: $(grep -c . "$TMP/watch.out") lines"

# delete by name and from a file.
nctl delete vm x | grep -q '^vm/x deleted$' || fail "delete by name"
nctl delete -f "$TMP/set/sub/b.json" --wait --timeout=30s | grep -q 'condition met' ||
    fail "delete -f --wait"
[ -z "$(status_of default vm b)" ] || fail "b still has a status after delete --wait"
rc=0
nctl delete vm nothing-here 2>"$TMP/err" || rc=$?
[ "$rc" -eq 1 ] && grep -q 'vm/nothing-here not found' "$TMP/err" || fail "delete missing: $rc $(cat "$TMP/err")"
nctl delete vm nothing-here --ignore-not-found || fail "--ignore-not-found"
ok "delete by name, from a file with --wait, and a missing name (exit 1, or 0 with --ignore-not-found)"

# wait gives up with exit 1 and says why.
stop_novacrond
put_vm default late '{"vcpus":1,"memory":"64MiB"}'
rc=0
start=$(date +%s%N)
nctl wait vm/late --for=ready --timeout=1s 2>"$TMP/err" || rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
[ "$rc" -eq 1 ] || fail "wait on a VM nobody reconciles exited $rc"
grep -q 'timed out waiting for vm/late to be ready (phase Pending' "$TMP/err" || fail "timeout message: $(cat "$TMP/err")"
ok "wait --timeout=1s gave up after ${ms} ms with exit 1: $(cat "$TMP/err")"

# etcd away: a clear error, exit 1.
rc=0
"$NOVACTL" --etcd "http://127.0.0.1:$(free_port)" get vm 2>"$TMP/err" || rc=$?
[ "$rc" -eq 1 ] && grep -q "cannot read from etcd: .*Couldn't connect" "$TMP/err" ||
    fail "unreachable etcd: $rc $(cat "$TMP/err")"
ok "unreachable etcd: exit 1, $(cat "$TMP/err")"

# Usage errors exit 2, and every verb has --help.
for v in apply validate get describe delete wait completion; do
    nctl "$v" --help | grep -q "^Usage: novactl $v" || fail "$v --help"
done
rc=0; nctl get 2>/dev/null || rc=$?; [ "$rc" -eq 2 ] || fail "get without a kind exited $rc"
rc=0; nctl get vm --dry-run 2>/dev/null || rc=$?; [ "$rc" -eq 2 ] || fail "an option of another verb exited $rc"
rc=0; nctl get pods 2>/dev/null || rc=$?; [ "$rc" -eq 2 ] || fail "unknown kind exited $rc"
bash -n <(nctl completion bash) || fail "completion script does not parse"
ok "usage errors exit 2, every verb has --help, the completion script parses"

# validate needs no etcd and agrees with apply.
# (manifests/monitoring/ holds Prometheus and Grafana files.)
m="$(dirname "$0")/../../manifests"
# shellcheck disable=SC2046
"$NOVACTL" --etcd http://127.0.0.1:1 validate -f "$m/app" $(for f in "$m"/*.json; do printf -- '-f %s ' "$f"; done) |
    grep -q 'documents are valid' || fail "validate of the example manifests"
for empty in '' '[]' '  [ ]  '; do
    set +e
    out=$(printf '%s' "$empty" | "$NOVACTL" --etcd http://127.0.0.1:1 validate -f - 2>&1)
    rc=$?
    set -e
    [ "$rc" = 1 ] && echo "$out" | grep -q "the file holds no document" || fail "validate of '$empty': rc $rc: $out"
done
ok "validate -f of the example manifests without etcd; an empty file or array holds no document (exit 1)"
