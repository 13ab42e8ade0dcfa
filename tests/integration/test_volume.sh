# Volumes. On libvirt's test driver (its pool "default-pool"), the logic:
# blank and cloned volumes, the dependencies between Volumes and VMs
# (Pending until Ready, then converging without waiting for a poll),
# attachedTo, a deletion that waits while a VM uses the volume, and bad
# input ending Failed with the field named. Then on a real libvirtd with a
# directory pool, the files, checked with virsh and qemu-img: blank qcow2
# and raw, a clone backed by an image, a copy of a volume, grow (live, seen
# by the running guest) and a refused shrink that keeps the data, a guest
# that boots from a volume, foreign volumes left alone, and kill -9 during
# creation leaving neither duplicate nor orphan.
. "$(dirname "$0")/lib.sh"

put() { # KIND NS NAME SPEC
    kind=$(case $1 in vm) echo VirtualMachine ;; volume) echo Volume ;; esac)
    ec put "${PREFIX}spec/$2/$1/$3" \
        "$(printf '{"apiVersion":"novacron.io/v1","kind":"%s","metadata":{"name":"%s","namespace":"%s"},"spec":%s}' \
            "$kind" "$3" "$2" "$4")" >/dev/null
}
ready_msg() { status_of "$1" "$2" "$3" | jq -r '.conditions[] | select(.type == "Ready") | .reason + ": " + .message'; }
phase_is() { [ "$(status_of "$1" "$2" "$3" | jq -r .phase)" = "$4" ]; }
failed_with() { # NS NAME TEXT
    phase_is "$1" volume "$2" Failed && ready_msg "$1" volume "$2" | grep -qF "$3"
}

# --- test driver --------------------------------------------------------
start_novacrond --workers 2 --image-dir "$TMP/images"
mkdir -p "$TMP/images"
echo data >"$TMP/images/base.img"

put volume default blank '{"size":"64MiB","pool":"default-pool"}'
put volume default flat '{"size":"32MiB","format":"raw","pool":"default-pool"}'
wait_for 10 "blank Ready" converged default volume blank Ready
wait_for 10 "flat Ready" converged default volume flat Ready
st=$(status_of default volume blank)
echo "$st" | jq -e '.capacity == 67108864 and .format == "qcow2" and (.path | length > 0) and .attachedTo == []' >/dev/null ||
    fail "blank's status: $st"
status_of default volume flat | jq -e '.format == "raw" and .capacity == 33554432' >/dev/null || fail "flat's status"
ok "blank qcow2 and raw volumes Ready with capacity, format, path: $(echo "$st" | jq -c '{path,capacity,format}')"

# A copy of a volume applied before its source, and a VM before its volume:
# both wait, then converge as soon as what they need is Ready. The poll
# behind them is 10 s, so converging within 5 s shows they were queued.
put volume default copy '{"size":"64MiB","pool":"default-pool","source":{"volume":"src"}}'
put vm default user '{"vcpus":1,"memory":"64MiB","disks":[{"name":"root","volume":"copy"},{"name":"data","volume":"blank","readOnly":true}]}'
wait_for 10 "copy Pending" phase_is default volume copy Pending
wait_for 10 "user Pending" phase_is default vm user Pending
ready_msg default volume copy | grep -q 'WaitingForVolume: waiting for volume "src" (spec.source.volume): it does not exist' ||
    fail "copy's condition: $(ready_msg default volume copy)"
ready_msg default vm user | grep -q 'WaitingForVolume: waiting for volume "copy" (spec.disks\[0\])' ||
    fail "user's condition: $(ready_msg default vm user)"
sleep 2 # past the first polls
put volume default src '{"size":"16MiB","pool":"default-pool"}'
wait_for 5 "copy Ready without a poll" converged default volume copy Ready
wait_for 5 "user Running without a poll" converged default vm user Running
status_of default vm user | jq -e '[.disks[].volume] == ["copy","blank"] and all(.disks[]; .path | length > 0)' >/dev/null ||
    fail "user's disks: $(status_of default vm user | jq -c .disks)"
wait_for 5 "attachedTo" sh -c "[ \"\$(ec() { etcdctl --endpoints $ETCD \"\$@\"; }; ec get ${PREFIX}status/default/volume/blank --print-value-only | jq -c .attachedTo)\" = '[\"user\"]' ]"
ok "a copy waiting for its source and a VM waiting for its volume converged once those were Ready; attachedTo names the VM"

