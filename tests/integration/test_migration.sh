# Live migration between two real libvirt hosts on this machine
# (hack/hosts.sh: a libvirtd each in its own network, mount and UTS
# namespaces, joined by a veth pair), each with its own novacrond --netns,
# one etcd. A real TCG guest whose console counts every 100 ms moves
# while it runs: it never restarts (the count and its uptime go on), the
# domain is on the target and gone from the source, the placement and
# the VM's status follow in one step, its address answers from the other
# host afterwards, and the status says how long the guest was paused. A
# migration to a node without room Fails naming the reason; one whose
# spec is deleted while it runs is Cancelled and the guest runs on where
# it was; kill -9 of the source's or the target's novacrond mid-move
# leaves exactly one running copy and a status that says how it ended;
# novactl drain moves the guest live and lists what stays. A node-local
# disk moves live with its guest, and back cold, the source killed in the
# middle. A VM with a cloud-init seed moves live onto the same seed, made
# by the target.
. "$(dirname "$0")/lib.sh"
: "${NOVACTL:=$(cd "$(dirname "$0")/../.." && pwd)/build/novactl}"
nctl() { "$NOVACTL" --etcd "$ETCD" --prefix "$PREFIX" "$@"; }
RUN=/run/nc-test-$$
HOSTS=/run/nc-hosts-$$
export NC_HOSTS_NETNS="nc$$-" NC_HOSTS_SUBNET=10.252.0
A=${NC_HOSTS_NETNS}host-a
B=${NC_HOSTS_NETNS}host-b
on_cleanup 'for f in "$TMP"/host-*.pid; do kill -9 $(cat "$f"); done 2>/dev/null; pkill -f -- "--pid-file='"$RUN"'/" 2>/dev/null; '"$HACK"'/hosts.sh stop '"$HOSTS"'; rm -rf '"$RUN"
use_qemu
"$HACK/hosts.sh" start "$HOSTS" >/dev/null
URI_A="qemu+unix:///system?socket=$HOSTS/host-a/run/libvirt/libvirt-sock"
URI_B="qemu+unix:///system?socket=$HOSTS/host-b/run/libvirt/libvirt-sock"

PA=$(free_port)
PB=$(free_port)
# host-b has room for nothing at first: 100 MiB allocatable.
host_mem=$(virsh -c "$URI_B" -q nodeinfo | awk '/Memory size/ { print $3 }')
start_host host-a "$A" "$PA" --libvirt "$URI_A" --force-tcg
start_host host-b "$B" "$PB" --libvirt "$URI_B" --force-tcg --reserve-memory "$((host_mem - 102400))KiB"
ec get "${PREFIX}nodes/host-b" --print-value-only | jq -e '.peerLibvirt == "qemu+tcp://10.252.0.2/system"' >/dev/null ||
    fail "host-b's registration has no peer libvirt URI: $(ec get "${PREFIX}nodes/host-b" --print-value-only)"

ec put "${PREFIX}spec/default/network/net-m" \
    '{"apiVersion":"novacron.io/v1","kind":"Network","metadata":{"name":"net-m"},"spec":{"cidr":"10.215.0.0/24"}}' >/dev/null
# A stopped guest pinned to each host keeps net-m on both, so that each
# host reaches the mover over the overlay wherever it runs.
for h in a b; do
    put_vm default "anchor-$h" "$(guest_spec Stopped 30 "" 64MiB | jq -c --arg n "host-$h" '. + {node: $n, interfaces: [{name: "eth0", network: "net-m"}]}')"
