#!/bin/sh
# The demo behind `make demo`: a local etcd, novacrond on libvirt's test
# driver, the example manifests of manifests/ applied with plain etcdctl,
# and their status once they converge. Everything is stopped at the end;
# set DEMO_KEEP=1 to leave etcd and novacrond running and play with them.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mktemp -d /tmp/novacron-demo.XXXXXX)
export ETCDCTL_API=3

cleanup() {
    if [ "${DEMO_KEEP:-0}" = 1 ]; then
        echo
        echo "Left running: etcd at $endpoint, novacrond (pid $(cat "$dir/novacrond.pid"))."
        echo "Try:  ETCDCTL_API=3 etcdctl --endpoints $endpoint watch --prefix /novacron/status/"
        echo "Stop: kill $(cat "$dir/novacrond.pid"); $top/hack/etcd.sh stop $dir/etcd"
        return
    fi
    [ -f "$dir/novacrond.pid" ] && kill "$(cat "$dir/novacrond.pid")" 2>/dev/null
    "$top/hack/etcd.sh" stop "$dir/etcd"
    rm -rf "$dir"
}
trap cleanup EXIT

endpoint=$("$top/hack/etcd.sh" start "$dir/etcd")
echo "etcd:      $endpoint (data in $dir/etcd)"

"$top/build/novacrond" --etcd "$endpoint" --libvirt test:///default --listen 127.0.0.1:0 \
    --node demo >"$dir/novacrond.log" 2>&1 &
echo $! >"$dir/novacrond.pid"
echo "novacrond: pid $(cat "$dir/novacrond.pid"), libvirt test:///default (log: $dir/novacrond.log)"
echo

keys=""
for f in "$top"/manifests/*.json; do
    ns=$(jq -r '.metadata.namespace // "default"' "$f")
    name=$(jq -r .metadata.name "$f")
    kind=$(jq -r '{VirtualMachine: "vm", Network: "network", Volume: "volume"}[.kind]' "$f")
    echo "apply:     etcdctl put /novacron/spec/$ns/$kind/$name < $(basename "$f")"
    etcdctl --endpoints "$endpoint" put "/novacron/spec/$ns/$kind/$name" "$(cat "$f")" >/dev/null
    keys="$keys $ns/$kind/$name"
done

converged() {
    for k in $keys; do
        gen=$(etcdctl --endpoints "$endpoint" get "/novacron/spec/$k" -w json | jq '.kvs[0].mod_revision|tonumber')
        etcdctl --endpoints "$endpoint" get "/novacron/status/$k" --print-value-only |
            jq -e --argjson g "$gen" '.observedGeneration == $g and
                any(.conditions[]; .type == "Ready" and .status == "True")' >/dev/null || return 1
    done
}

i=0
until converged; do
    i=$((i + 1))
    [ $i -lt 300 ] || { echo "not converged after 30s; log:"; cat "$dir/novacrond.log"; exit 1; }
    sleep 0.1
done
echo
echo "converged in about $((i / 10)).$((i % 10))s:"
printf '%-22s %-12s %-6s %-10s %s\n' OBJECT PHASE READY GENERATION DOMAIN
for k in $keys; do
    etcdctl --endpoints "$endpoint" get "/novacron/status/$k" --print-value-only | jq -r --arg k "$k" \
        '[$k, .phase, (.conditions[] | select(.type == "Ready") | .status),
          (.observedGeneration|tostring), "\(.domain.name) (\(.domain.state))"] | @tsv' |
        awk -F'\t' '{ printf "%-22s %-12s %-6s %-10s %s\n", $1, $2, $3, $4, $5 }'
done
echo
echo "status of default/vm/web-1, as etcdctl shows it:"
etcdctl --endpoints "$endpoint" get /novacron/status/default/vm/web-1 --print-value-only | jq .
