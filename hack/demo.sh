#!/bin/sh
# The demo behind `make demo`: a local etcd and one novacrond node living in
# a network namespace of the demo's own, then manifests/app/ (a Network,
# two Volumes cloned from an image, two VMs on the Network, a process and
# a container beside them, a NetworkPolicy between them) applied with novactl, waited
# for, shown, reached over the Network, repaired after a drift and deleted
# again.
#
# When libvirtd can run here the VMs are real QEMU guests (TCG): the
# Volumes' image is the tiny test guest's boot disk (hack/guest.sh), put
# in the demo's own image folder. Otherwise the demo says so and uses
# libvirt's test driver (DEMO_LIBVIRT=test asks for it; `make check` runs
# the demo that way; the process and the container then have no runtime
# and are shown unplaced, saying why). Everything it started is stopped and removed at the
# end; DEMO_KEEP=1 leaves etcd, novacrond and the objects running.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mktemp -d /tmp/novacron-demo.XXXXXX)
# dnsmasq reads its files as nobody, QEMU reads the image as libvirt-qemu.
chmod 755 "$dir"
netns=novacron-demo-$$
endpoint=
started_libvirtd=0
export ETCDCTL_API=3

say() { printf '%s\n' "$*"; }
since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
step() { printf '\n== %s\n' "$*"; }
nctl() { "$top/build/novactl" --etcd "$endpoint" "$@"; }
die() {
    say "demo failed: $*"
    [ -f "$dir/novacrond.log" ] && { say "last lines of novacrond's log:"; tail -n 20 "$dir/novacrond.log"; }
    exit 1
}