done
put_vm default mover "$(guest_spec Running 30 novacron.counter 256MiB | jq -c '. + {interfaces: [{name: "eth0", network: "net-m"}]}')"
wait_for 60 "mover running" converged default vm mover Running
[ "$(ec get "${PREFIX}placement/default/mover" --print-value-only)" = host-a ] || fail "mover not placed on host-a"
# Each host's serial logs are its own (hack/hosts.sh).
log=$(status_of default vm mover | jq -r .consoleLog)
log_a=$HOSTS/host-a$log
log_b=$HOSTS/host-b$log
wait_for 30 "the guest's address" grep -aq NOVACRON-GUEST-IP "$log_a"
gip=$(status_of default vm mover | jq -r '.interfaces[0].ip')
dom=$(domain_of default mover)
wait_for 30 "a ping to the guest on host-a from host-b" ip netns exec "$B" ping -c 1 -W 1 -q "$gip"
ok "a guest counting on host-a at $gip"

mig_doc() { # NAME SPEC
    printf '{"apiVersion":"novacron.io/v1","kind":"Migration","metadata":{"name":"%s"},"spec":%s}' "$1" "$2"
}
domstate_on() { # URI DOMAIN
    virsh -c "$1" -q domstate "$2" 2>/dev/null | head -n 1
}
phase_is() { # NAME PHASE
    [ "$(status_of default migration "$1" | jq -r .phase)" = "$2" ]
}

# No room on the target: Failed, and why.
ec put "${PREFIX}spec/default/migration/no-room" "$(mig_doc no-room '{"vm":"mover","targetNode":"host-b"}')" >/dev/null
wait_for 20 "no-room Failed" phase_is no-room Failed
status_of default migration no-room | jq -e '.conditions[] | select(.type == "Ready") | .message | test("insufficient memory")' >/dev/null ||
    fail "no-room's reason: $(status_of default migration no-room)"
[ "$(domstate_on "$URI_A" "$dom")" = running ] || fail "the guest stopped after a failed migration"
ok "a migration to a node without room: $(status_of default migration no-room | jq -r '.conditions[] | select(.type == "Ready") | .message')"
ec del "${PREFIX}spec/default/migration/no-room" >/dev/null
wait_for 20 "no-room's status gone" sh -c "[ -z \"\$(etcdctl --endpoints $ETCD get ${PREFIX}status/default/migration/no-room --print-value-only)\" ]"

# Room on host-b now; the scheduler picks it (never the source).
stop_host host-b
start_host host-b "$B" "$PB" --libvirt "$URI_B" --force-tcg
tick() { grep -a NOVACRON-GUEST-TICK "$1" 2>/dev/null | tail -n 1 | awk '{ print $2 " " $3 }'; }
before=$(tick "$log_a")
[ -n "$before" ] || fail "no count on host-a's console"
nctl migrate vm mover --wait --timeout 60s >"$TMP/migrate.out" || fail "novactl migrate: $(cat "$TMP/migrate.out")"
m1=$(sed -n 's|^migration/\([^ ]*\) created$|\1|p' "$TMP/migrate.out")
grep -q "^migration/$m1 Succeeded: VM mover runs on node host-b$" "$TMP/migrate.out" || fail "novactl migrate said: $(cat "$TMP/migrate.out")"
nctl get migration "$m1" -o wide | grep -q "^$m1 *Succeeded *True .* mover *host-a *host-b *100% *[0-9]*ms$" ||
    fail "get migration: $(nctl get migration "$m1" -o wide)"
st=$(status_of default migration "$m1")
echo "$st" | jq -e '.sourceNode == "host-a" and .targetNode == "host-b" and (.downtimeMs | type == "number") and .startTime and .endTime and .progress.dataProcessed > 0' >/dev/null ||
    fail "$m1's status: $st"
