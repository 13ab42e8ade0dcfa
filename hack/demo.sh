#!/bin/sh
# The demo behind `make demo`: a local etcd, novacrond, the example
# manifests of manifests/ applied with plain etcdctl, and their status once
# they converge. When libvirtd can run here, the VMs are real QEMU guests
# (TCG) booting the tiny test guest, whose kernel is added to each manifest
# as it is applied; otherwise the demo says so and uses libvirt's test
# driver. Everything is removed at the end; set DEMO_KEEP=1 to leave etcd
# and novacrond running and play with them.
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
    # Deleting the specs makes novacrond remove its domains first.
    etcdctl --endpoints "$endpoint" del /novacron/spec/ --prefix >/dev/null 2>&1
    for _ in $(seq 1 100); do
        [ -z "$(etcdctl --endpoints "$endpoint" get /novacron/status/ --prefix --keys-only 2>/dev/null)" ] && break
        sleep 0.2
    done
    [ -f "$dir/novacrond.pid" ] && kill "$(cat "$dir/novacrond.pid")" 2>/dev/null
    "$top/hack/etcd.sh" stop "$dir/etcd"
    rm -rf "$dir"
}
trap cleanup EXIT

endpoint=$("$top/hack/etcd.sh" start "$dir/etcd")
echo "etcd:      $endpoint (data in $dir/etcd)"

uri=test:///default
boot=null
if [ "${DEMO_LIBVIRT:-qemu}" = qemu ] && "$top/hack/libvirtd.sh" >"$dir/libvirtd.log" 2>&1 &&
    guest=$("$top/hack/guest.sh" 2>>"$dir/libvirtd.log"); then
    uri=qemu:///system
    boot=$(jq -n --arg g "$guest" '{kernel: "\($g)/vmlinuz", initrd: "\($g)/initrd.img",
                                    cmdline: "console=ttyS0 quiet"}')
    echo "libvirt:   qemu:///system, real TCG guests booting $guest"
else
    echo "libvirt:   libvirtd cannot run here ($(tail -n 1 "$dir/libvirtd.log" 2>/dev/null));"
    echo "           FALLING BACK to test:///default, libvirt's in-process test driver"
fi
"$top/build/novacrond" --etcd "$endpoint" --libvirt "$uri" --force-tcg --listen 127.0.0.1:0 \
    --node demo >"$dir/novacrond.log" 2>&1 &
echo $! >"$dir/novacrond.pid"
echo "novacrond: pid $(cat "$dir/novacrond.pid"), libvirt $uri (log: $dir/novacrond.log)"
echo

keys=""
for f in "$top"/manifests/*.json; do
    ns=$(jq -r '.metadata.namespace // "default"' "$f")
    name=$(jq -r .metadata.name "$f")
    kind=$(jq -r '{VirtualMachine: "vm", Network: "network", Volume: "volume"}[.kind]' "$f")
    echo "apply:     etcdctl put /novacron/spec/$ns/$kind/$name < $(basename "$f")"
    doc=$(jq -c --argjson boot "$boot" 'if $boot != null and .kind == "VirtualMachine" and
        (.spec.boot == null) then .spec.boot = $boot | .spec.accel = "tcg" else . end' "$f")
    etcdctl --endpoints "$endpoint" put "/novacron/spec/$ns/$kind/$name" "$doc" >/dev/null
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
    [ $i -lt 600 ] || { echo "not converged after 60s; log:"; cat "$dir/novacrond.log"; exit 1; }
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
echo "the same, as novactl shows it (novactl get vm -A):"
"$top/build/novactl" --etcd "$endpoint" get vm -A
echo
echo "status of default/vm/web-1, as etcdctl shows it:"
etcdctl --endpoints "$endpoint" get /novacron/status/default/vm/web-1 --print-value-only | jq .
log=$(etcdctl --endpoints "$endpoint" get /novacron/status/default/vm/web-1 --print-value-only | jq -r '.consoleLog // empty')
if [ -n "$log" ]; then
    for _ in $(seq 1 100); do grep -q NOVACRON-GUEST-UP "$log" 2>/dev/null && break; sleep 0.1; done
    echo
    echo "web-1's serial console ($log):"
    cat "$log"
fi
