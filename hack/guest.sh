#!/bin/sh
# Builds the tiny test guest from Debian packages only: Debian's cloud
# kernel, and an initramfs of busybox whose /init loads the virtio drivers,
# prints a fixed marker on the serial console, answers the ACPI power
# button by powering off (unless "novacron.ignore_acpi" is on the kernel
# command line), configures eth0 by DHCP when there is one, reports its
# disks and their sizes, and stays up. Also disk.img, a raw disk image that
# boots the same kernel and initramfs through SYSLINUX on a FAT file
# system (made with mtools: no loop device, no mount), for VMs that boot
# from a Volume. Cached: rebuilt only when missing. Prints the directory
# holding vmlinuz, initrd.img and disk.img.
#
# The markers on the console:
#   NOVACRON-GUEST-UP                userspace reached
#   NOVACRON-GUEST-IP <address>      DHCP gave eth0 an address
#   NOVACRON-GUEST-POWEROFF          the power button was pressed
#   NOVACRON-GUEST-DISK <dev> <bytes>  a virtio disk and its size, printed
#                                    at start and again when it changes
#   NOVACRON-GUEST-NICS <eth=mac>...   the network interfaces, printed at
#                                    start and again when they change
#   NOVACRON-GUEST-TICK <n> <uptime>   every 100 ms, counting from 0, when
#                                    "novacron.counter" is on the kernel
#                                    command line (a guest that must not
#                                    restart, as across a live migration)
#   NOVACRON-GUEST-VDA <text>          every second, the first 16 bytes of
#                                    /dev/vda as read from the disk (caches
#                                    dropped), when "novacron.vda" is on the
#                                    command line; "novacron.write=WORD"
#                                    writes WORD there at boot when they
#                                    are all zero, and says so:
#   NOVACRON-GUEST-WROTE <word>
#   novacron-guest#                    the prompt of a shell on the console
#   NOVACRON-GUEST-WRITING             "novacron.diskload" is on the command
#                                    line: from now on, 64 KiB written to
#                                    /dev/vda at 1 MiB, synced, every 200 ms
#                                    (disk traffic for the metrics tests)
#   NOVACRON-GUEST-SEED <file> <line>  a CD-ROM (a cloud-init NoCloud seed)
#                                    appeared within 5 s of boot: each line of
#                                    its meta-data, user-data and
#                                    network-config (at most 40 of each);
#                                    the hostname is set from local-hostname:
#   NOVACRON-GUEST-HOSTNAME <name>
#   NOVACRON-GUEST-USER-DATA         user-data starts with "#!": it runs
#                                    once DHCP is done, its output on the
#                                    console
set -eu

CACHE=${NOVACRON_GUEST_DIR:-/var/cache/novacron/guest}
# Bump when the recipe below changes, so cached images are rebuilt.
RECIPE=14
[ -s "$CACHE/vmlinuz" ] && [ -s "$CACHE/initrd.img" ] && [ -s "$CACHE/disk.img" ] &&
    [ "$(cat "$CACHE/recipe" 2>/dev/null)" = "$RECIPE" ] && { echo "$CACHE"; exit 0; }

SUDO=
[ "$(id -u)" -ne 0 ] && SUDO=sudo
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

kpkg=$(apt-cache depends linux-image-cloud-amd64 | awk '/Depends: linux-image-/ { print $2; exit }')
[ -n "$kpkg" ] || { echo "guest: no cloud kernel package found" >&2; exit 1; }
# apt-get download writes as _apt when it can: give it a folder it may use.
chmod 777 "$work"
apt-get download -q "$kpkg" busybox-static >/dev/null 2>&1 ||
    { $SUDO apt-get update -qq && apt-get download -q "$kpkg" busybox-static >/dev/null; }
dpkg-deb -x "$kpkg"_*.deb kernel
dpkg-deb -x busybox-static_*.deb busybox

root=initramfs
mkdir -p "$root/bin" "$root/proc" "$root/sys" "$root/dev" "$root/lib/modules" "$root/etc" "$root/tmp"
cp busybox/bin/busybox "$root/bin/busybox"
# Order matters: each module needs the ones before it.
modules="virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci failover
net_failover virtio_net virtio_blk virtio_balloon button evdev
scsi_common scsi_mod virtio_scsi cdrom sr_mod isofs"
for m in $modules; do
    f=$(find kernel/lib/modules -name "$m.ko" | head -n 1)
    [ -n "$f" ] || { echo "guest: module $m not found in $kpkg" >&2; exit 1; }
    cp "$f" "$root/lib/modules/"
done

cat >"$root/etc/udhcpc.script" <<'SCRIPT'
#!/bin/sh
case "$1" in
bound|renew)
    ip addr flush dev "$interface"
    ip addr add "$ip/${mask:-24}" dev "$interface"
    [ -n "${router:-}" ] && ip route add default via "${router%% *}" dev "$interface"
    echo "NOVACRON-GUEST-IP $ip" >/dev/console
    ;;
esac
SCRIPT