[ "$(ec get "${PREFIX}placement/default/mover" --print-value-only)" = host-b ] || fail "the placement did not move"
virsh -c "$URI_B" -q list --name | grep -qx "$dom" || fail "$dom is not running on host-b"
# The source lets its copy go once libvirt confirmed the move.
wait_for 10 "$dom gone from host-a" sh -c "! virsh -c '$URI_A' -q list --all --name | grep -qx '$dom'"
wait_for 30 "mover Ready on host-b" sh -c "etcdctl --endpoints $ETCD get ${PREFIX}status/default/vm/mover --print-value-only | jq -e '.node == \"host-b\" and .phase == \"Running\"'"
on_cleanup '[ "$rc" -eq 0 ] || { echo "--- the mover on host-b: $(virsh -c "$URI_B" -q domstate --reason "$dom" 2>&1), its console:"; tail -n 5 "$log_b"; } >&2'
wait_for 60 "the count on host-b's console" sh -c "grep -aq NOVACRON-GUEST-TICK '$log_b'"
after=$(tick "$log_b")
[ "${after%% *}" -gt "${before%% *}" ] || fail "the counter went back: $before, then $after"
awk -v a="${after#* }" -v b="${before#* }" 'BEGIN { exit !(a > b) }' || fail "the uptime went back: $before, then $after"
wait_for 30 "a ping to the guest on host-b from host-a" ip netns exec "$A" ping -c 1 -W 1 -q "$gip"
ok "live migration to host-b in $(echo "$st" | jq -r '[.startTime, .endTime] | join(" to ")'), downtime $(echo "$st" | jq -r .downtimeMs) ms; counter $before -> $after"

# Cancelled by deleting the spec while it runs: the guest stays on host-b.
ec put "${PREFIX}spec/default/migration/m2" "$(mig_doc m2 '{"vm":"mover","bandwidthMiBps":1}')" >/dev/null
wait_for 60 "m2 Running" phase_is m2 Running
wait_for 10 "the VM's Migrating condition" sh -c "etcdctl --endpoints $ETCD get ${PREFIX}status/default/vm/mover --print-value-only | jq -e '.conditions[] | select(.type == \"Migrating\" and .status == \"True\")'"
ec del "${PREFIX}spec/default/migration/m2" >/dev/null
wait_for 30 "m2's status gone" sh -c "[ -z \"\$(etcdctl --endpoints $ETCD get ${PREFIX}status/default/migration/m2 --print-value-only)\" ]"
ec get "${PREFIX}events/default/migration/m2/" --prefix --print-value-only | jq -s -e 'any(.[]; .reason == "Cancelled")' >/dev/null ||
    fail "no Cancelled event for m2"
[ "$(domstate_on "$URI_B" "$dom")" = running ] || fail "the guest is not running on host-b after the cancel"
virsh -c "$URI_A" -q list --all --name | grep -qx "$dom" && fail "$dom is on host-a after a cancelled migration"
[ "$(ec get "${PREFIX}placement/default/mover" --print-value-only)" = host-b ] || fail "the placement moved on a cancel"
ok "a cancelled migration: the guest runs on host-b"

kill9_host() {
    pid=$(cat "$TMP/$1.pid")
    kill -9 "$pid"
    wait "$pid" 2>/dev/null || true
    rm -f "$TMP/$1.pid"
}
copies() { # the running copies of the guest, "host-a host-b" at most
    for h in a b; do
        u=$URI_A
        [ $h = b ] && u=$URI_B
        [ "$(domstate_on "$u" "$dom")" = running ] && printf 'host-%s ' $h
    done
    echo
}
# kill -9 of the source's novacrond while the guest moves: libvirt goes
# on, the target reports the end, and the source, back, lets its copy go.
ec put "${PREFIX}spec/default/migration/m3" "$(mig_doc m3 '{"vm":"mover","bandwidthMiBps":20}')" >/dev/null
wait_for 60 "m3 Running" phase_is m3 Running
kill9_host host-b
wait_for 60 "m3 Succeeded without its source" phase_is m3 Succeeded
[ "$(copies)" = "host-a " ] || fail "running copies after m3: $(copies)"
start_host host-b "$B" "$PB" --libvirt "$URI_B" --force-tcg
wait_for 30 "host-b without a copy" sh -c "! virsh -c '$URI_B' -q list --all --name | grep -qx '$dom'"
[ "$(ec get "${PREFIX}placement/default/mover" --print-value-only)" = host-a ] || fail "the placement did not follow m3"
ok "kill -9 of the source mid-migration: one copy, on host-a"

