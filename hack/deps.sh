#!/bin/sh
# Install every build, test and run dependency of NovaCron from Debian
# packages. Idempotent: when everything is present it only checks, so
# `make demo` and `make check` call it on every run.
set -eu

PKGS="
build-essential pkg-config cppcheck help2man man-db
libevent-dev libcurl4-openssl-dev libcjson-dev libvirt-dev libsystemd-dev
libxml2-dev uthash-dev libcriterion-dev libnl-route-3-dev libisofs-dev libnftables-dev nftables dnsmasq-base
etcd-server etcd-client
libvirt-daemon libvirt-daemon-system libvirt-clients libvirt-daemon-driver-lxc busybox-static podman
qemu-system-x86 qemu-utils
curl jq python3 python3-jsonschema iproute2 iputils-ping procps openssl cpio
syslinux mtools dosfstools clang
prometheus
"

missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        missing="$missing $p"
done
[ -z "$missing" ] && exit 0

SUDO=
[ "$(id -u)" -ne 0 ] && SUDO=sudo

echo "deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# Package scripts must not start etcd or libvirtd: there may be no init
# system, and the tests and the demo start their own daemons. A policy-rc.d
# that was already there is left as it was.
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod +x /usr/sbin/policy-rc.d
    trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
