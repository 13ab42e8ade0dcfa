# The container runtime (spec.runtime "container"): an OCI image run by
# Podman (hack/podman.sh starts its service and imports the test image,
# busybox), on a node in a network namespace of this test.
# On a Network: a container serving HTTP and a real TCG guest on the same
# Network reach each other (the guest pings the container and fetches its
# page); the container's end of its veth sits on the Network's bridge in
# the node's namespace, not in the root one. Its environment is passed;
# its vCPUs and memory are its cgroup limits.
# runState Paused and Stopped are held; a container killed behind the
# controller's back (podman kill) runs again, and one restarted (podman
# restart) gets its interface again; a Snapshot of it is Failed; a new
# spec for a running container replaces it at its restart; novactl logs
# prints its output; kill -9 of
# novacrond while a container is created leaves exactly one; a container
# with the name the controller would use but not created by it, and
# another unmarked one, are never touched; a missing image and a VM-only
# field are Failed naming the field; deleting a container removes it and
# its veth.
. "$(dirname "$0")/lib.sh"
NS=default
RUN=/run/nc-test-$$
A=nc-ctr-$$-a
O=nc-ctr-$$-o
FOREIGN=nc-foreign-$$
IMAGE=localhost/novacron-busybox:latest
# podman as a client of the service novacrond uses (which alone can start
# containers on a hybrid cgroup host: see hack/podman.sh).
podman() { command podman --url unix:///run/podman/podman.sock "$@"; }
ours() { podman ps -a --filter "label=novacron.io/prefix=$PREFIX" --format '{{.Names}}'; }
on_cleanup 'for f in "$TMP"/host-*.pid; do kill -9 $(cat "$f"); done 2>/dev/null; pkill -f -- "--pid-file='"$RUN"'/" 2>/dev/null; for c in $(ours) '"$FOREIGN"' ${VICTIM:-}; do podman rm -f -t 0 "$c" >/dev/null 2>&1; done; rm -rf '"$RUN"'; ip netns del '"$A"' 2>/dev/null; ip netns del '"$O"' 2>/dev/null'
use_qemu
"$HACK/podman.sh"
netns_pair "$A" "$O" 192.168.218

# A container of someone else's, never to be touched.
podman create --name "$FOREIGN" --label novacron.io/name=foreign "$IMAGE" sleep 1000 >/dev/null

PA=$(free_port)
start_host host-a "$A" "$PA" --libvirt qemu:///system --force-tcg --podman-socket /run/podman/podman.sock

container() { # NAME SPEC-FIELDS: a container on host-a
    put_vm default "$1" "$(jq -nc --arg i "$IMAGE" --argjson f "$2" '{runtime: "container", image: $i, node: "host-a", vcpus: 1, memory: "64MiB"} + $f')"
}
cstate() { podman inspect --format '{{.State.Status}}' "$1" 2>/dev/null; }
state_is() { [ "$(cstate "$1")" = "$2" ]; }

# A web server on a Network, and a guest beside it.
put_net app '{"cidr":"10.218.0.0/24","mode":"isolated"}'
# shellcheck disable=SC2016
container web '{"command": ["sh", "-c", "echo \"$GREETING\" >/tmp/index.html; exec httpd -f -p 8080 -h /tmp"],
    "env": [{"name": "GREETING", "value": "hello <from> web & co"}],
    "interfaces": [{"name": "eth0", "network": "app"}], "stopGracePeriodSeconds": 3}'
wait_for 60 "web Running" converged default vm web Running
st=$(status_of default vm web)
cip=$(echo "$st" | jq -r '.interfaces[0].ip')
dev=$(echo "$st" | jq -r '.interfaces[0].device')
br=$(status_of default network app | jq -r .bridge)
dom=$(echo "$st" | jq -r .domain.name)
[ "$(cstate "$dom")" = running ] || fail "web's container $dom is $(cstate "$dom")"
ip -n "$A" link show master "$br" | grep -q "$dev" || fail "web's $dev is not on $br in $A: $(ip -n "$A" link show master "$br")"
ip link show "$dev" >/dev/null 2>&1 && fail "web's $dev stayed in the root namespace"
limits=$(podman inspect --format '{{.HostConfig.Memory}} {{.HostConfig.CpuQuota}} {{.HostConfig.CpuPeriod}}' "$dom")
[ "$limits" = "67108864 100000 100000" ] || fail "web's limits are '$limits', not 64 MiB and one CPU's time"
podman inspect --format '{{index .Config.Labels "novacron.io/name"}} {{index .Config.Labels "novacron.io/namespace"}}' "$dom" |
    grep -qx "web default" || fail "web carries no owner mark: $(podman inspect --format '{{.Config.Labels}}' "$dom")"
: "${NOVACTL:=$(cd "$(dirname "$0")/../.." && pwd)/build/novactl}"
"$NOVACTL" --etcd "$ETCD" --prefix "$PREFIX" get vm web -o wide | grep -q "^web  *Running .* container  *1 " ||
    fail "novactl get -o wide: $("$NOVACTL" --etcd "$ETCD" --prefix "$PREFIX" get vm web -o wide)"