# kill -9 of the target's: the job ends in libvirt; the target, back,
# says it Succeeded.
ec put "${PREFIX}spec/default/migration/m4" "$(mig_doc m4 '{"vm":"mover","bandwidthMiBps":20}')" >/dev/null
wait_for 60 "m4 Running" phase_is m4 Running
kill9_host host-b
wait_for 60 "the guest on host-b" sh -c "[ \"\$(virsh -c '$URI_B' -q domstate '$dom' 2>/dev/null | head -n 1)\" = running ]"
phase_is m4 Running || fail "m4 ended without its target: $(status_of default migration m4)"
start_host host-b "$B" "$PB" --libvirt "$URI_B" --force-tcg
wait_for 30 "m4 Succeeded once the target is back" phase_is m4 Succeeded
wait_for 30 "host-a without a copy" sh -c "! virsh -c '$URI_A' -q list --all --name | grep -qx '$dom'"
[ "$(copies)" = "host-b " ] || fail "running copies after m4: $(copies)"
[ "$(ec get "${PREFIX}placement/default/mover" --print-value-only)" = host-b ] || fail "the placement did not follow m4"
ok "kill -9 of the target mid-migration: one copy, on host-b, Succeeded when it came back"

# Draining host-b moves the running guest live and says what stays.
rc=0
nctl drain host-b --wait --timeout 90s >"$TMP/drain.out" 2>&1 || rc=$?
[ "$rc" -eq 1 ] || fail "drain: exit $rc: $(cat "$TMP/drain.out")"
grep -q '^vm/anchor-b stays: pinned by its spec.node$' "$TMP/drain.out" || fail "drain said: $(cat "$TMP/drain.out")"
grep -q 'mover' "$TMP/drain.out" && fail "drain said the mover stays: $(cat "$TMP/drain.out")"
phase_is drain-mover Succeeded || fail "drain-mover: $(status_of default migration drain-mover)"
ec get "${PREFIX}spec/default/migration/drain-mover" --print-value-only |
    jq -e '.metadata.labels["novacron.io/drained-node"] == "host-b"' >/dev/null || fail "drain-mover carries no drained-node label"
[ "$(copies)" = "host-a " ] || fail "running copies after the drain: $(copies)"
nctl uncordon host-b >/dev/null
ok "drain: the guest moved live to host-a; $(grep -c "^vm/.* stays" "$TMP/drain.out") VM stays (pinned)"

# A VM with a disk on node-local storage: the target makes an empty copy
# of the Volume, libvirt copies the disk while the guest runs, and the
# Volume lives on the target after. The guest wrote a marker at boot and
# reads it back from the disk (caches dropped) every second.
ec put "${PREFIX}spec/default/volume/data" \
    '{"apiVersion":"novacron.io/v1","kind":"Volume","metadata":{"name":"data"},"spec":{"size":"64MiB"}}' >/dev/null
put_vm default disky "$(guest_spec Running 5 "novacron.write=MARKER42 novacron.vda novacron.ignore_acpi" 128MiB | jq -c '. + {disks: [{name: "data", volume: "data"}]}')"
wait_for 60 "disky running" converged default vm disky Running
src=$(ec get "${PREFIX}placement/default/disky" --print-value-only)
dst=host-a
[ "$src" = host-a ] && dst=host-b
ddom=$(domain_of default disky)
dlog_src=$HOSTS/$src$(status_of default vm disky | jq -r .consoleLog)
dlog_dst=$HOSTS/$dst$(status_of default vm disky | jq -r .consoleLog)
wait_for 30 "the marker read back on $src" grep -aq "NOVACRON-GUEST-VDA MARKER42" "$dlog_src"
src_path=$(status_of default volume data | jq -r .path)
nctl migrate vm disky --wait --timeout 120s >"$TMP/migrate2.out" || fail "migrating disky: $(cat "$TMP/migrate2.out")"
m5=$(sed -n 's|^migration/\([^ ]*\) created$|\1|p' "$TMP/migrate2.out")
status_of default migration "$m5" | jq -e --arg p "$src_path" '.targetVolumes[0].volume == "data" and .targetVolumes[0].from == $p' >/dev/null ||
    fail "$m5 copied no Volume: $(status_of default migration "$m5")"
