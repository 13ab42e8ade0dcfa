#!/bin/sh
# Two real libvirt hosts on one machine, for trying migration on
# a laptop and for the tests. Each host is a libvirtd with its virtlogd in
# namespaces of its own:
#   - network: a namespace of its own, joined to the other host's by a veth
#     pair ("nc-veth" on both sides) carrying SUBNET.1 and SUBNET.2 and
#     nothing else;
#   - mount: private copies of /etc/libvirt (without the machine's domains
#     and networks), /run/libvirt, /var/lib/libvirt, /var/log/libvirt,
#     /var/cache/libvirt and /var/log/novacron (its guests' serial logs),
#     bind-mounted from DIR/NAME/;
#   - UTS: hostname NAME, and its own host_uuid (libvirt refuses to migrate
#     to "the same host").
# Each libvirtd listens on its unix socket, reachable from the root
# namespace as qemu+unix:///system?socket=DIR/NAME/run/libvirt/libvirt-sock, and on
# TCP port 16509 of its veth address, where the other host dials it for
# peer-to-peer migration as qemu+tcp://ADDRESS/system (no authentication:
# test only, and only inside these namespaces). QEMU's migration stream
# goes to the same address. Each host has a directory storage pool
# "default" in DIR/NAME/pool. Its guests' tap devices live in its network
# namespace.
#
#   hack/hosts.sh start [DIR]   start the hosts (idempotent)
#   hack/hosts.sh stop [DIR]    stop them, destroying their guests, and
#                               remove DIR (idempotent)
#   hack/hosts.sh env [DIR]     print, per host, NAME NETNS ADDRESS URI PEER-URI
#
# DIR defaults to /run/novacron-hosts. Environment (the same for start and
# stop): NC_HOSTS, the two host names (default "host-a host-b"); NC_HOSTS_NETNS,
# the prefix of their network namespaces' names (default "nc-"), so host-a
# lives in nc-host-a; NC_HOSTS_SUBNET, the first three octets of the veth
# /24 (default 10.251.0).
set -eu

DIR=${2:-/run/novacron-hosts}
HOSTS=${NC_HOSTS:-host-a host-b}
NETNS_PREFIX=${NC_HOSTS_NETNS:-nc-}
SUBNET=${NC_HOSTS_SUBNET:-10.251.0}
PRIVATE="etc/libvirt run/libvirt var/lib/libvirt var/log/libvirt var/cache/libvirt var/log/novacron"

[ "$(id -u)" -eq 0 ] || { echo "hosts: run as root (namespaces, libvirtd)" >&2; exit 1; }

# address N: the veth address of the Nth host (1-based).
address() {
    echo "$SUBNET.$1"
}

uri() {
    echo "qemu+unix:///system?socket=$DIR/$1/run/libvirt/libvirt-sock"
}

answers() {
    virsh -c "$(uri "$1")" -q version >/dev/null 2>&1
}