ok "container web ($cip, $dom) limited to 64 MiB and one CPU, owner mark in its labels; its $dev is on $br in $A only"

# Its figures on the node's /metrics, as a guest's.
metrics() { curl -sf "http://127.0.0.1:$PA/metrics"; }
has_cpu() { metrics | grep -q '^novacron_vm_cpu_seconds_total{namespace="default",name="web",node="host-a"} [0-9]'; }
wait_for 20 "web's CPU time on /metrics" has_cpu
metrics | grep -q '^novacron_vm_memory_rss_bytes{namespace="default",name="web",node="host-a"} [1-9]' ||
    fail "web's memory on /metrics: $(metrics | grep 'name="web"')"
grep -q 'left out of this scrape' "$TMP/host-a.log" && fail "a scrape left VMs out: $(grep 'left out' "$TMP/host-a.log")"
ok "web's CPU time and memory on /metrics"

script="#!/bin/sh
for i in \$(seq 1 30); do ping -c 1 -W 1 $cip >/dev/null 2>&1 && break; done
ping -c 2 -W 2 $cip >/dev/null 2>&1 && echo NOVACRON-CTR-PING-OK || echo NOVACRON-CTR-PING-FAILED
echo \"NOVACRON-CTR-GOT \$(wget -q -O- http://$cip:8080/index.html)\"
"
put_vm default g1 "$(guest_spec | jq -c --arg s "$script" \
    '. + {node: "host-a", interfaces: [{name: "eth0", network: "app"}], cloudInit: {userData: $s}}')"
wait_for 60 "g1 Running" converged default vm g1 Running
G1LOG=$(status_of default vm g1 | jq -r .consoleLog)
on_cleanup '[ "$rc" -ne 0 ] && { echo "--- g1 console:"; tail -n 15 "$G1LOG"; } >&2'
wait_for 90 "g1's user-data on its console" console_has default g1 "NOVACRON-CTR-GOT"
said() { grep -a "NOVACRON-CTR" "$G1LOG" | grep -v SEED; }
console_has default g1 "NOVACRON-CTR-PING-OK" || fail "g1 could not ping web at $cip: $(said)"
console_has default g1 "NOVACRON-CTR-GOT hello <from> web & co" || fail "g1 fetched: $(said)"
ok "guest g1 on Network app pings container web and fetches its page, with web's environment in it"

# Killed behind the controller's back, it runs again, its veth on the bridge.
podman kill "$dom" >/dev/null
wait_for 30 "web running again" state_is "$dom" running
wait_for 30 "web Running" converged default vm web Running
wait_for 10 "web's veth on $br" sh -c "ip -n $A link show master $br | grep -q $dev"
has_event default web DriftCorrected || fail "no DriftCorrected event for web"
ok "web killed with podman kill ran again, its veth back on $br"

# Restarted behind the controller's back: a new network namespace, which
# gets its interface again.
pid1=$(podman inspect --format '{{.State.Pid}}' "$dom")
# Its stop wakes the controller, which may start it before podman does;
# then podman's own start fails, and either way it runs anew.
podman restart -t 1 "$dom" >/dev/null 2>&1 || true
new_pid() { p=$(podman inspect --format '{{.State.Pid}}' "$dom"); [ "$p" != "$pid1" ] && [ "$p" != 0 ]; }
wait_for 30 "web restarted" new_pid
wait_for 20 "web's veth on $br again" sh -c "ip -n $A link show master $br | grep -q $dev"
podman exec "$dom" ip -4 addr show eth0 | grep -q "inet $cip/" ||
    fail "web's eth0 after podman restart: $(podman exec "$dom" ip addr 2>&1)"
ok "web restarted with podman restart got its interface back ($cip, $dev on $br)"

# A new spec while it runs: the container is replaced at its restart.
id1=$(podman inspect --format '{{.Id}}' "$dom")
# shellcheck disable=SC2016
container web '{"command": ["sh", "-c", "echo \"$GREETING\" >/tmp/index.html; exec httpd -f -p 8080 -h /tmp"],
    "env": [{"name": "GREETING", "value": "second"}],
    "interfaces": [{"name": "eth0", "network": "app"}], "stopGracePeriodSeconds": 3}'
replaced() { [ "$(podman inspect --format '{{.Id}}' "$dom" 2>/dev/null)" != "$id1" ] && [ "$(cstate "$dom")" = running ]; }
wait_for 60 "web replaced" replaced
wait_for 30 "web Running" converged default vm web Running
podman inspect --format '{{.Config.Env}}' "$dom" | grep -q "GREETING=second" ||
    fail "web's new container: $(podman inspect --format '{{.Config.Env}}' "$dom")"
[ "$(ours | grep -c "\.default\.web$")" = 1 ] || fail "containers for web: $(ours)"
ok "a new spec for running web replaced its container (one, with the new environment)"