wait_for 20 "the marker read back from the disk on $dst" grep -aq "NOVACRON-GUEST-VDA MARKER42" "$dlog_dst"
vst=$(status_of default volume data)
echo "$vst" | jq -e --arg n "$dst" --arg p "$src_path" '.node == $n and .path != $p and .phase == "Ready"' >/dev/null ||
    fail "the Volume after the move: $vst"
[ -f "$(echo "$vst" | jq -r .path)" ] || fail "no volume file on $dst"
wait_for 20 "the source's copy gone" sh -c "[ ! -e '$src_path' ]"
virsh -c "$( [ "$dst" = host-a ] && echo "$URI_A" || echo "$URI_B")" -q list --name | grep -qx "$ddom" || fail "disky is not running on $dst"
wait_for 30 "disky Ready on $dst" sh -c "etcdctl --endpoints $ETCD get ${PREFIX}status/default/vm/disky --print-value-only | jq -e '.node == \"$dst\" and .phase == \"Running\"'"
ok "a node-local disk moved live from $src to $dst with its data; the source's copy deleted"

# Cold, back: stopped (the guest ignores the power button: forced off
# after its 5 s of grace), the disk sent through libvirt's storage
# streams, started on $src, where it finds its marker on the disk (it
# writes one only on a blank disk, and says so). The source's novacrond
# is killed while the guest stops: back, it starts the move over.
rm -f "$dlog_src"
dst_path=$(status_of default volume data | jq -r .path)
ec put "${PREFIX}spec/default/migration/cold-back" "$(mig_doc cold-back '{"vm":"disky","mode":"cold"}')" >/dev/null
wait_for 60 "cold-back Running" phase_is cold-back Running
sleep 1
kill9_host "$dst"
if [ "$dst" = host-a ]; then start_host host-a "$A" "$PA" --libvirt "$URI_A" --force-tcg; else start_host host-b "$B" "$PB" --libvirt "$URI_B" --force-tcg; fi
wait_for 120 "cold-back Succeeded" phase_is cold-back Succeeded
grep -aq "cold-back: the cold move of VM disky to node $src starts over" "$TMP/$dst.log" ||
    fail "$dst did not start the cold move over after its restart"
ec get "${PREFIX}events/default/migration/cold-back/" --prefix --print-value-only | jq -s -e 'any(.[]; .reason == "ForcedStop")' >/dev/null ||
    fail "no ForcedStop event for cold-back"
st=$(status_of default migration cold-back)
echo "$st" | jq -e --arg n "$src" '.mode == "cold" and .targetNode == $n and (.downtimeMs | type == "number") and .progress.dataProcessed > 0 and .progress.dataRemaining == 0 and .progress.dataTotal == .progress.dataProcessed' >/dev/null ||
    fail "cold-back's status: $st"
wait_for 60 "disky booted on $src with its marker" grep -aq "NOVACRON-GUEST-VDA MARKER42" "$dlog_src"
grep -aq NOVACRON-GUEST-WROTE "$dlog_src" && fail "the disk came over blank: the guest wrote its marker again"
status_of default volume data | jq -e --arg n "$src" '.node == $n' >/dev/null || fail "the Volume after the cold move: $(status_of default volume data)"
wait_for 20 "$dst's copy gone" sh -c "[ ! -e '$dst_path' ]"
wait_for 30 "disky Ready on $src" sh -c "etcdctl --endpoints $ETCD get ${PREFIX}status/default/vm/disky --print-value-only | jq -e '.node == \"$src\" and .phase == \"Running\"'"
ok "cold migration back to $src, its source killed mid-move: $(echo "$st" | jq -r '.progress.dataProcessed') bytes sent, $(echo "$st" | jq -r .downtimeMs) ms from the stop to the end of the move"