# The two network namespaces and the veth pair between them.
wire() {
    set -- $HOSTS
    [ $# -eq 2 ] || { echo "hosts: NC_HOSTS must name two hosts" >&2; exit 1; }
    i=0
    for h in "$@"; do
        i=$((i + 1))
        ns=$NETNS_PREFIX$h
        ip netns list | grep -q "^$ns\( \|$\)" || ip netns add "$ns"
        ip -n "$ns" link set lo up
    done
    ip -n "$NETNS_PREFIX$1" link show nc-veth >/dev/null 2>&1 ||
        ip -n "$NETNS_PREFIX$1" link add nc-veth type veth peer name nc-veth netns "$NETNS_PREFIX$2"
    i=0
    for h in "$@"; do
        i=$((i + 1))
        ns=$NETNS_PREFIX$h
        ip -n "$ns" addr show dev nc-veth | grep -q "inet $(address $i)/" ||
            ip -n "$ns" addr add "$(address $i)/24" dev nc-veth
        ip -n "$ns" link set nc-veth up
    done
}

# configure NAME N: the host's private folders and configuration.
configure() {
    h=$1
    d=$DIR/$h
    mkdir -p "$d/pool"
    for p in $PRIVATE; do mkdir -p "$d/$p"; done
    [ -s "$d/etc/libvirt/libvirtd.conf.orig" ] && return 0
    cp -a /etc/libvirt/. "$d/etc/libvirt/"
    # None of the machine's domains, networks or pools: a fresh host.
    rm -rf "$d/etc/libvirt/qemu/"*.xml "$d/etc/libvirt/qemu/autostart" \
        "$d/etc/libvirt/qemu/networks" "$d/etc/libvirt/storage"
    mkdir -p "$d/etc/libvirt/qemu/networks/autostart" "$d/etc/libvirt/storage/autostart"
    cp "$d/etc/libvirt/libvirtd.conf" "$d/etc/libvirt/libvirtd.conf.orig"
    cat >>"$d/etc/libvirt/libvirtd.conf" <<EOF

# hack/hosts.sh: a test host, reachable only inside its namespaces.
listen_tls = 0
listen_tcp = 1
listen_addr = "$2"
auth_tcp = "none"
host_uuid = "$(cat /proc/sys/kernel/random/uuid)"
EOF
    cat >>"$d/etc/libvirt/qemu.conf" <<EOF

# hack/hosts.sh: the cgroup tree is the machine's, shared by every host.
cgroup_controllers = [ ]
migration_address = "$2"
migration_host = "$2"
EOF
}

# launch NAME: libvirtd and virtlogd inside the host's namespaces.
launch() {
    h=$1
    d=$DIR/$h
    answers "$h" && return 0
    mounts=
    for p in $PRIVATE; do
        mkdir -p "/$p"
        mounts="$mounts mount --bind $d/$p /$p;"
    done
    # The daemons keep the mount and UTS namespaces alive after the shell
    # that made them exits.
    ip netns exec "$NETNS_PREFIX$h" unshare --mount --uts --propagation private sh -c "
        set -e
        $mounts
        hostname $h
        virtlogd -d -p /run/libvirt/virtlogd.pid
        libvirtd -d --listen -p /run/libvirt/libvirtd.pid
    "
    for _ in $(seq 1 100); do
        answers "$h" && break
        sleep 0.1
    done
    answers "$h" || { echo "hosts: libvirtd of $h did not come up" >&2; exit 1; }
    virsh -c "$(uri "$h")" -q pool-info default >/dev/null 2>&1 ||
        virsh -c "$(uri "$h")" -q pool-define-as default dir --target "$d/pool" >/dev/null
    virsh -c "$(uri "$h")" -q pool-info default | grep -q 'State: *running' ||
        virsh -c "$(uri "$h")" -q pool-start default >/dev/null
}

start() {
    # libvirtd's users and folders, as for the machine's own libvirtd.
    "$(dirname "$0")/libvirtd.sh" prepare
    mkdir -p "$DIR"
    wire
    i=0
    for h in $HOSTS; do
        i=$((i + 1))
        configure "$h" "$(address "$i")"
        launch "$h"
    done
}

stop() {
    for h in $HOSTS; do
        d=$DIR/$h
        if answers "$h"; then
            for dom in $(virsh -c "$(uri "$h")" -q list --name); do
                virsh -c "$(uri "$h")" -q destroy "$dom" >/dev/null 2>&1 || true
            done
        fi
        for f in libvirtd virtlogd; do
            pid=$(cat "$d/run/libvirt/$f.pid" 2>/dev/null) || continue
            kill "$pid" 2>/dev/null || continue
            for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            kill -9 "$pid" 2>/dev/null || true
        done
        ip netns del "$NETNS_PREFIX$h" 2>/dev/null || true
    done
    rm -rf "$DIR"
}

print_env() {
    i=0
    for h in $HOSTS; do
        i=$((i + 1))
        echo "$h $NETNS_PREFIX$h $(address "$i") $(uri "$h") qemu+tcp://$(address "$i")/system"
    done
}

case "${1:-}" in
start) start ;;
stop) stop ;;
env) print_env ;;
*) echo "usage: $0 start|stop|env [DIR]" >&2; exit 2 ;;
esac