cleanup() {
    rc=$?
    if [ "${DEMO_KEEP:-0}" = 1 ] && [ "$rc" = 0 ]; then
        say ""
        say "Left running: etcd at $endpoint, novacrond (pid $(cat "$dir/novacrond.pid")) in netns $netns."
        say "Try:  $top/build/novactl --etcd $endpoint get network,volume,vm -A"
        say "Stop: $top/build/novactl --etcd $endpoint delete -f $dir/app --wait;" \
            "kill $(cat "$dir/novacrond.pid"); $top/hack/etcd.sh stop $dir/etcd; ip netns del $netns"
        return
    fi
    # Deleting the specs makes novacrond remove its domains, volumes and
    # devices before it stops.
    if [ -f "$dir/novacrond.pid" ] && [ -n "$(nctl get network,volume,vm -A -o name 2>/dev/null)" ]; then
        nctl delete -f "$dir/app" --ignore-not-found --wait --timeout 60s >/dev/null 2>&1 || true
    fi
    [ -f "$dir/novacrond.pid" ] && kill "$(cat "$dir/novacrond.pid")" 2>/dev/null
    [ -n "$endpoint" ] && "$top/hack/etcd.sh" stop "$dir/etcd"
    ip netns del "$netns" 2>/dev/null
    [ "$started_libvirtd" = 1 ] && "$top/hack/libvirtd.sh" stop
    rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step "etcd and the node"
endpoint=$("$top/hack/etcd.sh" start "$dir/etcd")
say "etcd:      $endpoint (data in $dir/etcd)"

# The node's bridge, VXLAN device, dnsmasq and guest taps live in a network
# namespace of the demo's own: nothing changes on this host's network. Its
# loopback carries the VXLAN underlay (a single node has no peer).
ip netns add "$netns" || die "cannot make a network namespace (the demo needs root)"
ip -n "$netns" link set lo up
say "netns:     $netns (the node's network: bridges, VXLAN, dnsmasq, taps)"

mkdir -p "$dir/images" "$dir/app" "$dir/consoles" "$dir/bin"
# The programs processes may run: busybox only.
cp /usr/bin/busybox "$dir/bin/busybox"
mode=test
if [ "${DEMO_LIBVIRT:-qemu}" = qemu ]; then
    virsh -c qemu:///system -q version >/dev/null 2>&1 || started_libvirtd=1
    if "$top/hack/libvirtd.sh" >"$dir/libvirtd.log" 2>&1 &&
        guest=$("$top/hack/guest.sh" 2>>"$dir/libvirtd.log") &&
        "$top/hack/podman.sh" >>"$dir/libvirtd.log" 2>&1; then
        mode=qemu
    fi
fi
if [ $mode = qemu ]; then
    uri=qemu:///system pool=default
    cp --sparse=always "$guest/disk.img" "$dir/images/guest.img"
    say "libvirt:   qemu:///system; the VMs are real TCG guests booting $guest/disk.img"
else
    uri=test:///default pool=default-pool
    [ "$started_libvirtd" = 1 ] && "$top/hack/libvirtd.sh" stop >/dev/null 2>&1
    started_libvirtd=0
    echo "a stand-in image: the test driver does not read it" >"$dir/images/guest.img"
    if [ "${DEMO_LIBVIRT:-qemu}" = qemu ]; then
        say "libvirt:   libvirtd cannot run here ($(tail -n 1 "$dir/libvirtd.log" 2>/dev/null));"
        say "           FALLING BACK to test:///default, libvirt's in-process test driver"
    else
        say "libvirt:   test:///default, libvirt's in-process test driver (DEMO_LIBVIRT=test)"
    fi
fi
chmod 644 "$dir/images/guest.img"
"$top/build/novacrond" --etcd "$endpoint" --libvirt "$uri" --force-tcg --node demo \
    --netns "$netns" --underlay lo --listen 127.0.0.1:0 --image-dir "$dir/images" --exec-dir "$dir/bin" \
    --run-dir "$dir/run" --console-dir "$dir/consoles" >"$dir/novacrond.log" 2>&1 &
echo $! >"$dir/novacrond.pid"
say "novacrond: pid $(cat "$dir/novacrond.pid"), node \"demo\" (log: $dir/novacrond.log)"

# manifests/app/ as a user would apply it, but for the Volumes' image (and,
# on the test driver, its pool) and the process's program folder, which
# must be what this machine has.
for f in "$top"/manifests/app/*.json; do
    jq --arg img "$dir/images/guest.img" --arg pool "$pool" --arg bin "$dir/bin" \
        'if .kind == "Volume" then .spec.source.image = $img | .spec.pool = $pool
         elif .spec.runtime == "process" then .spec.command |= map(sub("^/var/lib/novacron/bin"; $bin))
         else . end' \
        "$f" >"$dir/app/$(basename "$f")"
done
step "apply manifests/app/ (Volumes cloned from $dir/images/guest.img, pool $pool, programs in $dir/bin)"
say "\$ novactl apply -f manifests/app/"
nctl apply -f "$dir/app"

step "wait until everything is Ready"
t0=$(date +%s.%N)
objs="network/app-net volume/app-1-root volume/app-2-root vm/app-1 vm/app-2 networkpolicy/shop-web"
# The test driver has no process or container runtime: app-status and
# app-cache are not placed, saying so.
[ $mode = qemu ] && objs="$objs vm/app-status vm/app-cache"
for obj in $objs; do
    nctl wait "$obj" --for=ready --timeout=120s >/dev/null || die "$obj did not become Ready"
done
say "all Ready $(since "$t0")s after apply"
say "\$ novactl get network,volume,vm,networkpolicy -A"
nctl get network,volume,vm,networkpolicy -A
say "\$ novactl get node -o wide      # what the scheduler placed, against what the node offers"
nctl get node -o wide
table=$(ip netns exec "$netns" nft list tables inet | awk '/ncpol-/ { print $3 }')
[ -n "$table" ] || die "no NetworkPolicy table in $netns"
say "\$ ip netns exec $netns nft list set inet $table iso_in    # the VMs shop-web isolates"
ip netns exec "$netns" nft list set inet "$table" iso_in | grep elements || die "shop-web isolates no VM"

ip_of() { nctl get vm "$1" -o json | jq -r '.status.interfaces[0].ip'; }
console_of() { nctl get vm "$1" -o json | jq -r '.status.consoleLog // empty'; }
ip1=$(ip_of app-1)
ip2=$(ip_of app-2)
if [ $mode = qemu ]; then
    step "the guests on app-net"
    for vm in app-1 app-2; do
        ip=$(ip_of $vm) log=$(console_of $vm)
        for _ in $(seq 1 300); do grep -q "NOVACRON-GUEST-IP $ip" "$log" 2>/dev/null && break; sleep 0.1; done
        say "$vm's console: $(grep -m 1 "NOVACRON-GUEST-IP" "$log" || echo "(no DHCP address yet)")"
        grep -q "NOVACRON-GUEST-IP $ip" "$log" || die "$vm did not get $ip by DHCP"
    done
    for ip in "$ip1" "$ip2"; do
        say "\$ ip netns exec $netns ping -c 2 $ip"
        ip netns exec "$netns" ping -c 2 -W 2 "$ip" | tail -n 2 | head -n 1 || die "no answer from $ip"
    done
    ip3=$(ip_of app-status)
    say "\$ ip netns exec $netns curl http://$ip3:8080/     # the process app-status"
    ip netns exec "$netns" curl -sS --max-time 5 "http://$ip3:8080/" || die "no page from app-status at $ip3"
    ip4=$(ip_of app-cache)
    say "\$ ip netns exec $netns nc $ip4 11211     # the container app-cache"
    ip netns exec "$netns" timeout 5 bash -c "cat </dev/tcp/$ip4/11211" || die "no line from app-cache at $ip4"

    step "drift: destroy app-1's domain behind the controller's back"
    dom=$(nctl get vm app-1 -o json | jq -r .status.domain.name)
    say "\$ virsh destroy $dom"
    t0=$(date +%s.%N)
    virsh -c qemu:///system -q destroy "$dom" >/dev/null
    for _ in $(seq 1 300); do
        [ "$(virsh -c qemu:///system -q domstate "$dom" | head -n 1)" = running ] && break
        sleep 0.05
    done
    nctl wait vm/app-1 --for=ready --timeout=30s >/dev/null || die "app-1 was not repaired"
    say "running again $(since "$t0")s later:" \
        "$(nctl get vm app-1 -o json | jq -r '"phase " + .status.phase + ", domain " + .status.domain.state')"
else
    step "the VMs on app-net"
    say "app-1 holds $ip1 and app-2 $ip2 on app-net; the test driver runs no guest, so"
    say "there is nothing to ping and no domain for virsh to destroy; nor any process"
    say "or container:"
    for vm in app-status app-cache; do
        say "\$ novactl get vm $vm -o json | jq -r '.status.conditions[0].message'"
        nctl get vm $vm -o json | jq -r ".status.conditions[0].message"
    done
fi

[ "${DEMO_KEEP:-0}" = 1 ] && exit 0
step "delete"
say "\$ novactl delete -f manifests/app/ --wait"
t0=$(date +%s.%N)
nctl delete -f "$dir/app" --wait --timeout 60s
say "torn down in $(since "$t0")s"
left=$(for k in status alloc; do etcdctl --endpoints "$endpoint" get "/novacron/$k/" --prefix --keys-only; done)
[ -z "$left" ] || die "left in etcd: $left"
[ -z "$(ip -n "$netns" -o link show | grep -E 'ncb|ncx|nct')" ] || die "devices left in $netns"
[ -z "$(ip netns exec "$netns" nft list tables | grep -E 'ncpol-|ncn')" ] || die "nftables tables left in $netns"
if [ $mode = qemu ]; then
    [ -z "$(virsh -c qemu:///system -q list --all --name | grep "\.default\.app-")" ] || die "domains left"
    [ -z "$(virsh -c lxc:///system -q list --all --name | grep "\.default\.app-")" ] || die "processes left"
    [ -z "$(podman --url unix:///run/podman/podman.sock ps -a --format '{{.Names}}' | grep "\.default\.app-")" ] ||
        die "containers left"
fi
say "no status, allocation, domain, volume, device or nftables table left"