# runState Paused and Stopped are held.
container idle '{"command": ["sleep", "1000"]}'
wait_for 30 "idle Running" converged default vm idle Running
idom=$(domain_of default idle)
container idle '{"runState": "Paused", "command": ["sleep", "1000"]}'
wait_for 30 "idle Paused" converged default vm idle Paused
podman unpause "$idom" >/dev/null
wait_for 30 "idle paused again" state_is "$idom" paused
ok "runState Paused: idle frozen, and frozen again after podman unpause"
container idle '{"runState": "Stopped", "stopGracePeriodSeconds": 3, "command": ["sleep", "1000"]}'
wait_for 30 "idle Stopped" converged default vm idle Stopped
podman start "$idom" >/dev/null
wait_for 30 "idle stopped again" state_is "$idom" exited
phase_is vm idle Stopped || fail "idle: $(status_of default vm idle | jq -c .)"
ok "runState Stopped: idle stopped, and stopped again after podman start"

# No snapshots.
put snapshot s1 '{"vm": "idle"}'
wait_for 20 "s1 Failed" failed_as snapshot s1 'VirtualMachine "idle" runs on the container runtime, which takes no snapshots'
ok "a Snapshot of a container is Failed, saying why"

# kill -9 of novacrond while a container is created: one container, running.
container crash '{"command": ["sleep", "1000"]}'
sleep 0.3
kill -9 "$(cat "$TMP/host-a.pid")"
wait "$(cat "$TMP/host-a.pid")" 2>/dev/null || true
start_host host-a "$A" "$PA" --libvirt qemu:///system --force-tcg --podman-socket /run/podman/podman.sock
wait_for 60 "crash Running" converged default vm crash Running
n=$(ours | grep -c "\.default\.crash$" || true)
[ "$n" = 1 ] || fail "$n containers for crash: $(ours)"
ok "kill -9 of novacrond while crash was created: exactly one container, running"

# Its output, stdout and stderr apart, through novactl logs.
container talk '{"command": ["sh", "-c", "echo out-line; echo err-line >&2; sleep 1000"]}'
wait_for 30 "talk Running" converged default vm talk Running
nctl() { "$NOVACTL" --etcd "$ETCD" --prefix "$PREFIX" "$@"; }
said_out() { nctl logs vm talk 2>/dev/null | grep -qx out-line; }
wait_for 10 "talk's output" said_out
nctl logs vm talk 2>&1 >/dev/null | grep -qx err-line || fail "talk's stderr: $(nctl logs vm talk 2>&1 >/dev/null)"
nctl logs vm talk 2>/dev/null | grep -q err-line && fail "talk's stderr came out on stdout"
ok "novactl logs vm talk: the container's stdout and stderr apart"

# A container with the name the controller would use, not created by it.
VICTIM="${dom%.web}.victim"
podman create --name "$VICTIM" "$IMAGE" sleep 1000 >/dev/null
container victim '{"command": ["sleep", "1000"]}'
wait_for 30 "victim Failed" failed_as vm victim "libvirt domain $VICTIM exists but NovaCron did not create it"
ec del "${PREFIX}spec/default/vm/victim" >/dev/null
wait_for 30 "victim's status gone" sh -c "[ -z \"\$(etcdctl --endpoints $ETCD get ${PREFIX}status/default/vm/victim)\" ]"
podman container exists "$VICTIM" || fail "the unmarked container $VICTIM was removed"
podman container exists "$FOREIGN" || fail "the foreign container $FOREIGN was removed"
[ "$(cstate "$FOREIGN")" = created ] || fail "the foreign container $FOREIGN was started"
ok "an unmarked container with our name is a NameConflict and survives; $FOREIGN is untouched"

# Bad input.
put_vm default no-image '{"runtime": "container", "image": "localhost/no-such-image:1", "node": "host-a", "vcpus": 1, "memory": "64MiB"}'
wait_for 30 "no-image Failed" failed_as vm no-image "spec.image: not on node host-a"
container bad-disk '{"disks": [{"name": "root", "volume": "v"}]}'
wait_for 20 "bad-disk Failed" failed_as vm bad-disk 'spec.disks: the container runtime has no disks'
[ -z "$(ours | grep -E '\.(no-image|bad-disk)$')" ] || fail "a container was made for a bad spec: $(ours)"
ok "a missing image ($(ready_msg vm no-image)) and a VM-only field are Failed naming the field"

# Deletion: the container and its veth go.
ec del "${PREFIX}spec/default/vm/web" >/dev/null
wait_for 30 "web's status gone" sh -c "[ -z \"\$(etcdctl --endpoints $ETCD get ${PREFIX}status/default/vm/web)\" ]"
podman container exists "$dom" && fail "web's container $dom is still there"
ip -n "$A" link show "$dev" >/dev/null 2>&1 && fail "web's $dev is still in $A"
ok "deleting web removed its container and its veth"