# Deleting a volume in use waits, naming the VM, and completes by itself.
ec del "${PREFIX}spec/default/volume/blank" >/dev/null
wait_for 10 "blank waits" sh -c "status_of() { etcdctl --endpoints $ETCD get ${PREFIX}status/default/volume/blank --print-value-only; }; status_of | jq -e '.phase == \"Deleting\" and (.conditions[0].message | contains(\"in use by VM user\"))'"
ok "deleting a volume in use waits: $(ready_msg default volume blank)"
put vm default user '{"vcpus":1,"memory":"64MiB","disks":[{"name":"root","volume":"copy"}]}'
wait_for 10 "blank deleted once the VM let go" sh -c "[ -z \"\$(etcdctl --endpoints $ETCD get ${PREFIX}status/default/volume/blank --print-value-only)\" ]"
wait_for 10 "user converged" converged default vm user Running
ok "the deletion completed by itself when the VM dropped the disk"

# Bad input ends Failed, naming the field.
put volume default self '{"size":"16MiB","pool":"default-pool","source":{"volume":"self"}}'
put volume default ring-a '{"size":"16MiB","pool":"default-pool","source":{"volume":"ring-b"}}'
put volume default ring-b '{"size":"16MiB","pool":"default-pool","source":{"volume":"ring-a"}}'
put volume default nopool '{"size":"16MiB","pool":"no-such-pool"}'
put volume default tiny '{"size":"12KiB","pool":"default-pool","format":"vmdk"}'
put volume default outside '{"size":"16MiB","pool":"default-pool","source":{"image":"/etc/passwd"}}'
put volume default noimage '{"size":"16MiB","pool":"default-pool","source":{"image":"'"$TMP/images/x.img"'"}}'
put volume default nowhere '{"size":"16MiB","pool":"default-pool","source":{"image":"/nonexistent/x.img"}}'
put volume default rawimage '{"size":"16MiB","pool":"default-pool","format":"raw","source":{"image":"/x.img"}}'
wait_for 10 "self" failed_with default self 'spec.source.volume: a volume cannot be a copy of itself'
wait_for 15 "ring" failed_with default ring-a 'spec.source.volume: the sources form a cycle: ring-a -> ring-b -> ring-a'
wait_for 10 "nopool" failed_with default nopool 'spec.pool: storage pool "no-such-pool" does not exist on node node-a'
wait_for 10 "tiny" failed_with default tiny 'spec.size: must be from 1MiB to 64TiB'
failed_with default tiny 'spec.format: must be one of qcow2, raw' || fail "tiny: $(ready_msg default volume tiny)"
wait_for 10 "outside" failed_with default outside 'spec.source.image: must be inside the node'"'"'s image folder'
wait_for 10 "noimage" failed_with default noimage 'spec.source.image: does not exist on this node'
# Outside the folder, whether it exists or not, the answer is the same.
wait_for 10 "nowhere" failed_with default nowhere 'spec.source.image: must be inside'
[ "$(ready_msg default volume nowhere)" = "$(ready_msg default volume outside)" ] ||
    fail "a missing file outside --image-dir is told apart: $(ready_msg default volume nowhere)"
wait_for 10 "rawimage" failed_with default rawimage 'spec.format: must be qcow2 when spec.source.image is set'
ok "self copy, a cycle, a missing pool, bad size and format, images outside --image-dir (existing or not, the same message) or missing: Failed, field named"
stop_novacrond

# --- a real libvirtd with a directory pool -----------------------------
use_qemu
NS=vt$$
test_vols() { $VIRSH vol-list default | awk '{print $1}' | grep "\.$NS\." || true; }
remove_test_vols() {
    for v in $(test_vols) "$NS-boot" "nc-00000000.$NS.boot"; do $VIRSH vol-delete --pool default "$v" >/dev/null 2>&1 || true; done
}
on_cleanup remove_test_vols
mkdir -p "$TMP/images"
cp --sparse=always "$GUEST/disk.img" "$TMP/images/boot.img"
# QEMU runs as libvirt-qemu and reads the image through the overlay.
chmod 755 "$TMP" "$TMP/images"
chmod 644 "$TMP/images/boot.img"
start_novacrond --libvirt qemu:///system --force-tcg --workers 2 --image-dir "$TMP/images"

path_of() { status_of "$NS" volume "$1" | jq -r .path; }
qinfo() { qemu-img info -U --output json "$(path_of "$1")"; }