# A VM with a cloud-init seed moves live: the target makes the same seed
# (the same files, so the same name) in its own folder, the guest's
# CD-ROM there is that file, and the target's reconciler finds nothing to
# change (no restart); the source's seed goes with its domain.
uri_of() { if [ "$1" = host-a ]; then echo "$URI_A"; else echo "$URI_B"; fi; }
cdrom_of() { virsh -c "$(uri_of "$1")" -q domblklist "$2" --details | awk '$2 == "cdrom" { print $4 }'; }
put_vm default seeded "$(guest_spec Running 30 "" | jq -c '. + {cloudInit: {userData: "#cloud-config\n"}, interfaces: [{name: "eth0", network: "net-m"}]}')"
wait_for 60 "seeded Running" converged default vm seeded Running
on=$(status_of default vm seeded | jq -r .node)
other=$([ "$on" = host-a ] && echo host-b || echo host-a)
sdom=$(domain_of default seeded)
seed_on=$(cdrom_of "$on" "$sdom")
[ -f "$seed_on" ] || fail "seeded's seed on $on: '$seed_on'"
ec put "${PREFIX}spec/default/migration/seeded" "$(mig_doc seeded "{\"vm\":\"seeded\",\"targetNode\":\"$other\",\"mode\":\"live\"}")" >/dev/null
wait_for 60 "seeded's migration Succeeded" phase_is seeded Succeeded
seed_other=$(cdrom_of "$other" "$sdom")
[ "$seed_other" = "$RUN/$other/seeds/$sdom/$(basename "$seed_on")" ] && [ -f "$seed_other" ] ||
    fail "seeded's CD-ROM on $other: '$seed_other' (it was '$seed_on' on $on)"
sid=$(virsh -c "$(uri_of "$other")" domid "$sdom")
wait_for 20 "the seed on $on gone" sh -c "[ ! -e '$seed_on' ]"
wait_for 30 "seeded Running on $other" sh -c "etcdctl --endpoints $ETCD get ${PREFIX}status/default/vm/seeded --print-value-only | jq -e '.node == \"$other\" and .phase == \"Running\"'"
wait_for 30 "seeded converged on $other" converged default vm seeded Running
sleep 2
[ "$(virsh -c "$(uri_of "$other")" domid "$sdom")" = "$sid" ] || fail "seeded was restarted on $other"
ok "a VM with a cloud-init seed moved live from $on to $other onto the same seed made there ($(basename "$seed_other")), not restarted; the seed on $on removed"

# And back cold: stopped (it powers off at the button), started on $on
# from a seed $on made again; the one on $other goes with its domain.
ec put "${PREFIX}spec/default/migration/seeded-back" "$(mig_doc seeded-back "{\"vm\":\"seeded\",\"targetNode\":\"$on\",\"mode\":\"cold\"}")" >/dev/null
wait_for 90 "seeded-back Succeeded" phase_is seeded-back Succeeded
wait_for 30 "seeded Running on $on" sh -c "etcdctl --endpoints $ETCD get ${PREFIX}status/default/vm/seeded --print-value-only | jq -e '.node == \"$on\" and .phase == \"Running\"'"
seed_back=$(cdrom_of "$on" "$sdom")
[ "$seed_back" = "$seed_on" ] && [ -f "$seed_back" ] || fail "seeded's CD-ROM back on $on: '$seed_back' (it was '$seed_on')"
wait_for 20 "the seed on $other gone" sh -c "[ ! -e '$seed_other' ]"
virsh -c "$(uri_of "$other")" -q list --all --name | grep -qx "$sdom" && fail "seeded is still defined on $other"
ok "and back to $on cold, onto a seed made there again"

# Deleting the VM tears it down where it now runs.
ec del "${PREFIX}spec/default/vm/mover" >/dev/null
wait_for 60 "mover gone" sh -c "! virsh -c '$URI_A' -q list --all --name | grep -qx '$dom'"
ok "deleted on host-a"