cat >"$root/init" <<SCRIPT
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in $(echo $modules); do insmod /lib/modules/\$m.ko 2>/dev/null; done
(
    old= old_nics=
    while :; do
        now=
        for b in /sys/block/vd*; do [ -e "\$b" ] && now="\$now \${b##*/}=\$(cat \$b/size)"; done
        if [ "\$now" != "\$old" ]; then
            for e in \$now; do echo "NOVACRON-GUEST-DISK \${e%%=*} \$((\${e#*=} * 512))"; done
            old=\$now
        fi
        nics=
        for n in /sys/class/net/eth*; do [ -e "\$n" ] && nics="\$nics \${n##*/}=\$(cat \$n/address)"; done
        if [ "\$nics" != "\$old_nics" ]; then
            echo "NOVACRON-GUEST-NICS\${nics:- none}"
            old_nics=\$nics
        fi
        sleep 1
    done
) &
if ! grep -q novacron.ignore_acpi /proc/cmdline; then
    for d in /sys/class/input/event*; do
        [ "\$(cat \$d/device/name 2>/dev/null)" = "Power Button" ] || continue
        ( head -c 1 /dev/input/\${d##*/} >/dev/null; echo "NOVACRON-GUEST-POWEROFF"; poweroff -f ) &
    done
fi
(
    for i in \$(seq 1 50); do [ -b /dev/sr0 ] && break; sleep 0.1; done
    if [ -b /dev/sr0 ] && mkdir -p /cidata && mount -t iso9660 -o ro /dev/sr0 /cidata; then
        for f in meta-data user-data network-config; do
            [ -f /cidata/\$f ] && head -n 40 /cidata/\$f | while IFS= read -r l || [ -n "\$l" ]; do
                echo "NOVACRON-GUEST-SEED \$f \$l"
            done
        done
        h=\$(sed -n 's/^local-hostname: *//p' /cidata/meta-data)
        [ -n "\$h" ] && hostname "\$h" && echo "NOVACRON-GUEST-HOSTNAME \$(hostname)"
    fi
) &
if grep -q novacron.counter /proc/cmdline; then
    ( n=0; while :; do echo "NOVACRON-GUEST-TICK \$n \$(cut -d' ' -f1 /proc/uptime)"; n=\$((n + 1)); usleep 100000; done ) &
fi
for w in \$(cat /proc/cmdline); do
    case \$w in
    novacron.write=*)
        if [ -b /dev/vda ] && [ -z "\$(head -c 16 /dev/vda | tr -d '\\000')" ]; then
            printf '%-16s' "\${w#novacron.write=}" | dd of=/dev/vda conv=notrunc 2>/dev/null && sync &&
                echo "NOVACRON-GUEST-WROTE \${w#novacron.write=}"
        fi ;;
    esac
done
if grep -q novacron.diskload /proc/cmdline && [ -b /dev/vda ]; then
    ( echo "NOVACRON-GUEST-WRITING"
      while :; do dd if=/dev/zero of=/dev/vda bs=64k count=1 seek=16 conv=notrunc,fsync 2>/dev/null; usleep 200000; done ) &
fi
if grep -q novacron.vda /proc/cmdline; then
    ( while :; do
        sync; echo 3 >/proc/sys/vm/drop_caches
        [ -b /dev/vda ] && echo "NOVACRON-GUEST-VDA \$(head -c 16 /dev/vda | tr -c '[:alnum:]' .)"
        sleep 1
    done ) &
fi
# Printed once the power button is watched, so that a test which saw it
# can rely on ACPI shutdown.
echo "NOVACRON-GUEST-UP"
ip link set lo up
for i in \$(seq 1 50); do [ -e /sys/class/net/eth0 ] && break; sleep 0.1; done
if [ -e /sys/class/net/eth0 ]; then
    ip link set eth0 up
    udhcpc -i eth0 -s /etc/udhcpc.script -t 30 -T 1 -n -q >/dev/null 2>&1 || echo "NOVACRON-GUEST-NO-DHCP"
fi
# A user-data that is a script runs once the network is up, its output on
# the console, as cloud-init runs one.
(
    for i in \$(seq 1 50); do [ -f /cidata/user-data ] && break; sleep 0.1; done
    if [ "\$(head -c 2 /cidata/user-data 2>/dev/null)" = "#!" ]; then
        echo "NOVACRON-GUEST-USER-DATA"
        sh /cidata/user-data </dev/null >/dev/console 2>&1
    fi
) &
# A shell on the serial console, for novactl console (nothing reads it
# otherwise).
export PS1="novacron-guest# "
while :; do setsid cttyhack sh; sleep 1; done
SCRIPT
chmod +x "$root/init" "$root/etc/udhcpc.script"

$SUDO mkdir -p "$CACHE"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -9) >initrd.img
# The bootable disk: a FAT file system over the whole 64 MiB image, whose
# boot sector SYSLINUX writes, with the kernel and initramfs inside.
cp kernel/boot/vmlinuz-* vmlinuz
printf 'DEFAULT linux\nLABEL linux\n  KERNEL vmlinuz\n  INITRD initrd.img\n  APPEND console=ttyS0 quiet\n' >syslinux.cfg
mkfs.vfat -C disk.img 65536 >/dev/null
mcopy -i disk.img vmlinuz initrd.img syslinux.cfg ::
syslinux --install disk.img
$SUDO cp disk.img "$CACHE/disk.img.tmp"
$SUDO chmod 644 "$CACHE/disk.img.tmp"
$SUDO mv "$CACHE/disk.img.tmp" "$CACHE/disk.img"
$SUDO cp kernel/boot/vmlinuz-* "$CACHE/vmlinuz.tmp"
$SUDO cp initrd.img "$CACHE/initrd.img.tmp"
$SUDO chmod 644 "$CACHE/vmlinuz.tmp" "$CACHE/initrd.img.tmp"
$SUDO mv "$CACHE/initrd.img.tmp" "$CACHE/initrd.img"
$SUDO mv "$CACHE/vmlinuz.tmp" "$CACHE/vmlinuz"
echo "$RECIPE" | $SUDO tee "$CACHE/recipe" >/dev/null
echo "$CACHE"