put volume "$NS" q '{"size":"1GiB"}'
put volume "$NS" r '{"size":"64MiB","format":"raw"}'
put volume "$NS" boot '{"size":"128MiB","source":{"image":"'"$TMP/images/boot.img"'"}}'
for v in q r boot; do wait_for 30 "$v Ready" converged "$NS" volume "$v" Ready; done
vname=$(status_of "$NS" volume q | jq -r .volume)
$VIRSH vol-info --pool default "$vname" --bytes | grep -q 'Capacity: *1073741824 bytes' || fail "vol-info q: $($VIRSH vol-info --pool default "$vname")"
[ "$(qinfo q | jq -r '.format + " " + (.["virtual-size"] | tostring)')" = "qcow2 1073741824" ] || fail "qemu-img q: $(qinfo q)"
[ "$(qinfo r | jq -r '.format + " " + (.["virtual-size"] | tostring)')" = "raw 67108864" ] || fail "qemu-img r: $(qinfo r)"
[ "$(qinfo boot | jq -r '.["backing-filename"] + " " + .["backing-filename-format"]')" = "$TMP/images/boot.img raw" ] ||
    fail "boot is not backed by the image: $(qinfo boot)"
ok "virsh vol-info and qemu-img agree: 1GiB qcow2, 64MiB raw, and a qcow2 backed by the raw image"

put volume "$NS" q2 '{"size":"2GiB","source":{"volume":"q"}}'
wait_for 30 "q2 Ready" converged "$NS" volume q2 Ready
[ "$(qinfo q2 | jq -r '.format + " " + (.["virtual-size"] | tostring)')" = "qcow2 2147483648" ] || fail "qemu-img q2: $(qinfo q2)"
ok "a copy of a volume, grown to its own size: $(qinfo q2 | jq -c '{format, "virtual-size"}')"

# Grow works; shrink is refused and the data stays.
printf 'NOVACRON-DATA' | dd of="$(path_of r)" conv=notrunc status=none
put volume "$NS" r '{"size":"96MiB","format":"raw"}'
wait_for 30 "r grown" converged "$NS" volume r Ready
[ "$(qinfo r | jq '.["virtual-size"]')" -eq 100663296 ] || fail "r not grown: $(qinfo r)"
put volume "$NS" r '{"size":"32MiB","format":"raw"}'
wait_for 30 "shrink refused" sh -c "etcdctl --endpoints $ETCD get ${PREFIX}status/$NS/volume/r --print-value-only | jq -e '.phase == \"Failed\" and (.conditions[0].message | startswith(\"spec.size: 32MiB is smaller than the volume'\"'\"'s 96MiB\"))'"
[ "$(qinfo r | jq '.["virtual-size"]')" -eq 100663296 ] || fail "r shrank: $(qinfo r)"
head -c 13 "$(path_of r)" | grep -q NOVACRON-DATA || fail "r lost its data"
ok "grow to 96MiB done; shrink to 32MiB refused ($(ready_msg "$NS" volume r | cut -c1-60)...), size and data kept"

# A guest boots from the volume (no boot block), and sees it grow live.
put vm "$NS" disky '{"vcpus":1,"memory":"128MiB","accel":"tcg","stopGracePeriodSeconds":2,"disks":[{"name":"root","volume":"boot"}]}'
wait_for 60 "disky Running" converged "$NS" vm disky Running
wait_for 60 "disky booted from its disk" console_has "$NS" disky NOVACRON-GUEST-UP
console_has "$NS" disky "NOVACRON-GUEST-DISK vda 134217728" || fail "the guest does not see a 128MiB vda"
put volume "$NS" boot '{"size":"192MiB","source":{"image":"'"$TMP/images/boot.img"'"}}'
wait_for 30 "guest sees 192MiB" console_has "$NS" disky "NOVACRON-GUEST-DISK vda 201326592"
has_event_kind() { ec get "${PREFIX}events/$NS/volume/$1/" --prefix --print-value-only | jq -s -e --arg r "$2" 'any(.[]; .reason == $r and (.message | contains("live")))' >/dev/null; }
has_event_kind boot Resized || fail "no live Resized event"
ok "a guest booted from a volume cloned from an image, and saw it grow from 128MiB to 192MiB live"

