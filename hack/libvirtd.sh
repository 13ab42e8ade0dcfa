#!/bin/sh
# Brings up libvirtd (qemu:///system) on a machine without systemd as PID 1,
# idempotently: the users and groups QEMU runs as, libvirt's folders,
# virtlogd and libvirtd started as daemons, and a directory storage pool
# "default" for volumes. Prints nothing and exits 0 when libvirtd already
# answers.
#
#   hack/libvirtd.sh          start (or check) libvirtd
#   hack/libvirtd.sh stop     stop libvirtd and virtlogd
#   hack/libvirtd.sh restart  stop, then start
#   hack/libvirtd.sh prepare  only the users, groups and folders
set -eu

POOL_DIR=${NOVACRON_POOL_DIR:-/var/lib/novacron/pool}

SUDO=
[ "$(id -u)" -ne 0 ] && SUDO=sudo

answers() {
    $SUDO virsh -c qemu:///system -q version >/dev/null 2>&1
}

# Whether a process named $1 runs. A zombie does not: one whose parent is
# gone may be left unreaped here for a while (PID 1 is no init), and taken
# for a running virtlogd it kept a new one from being started.
running() {
    ps -C "$1" -o stat= 2>/dev/null | grep -qv '^Z'
}

# Waits up to $2 tenths of a second for no process named $1 to be left.
gone() {
    for _ in $(seq 1 "$2"); do running "$1" || return 0; sleep 0.1; done
    ! running "$1"
}

# libvirtd may take a while to let go of its guests' monitors under load;
# a daemon still exiting when the next one starts holds the pid file and
# the socket, and the new one gives up. So stop waits until it is gone.
stop() {
    for d in libvirtd virtlogd; do
        $SUDO pkill -x "$d" 2>/dev/null || continue
        gone "$d" 300 || { $SUDO pkill -KILL -x "$d" 2>/dev/null; gone "$d" 50; } || true
    done
}

# The users and groups QEMU runs as and libvirt's folders; also what
# hack/hosts.sh needs before its own libvirtds start.
prepare() {
    getent group kvm >/dev/null || $SUDO groupadd --system kvm
    getent group libvirt >/dev/null || $SUDO groupadd --system libvirt
    getent group libvirt-qemu >/dev/null || $SUDO groupadd --system libvirt-qemu
    id libvirt-qemu >/dev/null 2>&1 ||
        $SUDO useradd --system --gid kvm --groups libvirt-qemu --home-dir /var/lib/libvirt \
            --no-create-home --shell /usr/sbin/nologin libvirt-qemu
    $SUDO mkdir -p /var/log/libvirt/qemu /var/run/libvirt /var/lib/libvirt/qemu \
        /var/cache/libvirt/qemu
    if [ -e /dev/kvm ]; then $SUDO chgrp kvm /dev/kvm && $SUDO chmod 660 /dev/kvm; fi
}

# libvirtd, in a mount namespace of its own without /sys/fs/cgroup/unified
# where that is a cgroup2 mount beside the v1 controllers (a "hybrid"
# layout): libvirt's LXC driver, which runs processes, fails to start any
# container there ("Unable to create directory /sys/fs/cgroup/unified").
# Mounts made later outside still reach it (slave propagation).
start_libvirtd() {
    if mountpoint -q /sys/fs/cgroup/unified 2>/dev/null &&
        [ "$(stat -f -c %T /sys/fs/cgroup)" = tmpfs ]; then
        $SUDO unshare -m --propagation slave sh -c 'umount /sys/fs/cgroup/unified &&
            LIBVIRT_LOG_OUTPUTS="3:file:/var/log/libvirt/libvirtd.log" exec libvirtd -d'
    else
        $SUDO env LIBVIRT_LOG_OUTPUTS="3:file:/var/log/libvirt/libvirtd.log" libvirtd -d
    fi
}

# Starts whichever daemon is missing, again if it died while starting
# (libvirtd exits when it cannot take its pid file), and waits until both
# run and libvirtd answers. Its log goes to /var/log/libvirt/libvirtd.log.
start() {
    running virtlogd && answers && return 0
    prepare
    for _ in $(seq 1 600); do
        running virtlogd || $SUDO virtlogd -d
        running libvirtd || start_libvirtd
        running virtlogd && answers && return 0
        sleep 0.1
    done
    echo "libvirtd did not come up; see /var/log/libvirt/libvirtd.log" >&2
    exit 1
}

define_pool() {
    if ! $SUDO virsh -c qemu:///system -q pool-info default >/dev/null 2>&1; then
        $SUDO mkdir -p "$POOL_DIR"
        $SUDO virsh -c qemu:///system -q pool-define-as default dir --target "$POOL_DIR" >/dev/null
        $SUDO virsh -c qemu:///system -q pool-autostart default >/dev/null
    fi
    $SUDO virsh -c qemu:///system -q pool-info default 2>/dev/null | grep -q 'State: *running' ||
        $SUDO virsh -c qemu:///system -q pool-start default >/dev/null
}

case "${1:-start}" in
start) start; define_pool ;;
stop) stop ;;
restart) stop; start; define_pool ;;
prepare) prepare ;;
*) echo "usage: $0 [start|stop|restart|prepare]" >&2; exit 2 ;;
esac
