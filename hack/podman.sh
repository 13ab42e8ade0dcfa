#!/bin/sh
# Brings up the Podman service (the REST API that runs containers) on a
# machine without systemd as PID 1, idempotently, and the test image
# localhost/novacron-busybox:latest (busybox-static in an otherwise empty
# root file system, imported: there is no registry here). Prints nothing
# and exits 0 when the service already answers and the image is there.
#
#   hack/podman.sh          start (or check) the service, build the image
#   hack/podman.sh stop     stop the service
#
# The service listens on $PODMAN_SOCKET (default /run/podman/podman.sock,
# where novacrond looks by default). On a host with a hybrid cgroup
# layout it runs in a mount namespace without /sys/fs/cgroup/unified, as
# hack/libvirtd.sh does for libvirtd: crun refuses hybrid mode. Its
# containers' resource limits are those of this shell at most (a
# containers.conf of its own), since it may lack the right to raise them.
# It logs to /run/podman/service.log.
set -eu
SOCK=${PODMAN_SOCKET:-/run/podman/podman.sock}
CONF=/run/podman/novacron-containers.conf
LOG=/run/podman/service.log # what the service and the OCI runtime say
IMAGE=localhost/novacron-busybox:latest
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo

answers() { curl -sf --unix-socket "$SOCK" http://d/v4.0.0/libpod/_ping >/dev/null 2>&1; }

stop() {
    pkill -f "podman system service --time=0 unix://$SOCK" 2>/dev/null || true
    for _ in $(seq 1 50); do answers || break; sleep 0.1; done
}

serve() {
    answers && return 0
    $SUDO mkdir -p "$(dirname "$SOCK")" /run/podman
    printf '[containers]\ndefault_ulimits = ["nofile=%s:%s", "nproc=4096:4096"]\n' \
        "$(ulimit -Hn)" "$(ulimit -Hn)" | $SUDO tee "$CONF" >/dev/null
    rm -f "$SOCK"
    if mountpoint -q /sys/fs/cgroup/unified 2>/dev/null &&
        [ "$(stat -f -c %T /sys/fs/cgroup)" = tmpfs ]; then
        $SUDO env CONTAINERS_CONF="$CONF" setsid unshare -m --propagation slave sh -c \
            "umount /sys/fs/cgroup/unified && exec podman system service --time=0 unix://$SOCK" \
            >>"$LOG" 2>&1 </dev/null &
    else
        $SUDO env CONTAINERS_CONF="$CONF" setsid podman system service --time=0 "unix://$SOCK" \
            >>"$LOG" 2>&1 </dev/null &
    fi
    for _ in $(seq 1 100); do answers && break; sleep 0.1; done
    answers || { echo "podman.sh: the Podman service did not answer on $SOCK" >&2; exit 1; }
}

image() {
    $SUDO podman image exists "$IMAGE" 2>/dev/null && return 0
    root=$(mktemp -d)
    trap 'rm -rf "$root"' EXIT
    mkdir -p "$root/bin" "$root/tmp" "$root/etc"
    chmod 1777 "$root/tmp"
    cp /usr/bin/busybox "$root/bin/busybox"
    for a in $("$root/bin/busybox" --list); do
        [ -e "$root/bin/$a" ] || ln -s busybox "$root/bin/$a"
    done
    echo 'root:x:0:0:root:/:/bin/sh' >"$root/etc/passwd"
    echo 'nobody:x:65534:65534:nobody:/:/bin/sh' >>"$root/etc/passwd"
    tar -C "$root" -c . | $SUDO podman import --change 'CMD ["/bin/sh"]' - "$IMAGE" >/dev/null
}

# A service can answer and still fail every start (the OCI runtime's
# "exit status 1"): a container that runs `true` says it works.
runs() { $SUDO podman --url "unix://$SOCK" run --rm --network none "$IMAGE" true >/dev/null 2>&1; }

start() {
    command -v podman >/dev/null || "$(dirname "$0")/deps.sh"
    serve
    image
    runs && return 0
    echo "podman.sh: the Podman service answers but cannot run a container (see $LOG); restarting it" >&2
    stop
    serve
    runs || { echo "podman.sh: the Podman service cannot run a container: see $LOG" >&2; exit 1; }
}

case "${1:-start}" in
start) start ;;
stop) stop ;;
*) echo "usage: $0 [start|stop]" >&2; exit 2 ;;
esac