# A disk added to the running guest is hot-plugged, and removed again,
# without a restart.
domid() { $VIRSH domid "$(domain_of "$NS" disky)"; }
id=$(domid)
applied() { status_of "$NS" vm disky | jq -e --arg r "$1" '.conditions[] | select(.type == "ConfigApplied" and .reason == $r)' >/dev/null; }
put vm "$NS" disky '{"vcpus":1,"memory":"128MiB","accel":"tcg","stopGracePeriodSeconds":2,"disks":[{"name":"root","volume":"boot"},{"name":"data","volume":"q"}]}'
wait_for 30 "data attached" console_has "$NS" disky "NOVACRON-GUEST-DISK vdb 1073741824"
wait_for 30 "disky converged" converged "$NS" vm disky Running
applied HotPlugged || fail "ConfigApplied: $(status_of "$NS" vm disky | jq -c .conditions)"
[ "$(domid)" = "$id" ] || fail "the domain restarted for an added disk"
status_of "$NS" volume q | jq -e '.attachedTo == ["disky"]' >/dev/null || wait_for 10 "q attachedTo" sh -c "etcdctl --endpoints $ETCD get ${PREFIX}status/$NS/volume/q --print-value-only | jq -e '.attachedTo == [\"disky\"]'"
put vm "$NS" disky '{"vcpus":1,"memory":"128MiB","accel":"tcg","stopGracePeriodSeconds":2,"disks":[{"name":"root","volume":"boot"}]}'
wait_for 30 "data detached" sh -c "! $VIRSH domblklist $(domain_of "$NS" disky) | grep -q vdb"
wait_for 30 "disky converged" converged "$NS" vm disky Running
[ "$(domid)" = "$id" ] || fail "the domain restarted for a removed disk"
ok "a disk added to and removed from the running guest: hot-plugged both ways, the guest saw vdb, domain id $id throughout"

# Foreign volumes, even named alike, are never touched.
$VIRSH vol-create-as default "$NS-boot" 1M >/dev/null
$VIRSH vol-create-as default "nc-00000000.$NS.boot" 1M >/dev/null
ec del "${PREFIX}spec/$NS/vm/disky" >/dev/null
wait_for 30 "disky gone" sh -c "[ -z \"\$(etcdctl --endpoints $ETCD get ${PREFIX}status/$NS/vm/disky --print-value-only)\" ]"

# kill -9 while volumes are being created: no duplicate, no orphan.
: "${NOVACTL:=$(cd "$(dirname "$0")/../.." && pwd)/build/novactl}"
for i in $(seq 1 12); do
    printf '{"apiVersion":"novacron.io/v1","kind":"Volume","metadata":{"name":"k%s","namespace":"%s"},"spec":{"size":"256MiB","source":{"image":"%s"}}}\n' \
        "$i" "$NS" "$TMP/images/boot.img"
done >"$TMP/k.json"
"$NOVACTL" --etcd "$ETCD" --prefix "$PREFIX" apply -f "$TMP/k.json" >/dev/null
sleep 0.05
kill9_novacrond
at_kill=$(test_vols | grep -c '\.k[0-9]*$' || true)
start_novacrond --libvirt qemu:///system --force-tcg --workers 2 --image-dir "$TMP/images"
for i in $(seq 1 12); do wait_for 60 "k$i Ready" converged "$NS" volume "k$i" Ready; done
[ "$(test_vols | grep -c '\.k[0-9]*$')" -eq 12 ] || fail "after kill -9: $(test_vols | tr '\n' ' ')"
ok "kill -9 during the creation of 12 volumes ($at_kill existed at the kill): after restart exactly 12, each Ready"

# Deleting every spec removes our volumes and statuses, nothing else.
for k in $(ec get "${PREFIX}spec/$NS/" --prefix --keys-only); do ec del "$k" >/dev/null; done
wait_for 60 "statuses gone" sh -c "[ -z \"\$(etcdctl --endpoints $ETCD get ${PREFIX}status/$NS/ --prefix --keys-only)\" ]"
left=$(test_vols | grep -v "^nc-00000000\." || true)
[ -z "$left" ] || fail "volumes left: $left"
$VIRSH vol-info --pool default "$NS-boot" >/dev/null || fail "the foreign $NS-boot was touched"
$VIRSH vol-info --pool default "nc-00000000.$NS.boot" >/dev/null || fail "the foreign nc-00000000.$NS.boot was touched"
ok "every spec deleted: our volumes gone, the two foreign look-alikes untouched"
stop_novacrond
