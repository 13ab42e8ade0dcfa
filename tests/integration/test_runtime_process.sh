# The process runtime (spec.runtime "process"): a program of the node's
# --exec-dir run by libvirt's LXC driver, on a node in a network namespace
# of this test.
# On a Network: a process serving HTTP and a real TCG guest on the same
# Network reach each other (the guest pings the process and fetches its
# page); the process's end of its veth sits on the Network's bridge in the
# node's namespace, not in the root one.
# Its environment is passed; it runs as nobody, on a read-only root, under
# the cgroup limits of its vCPUs and memory.
# restartPolicy: OnFailure restarts a failing command with back-off until it
# succeeds (Succeeded, the restarts counted), Never ends Failed with the
# exit code, Always restarts a process killed behind the controller's back
# (an exit, counted), Never leaves it off and Failed.
# runState Paused and Stopped are held; kill -9 of novacrond while a
# process is created leaves exactly one domain; a domain with the name the
# controller would use but not created by it, and another unmarked LXC
# domain, are never touched; a VM-only field on a process and a command
# outside --exec-dir are Failed naming the field; deleting a process
# removes its domain, its veth and its folder.
. "$(dirname "$0")/lib.sh"
NS=default
RUN=/run/nc-test-$$
EXEC=/run/nc-test-$$-bin
A=nc-prc-$$-a
O=nc-prc-$$-o
FOREIGN=nc-foreign-$$
on_cleanup 'for f in "$TMP"/host-*.pid; do kill -9 $(cat "$f"); done 2>/dev/null; pkill -f -- "--pid-file='"$RUN"'/" 2>/dev/null; for d in '"$FOREIGN"' "${VICTIM:-}"; do [ -n "$d" ] && $VIRSH_LXC undefine "$d" >/dev/null 2>&1; done; rm -rf '"$RUN"' '"$EXEC"'; ip netns del '"$A"' 2>/dev/null; ip netns del '"$O"' 2>/dev/null'
use_qemu
$VIRSH_LXC uri >/dev/null || fail "libvirt's LXC driver does not answer (hack/deps.sh installs libvirt-daemon-driver-lxc)"
netns_pair "$A" "$O" 192.168.217
# Programs run as nobody: their folder is one nobody may enter.
mkdir -p "$EXEC"
chmod 755 "$EXEC"
cp /usr/bin/busybox "$EXEC/busybox"
BB=$EXEC/busybox

# An LXC domain of someone else's, never to be touched.
printf "<domain type='lxc'><name>%s</name><memory>65536</memory><os><type>exe</type><init>/bin/true</init></os><devices><console type='pty'/></devices></domain>\n" \
    "$FOREIGN" >"$TMP/foreign.xml"
$VIRSH_LXC define "$TMP/foreign.xml" >/dev/null

PA=$(free_port)
start_host host-a "$A" "$PA" --libvirt qemu:///system --force-tcg --exec-dir "$EXEC"

process() { # NAME SPEC-FIELDS: a process on host-a
    put_vm default "$1" "$(jq -nc --argjson f "$2" '{runtime: "process", node: "host-a", vcpus: 1, memory: "64MiB"} + $f')"
}
proc_status() { status_of default vm "$1" | jq -r ".process.$2 // empty"; }
lxc_state() { $VIRSH_LXC domstate "$1" 2>/dev/null | head -n 1; }

# A web server on a Network, and a guest beside it.
put_net app '{"cidr":"10.217.0.0/24","mode":"isolated"}'
# shellcheck disable=SC2016
process web "$(jq -nc --arg bb "$BB" '{command: [$bb, "sh", "-c",
        "id -u > $TMPDIR/uid; touch /novacron-root-test 2>/dev/null && echo ROOT-WRITABLE; echo \"$GREETING\" >$TMPDIR/index.html; exec \"$0\" httpd -f -p 8080 -h $TMPDIR", $bb],
    env: [{name: "GREETING", value: "hello <from> web & co"}],
    interfaces: [{name: "eth0", network: "app"}]}')"
wait_for 60 "web Running" converged default vm web Running
st=$(status_of default vm web)
pip=$(echo "$st" | jq -r '.interfaces[0].ip')
dev=$(echo "$st" | jq -r '.interfaces[0].device')
br=$(status_of default network app | jq -r .bridge)
dom=$(echo "$st" | jq -r .domain.name)
folder=$(dirname "$(proc_status web log)")
[ "$(lxc_state "$dom")" = running ] || fail "web's domain $dom is $(lxc_state "$dom")"
$VIRSH domstate "$dom" >/dev/null 2>&1 && fail "web's domain $dom is a QEMU domain too"
ip -n "$A" link show master "$br" | grep -q "$dev" || fail "web's $dev is not on $br in $A: $(ip -n "$A" link show master "$br")"
ip link show "$dev" >/dev/null 2>&1 && fail "web's $dev stayed in the root namespace"
# Its vCPUs and memory are limits of its cgroup (v1 or v2).
limits() {
    for d in /sys/fs/cgroup/memory/machine/lxc-*-"$1".libvirt-lxc; do
        [ -d "$d" ] && echo "$(cat "$d/memory.limit_in_bytes") $(cat "/sys/fs/cgroup/cpu/machine/${d##*/}/cpu.cfs_quota_us")" && return
    done
    for d in /sys/fs/cgroup/machine/lxc-*-"$1".libvirt-lxc; do
        [ -d "$d" ] && echo "$(cat "$d/memory.max") $(cut -d' ' -f1 "$d/cpu.max")" && return
    done
}
[ "$(limits "$dom")" = "67108864 100000" ] || fail "web's cgroup limits are '$(limits "$dom")', not 64 MiB and one CPU's time"
wait_for 10 "web's uid file" test -s "$folder/tmp/uid"
[ "$(cat "$folder/tmp/uid")" = 65534 ] || fail "web runs as uid $(cat "$folder/tmp/uid"), not nobody"
grep -q "ROOT-WRITABLE" "$folder/log" && fail "web could write to the root file system"
[ -e /novacron-root-test ] && fail "web wrote /novacron-root-test on the host"
: "${NOVACTL:=$(cd "$(dirname "$0")/../.." && pwd)/build/novactl}"
"$NOVACTL" --etcd "$ETCD" --prefix "$PREFIX" get vm web -o wide | grep -q "^web  *Running .* process  *1 " ||
    fail "novactl get -o wide: $("$NOVACTL" --etcd "$ETCD" --prefix "$PREFIX" get vm web -o wide)"
ok "process web ($pip, $dom) runs as nobody on a read-only root, limited to 64 MiB and one CPU by its cgroup; its $dev is on $br in $A only"

# Its figures on the node's /metrics, as a guest's.
metrics() { curl -sf "http://127.0.0.1:$PA/metrics"; }
has_cpu() { metrics | grep -q '^novacron_vm_cpu_seconds_total{namespace="default",name="web",node="host-a"} [0-9]'; }
wait_for 20 "web's CPU time on /metrics" has_cpu
metrics | grep -q '^novacron_vm_memory_rss_bytes{namespace="default",name="web",node="host-a"} [1-9]' ||
    fail "web's memory on /metrics: $(metrics | grep 'name="web"')"
grep -q 'left out of this scrape' "$TMP/host-a.log" && fail "a scrape left VMs out: $(grep 'left out' "$TMP/host-a.log")"
ok "web's CPU time and memory on /metrics"

script="#!/bin/sh
ip -4 addr show eth0 | sed -n 's/.*inet /NOVACRON-PROC-ADDR /p'
for i in \$(seq 1 30); do ping -c 1 -W 1 $pip >/dev/null 2>&1 && break; done
ping -c 2 -W 2 $pip >/dev/null 2>&1 && echo NOVACRON-PROC-PING-OK || echo NOVACRON-PROC-PING-FAILED
echo \"NOVACRON-PROC-GOT \$(wget -q -O- http://$pip:8080/index.html)\"
"
put_vm default g1 "$(guest_spec | jq -c --arg s "$script" \
    '. + {node: "host-a", interfaces: [{name: "eth0", network: "app"}], cloudInit: {userData: $s}}')"
wait_for 60 "g1 Running" converged default vm g1 Running
G1LOG=$(status_of default vm g1 | jq -r .consoleLog)
on_cleanup '[ "$rc" -ne 0 ] && { echo "--- g1 console:"; tail -n 15 "$G1LOG"; } >&2'
wait_for 90 "g1's user-data on its console" console_has default g1 "NOVACRON-PROC-GOT"
said() { grep -a "NOVACRON-PROC" "$(status_of default vm g1 | jq -r .consoleLog)" | grep -v SEED; }
console_has default g1 "NOVACRON-PROC-PING-OK" || fail "g1 could not ping web at $pip: $(said)"
console_has default g1 "NOVACRON-PROC-GOT hello <from> web & co" ||
    fail "g1 fetched: $(said)"
ok "guest g1 on Network app pings process web and fetches its page, with web's environment in it"

# restartPolicy.
# shellcheck disable=SC2016
count='n=$(cat $TMPDIR/n 2>/dev/null || echo 0); echo $((n + 1)) >$TMPDIR/n; echo "try $n"; [ "$n" -ge 2 ] || exit 3'
process retry "$(jq -nc --arg bb "$BB" --arg c "$count" '{restartPolicy: "OnFailure", command: [$bb, "sh", "-c", $c]}')"
process once "$(jq -nc --arg bb "$BB" '{restartPolicy: "Never", command: [$bb, "sh", "-c", "echo bye; exit 3"]}')"
# Should it not end, what libvirt and its folder say tells a lost event
# from a process that never ran.
end=$(($(date +%s) + 60))
until phase_is vm retry Succeeded >/dev/null 2>&1; do
    if [ "$(date +%s)" -ge "$end" ]; then
        rdom=$(domain_of default retry)
        fail "timed out after 60s waiting for retry Succeeded: $rdom is $(lxc_state "$rdom");" \
            "$(status_of default vm retry | jq -c '{phase, process}'); its folder:" \
            "$(ls -la "$(dirname "$(proc_status retry log)")" 2>&1)"
    fi
    sleep 0.1
done
[ "$(proc_status retry restarts)" = 2 ] || fail "retry: $(status_of default vm retry | jq -c .process)"
[ "$(proc_status retry exitCode)" = 0 ] || fail "retry: $(status_of default vm retry | jq -c .process)"
grep -q "try 2" "$(proc_status retry log)" || fail "retry's log: $(cat "$(proc_status retry log)")"
"$NOVACTL" --etcd "$ETCD" --prefix "$PREFIX" logs vm retry | grep -q "^try 2$" ||
    fail "novactl logs vm retry: $("$NOVACTL" --etcd "$ETCD" --prefix "$PREFIX" logs vm retry 2>&1)"
has_event default retry Restarted || fail "no Restarted event for retry"
wait_for 30 "once Failed" phase_is vm once Failed
[ "$(proc_status once exitCode)" = 3 ] || fail "once: $(status_of default vm once | jq -c .process)"
[ "$(proc_status once restarts)" = 0 ] || fail "once was restarted: $(status_of default vm once | jq -c .process)"
status_of default vm once | jq -e '.conditions[] | select(.type == "Ready") | .status == "False" and .reason == "Error"' >/dev/null ||
    fail "once: $(status_of default vm once | jq -c .conditions)"
ok "OnFailure: retry exited 3 twice, was restarted twice and Succeeded (novactl logs shows its tries); Never: once Failed with exit code 3"

# Always: killed behind the controller's back, it is started again.
id1=$($VIRSH_LXC domid "$dom")
$VIRSH_LXC destroy "$dom" >/dev/null
restarted() { id=$($VIRSH_LXC domid "$dom" 2>/dev/null); [ -n "$id" ] && [ "$id" != - ] && [ "$id" != "$id1" ]; }
wait_for 30 "web started again" restarted
wait_for 30 "web Running" converged default vm web Running
wait_for 10 "web's $dev on $br" sh -c "ip -n $A link show master $br | grep -q $dev"
# virsh destroy sends SIGTERM, then SIGKILL: the init passes the first on
# and writes 143, or is killed first (137, written by the controller).
killed_code() { case $(proc_status "$1" exitCode) in 137 | 143) ;; *) return 1 ;; esac; }
[ "$(proc_status web restarts)" = 1 ] && killed_code web ||
    fail "web's restart not counted: $(status_of default vm web | jq -c .process)"
ok "Always: web destroyed with virsh was started again (domain id $id1, now $($VIRSH_LXC domid "$dom")), its veth back on $br; counted, exit code $(proc_status web exitCode)"

# Never: killed behind the controller's back, it stays off, Failed; leaving
# runState Stopped starts it afresh.
process lone "$(jq -nc --arg bb "$BB" '{restartPolicy: "Never", command: [$bb, "sleep", "1000"]}')"
wait_for 30 "lone Running" converged default vm lone Running
ldom=$(domain_of default lone)
$VIRSH_LXC destroy "$ldom" >/dev/null
wait_for 30 "lone Failed" phase_is vm lone Failed
sleep 2
[ "$(lxc_state "$ldom")" = "shut off" ] && [ "$(proc_status lone restarts)" = 0 ] && killed_code lone ||
    fail "lone is $(lxc_state "$ldom"): $(status_of default vm lone | jq -c .process)"
process lone "$(jq -nc --arg bb "$BB" '{restartPolicy: "Never", runState: "Stopped", command: [$bb, "sleep", "1000"]}')"
wait_for 30 "lone Stopped" converged default vm lone Stopped
process lone "$(jq -nc --arg bb "$BB" '{restartPolicy: "Never", command: [$bb, "sleep", "1000"]}')"
wait_for 30 "lone Running again" converged default vm lone Running
[ "$(lxc_state "$ldom")" = running ] || fail "lone is $(lxc_state "$ldom")"
ok "Never: lone destroyed with virsh stayed off, Failed with exit code $(proc_status lone exitCode); Stopped then Running started it again"

# runState Paused and Stopped are held.
process idle "$(jq -nc --arg bb "$BB" '{command: [$bb, "sleep", "1000"]}')"
wait_for 30 "idle Running" converged default vm idle Running
idom=$(domain_of default idle)
process idle "$(jq -nc --arg bb "$BB" '{runState: "Paused", command: [$bb, "sleep", "1000"]}')"
wait_for 30 "idle Paused" converged default vm idle Paused
sleep 2
[ "$(lxc_state "$idom")" = paused ] || fail "idle is $(lxc_state "$idom"), not held paused"
ok "runState Paused: idle frozen and held so"
process idle "$(jq -nc --arg bb "$BB" '{runState: "Stopped", stopGracePeriodSeconds: 5, command: [$bb, "sleep", "1000"]}')"
wait_for 30 "idle Stopped" converged default vm idle Stopped
sleep 3
[ "$(lxc_state "$idom")" = "shut off" ] || fail "idle is $(lxc_state "$idom"), not held shut off"
phase_is vm idle Stopped || fail "idle: $(status_of default vm idle | jq -c .)"
ok "runState Stopped: idle shut off and held so"

# kill -9 of novacrond while a process is created: one domain, Running.
process crash "$(jq -nc --arg bb "$BB" '{command: [$bb, "sleep", "1000"]}')"
sleep 0.3
kill -9 "$(cat "$TMP/host-a.pid")"
wait "$(cat "$TMP/host-a.pid")" 2>/dev/null || true
start_host host-a "$A" "$PA" --libvirt qemu:///system --force-tcg --exec-dir "$EXEC"
wait_for 60 "crash Running" converged default vm crash Running
n=$(test_domains "$VIRSH_LXC" | grep -c "\.default\.crash$" || true)
[ "$n" = 1 ] || fail "$n domains for crash: $(test_domains "$VIRSH_LXC")"
ok "kill -9 of novacrond while crash was created: exactly one domain, Running"

# A domain with the name the controller would use, not created by it.
VICTIM="${dom%.web}.victim"
printf "<domain type='lxc'><name>%s</name><memory>65536</memory><os><type>exe</type><init>/bin/true</init></os><devices><console type='pty'/></devices></domain>\n" \
    "$VICTIM" >"$TMP/victim.xml"
$VIRSH_LXC define "$TMP/victim.xml" >/dev/null
process victim "$(jq -nc --arg bb "$BB" '{command: [$bb, "sleep", "1000"]}')"
wait_for 30 "victim Failed" failed_as vm victim "libvirt domain $VICTIM exists but NovaCron did not create it"
ec del "${PREFIX}spec/default/vm/victim" >/dev/null
wait_for 30 "victim's status gone" sh -c "[ -z \"\$(etcdctl --endpoints $ETCD get ${PREFIX}status/default/vm/victim)\" ]"
$VIRSH_LXC dominfo "$VICTIM" >/dev/null || fail "the unmarked domain $VICTIM was removed"
$VIRSH_LXC dominfo "$FOREIGN" >/dev/null || fail "the foreign domain $FOREIGN was removed"
ok "an unmarked LXC domain with our name is a NameConflict and survives; $FOREIGN is untouched"

# Bad input.
process bad-disk "$(jq -nc --arg bb "$BB" '{command: [$bb, "true"], disks: [{name: "root", volume: "v"}]}')"
wait_for 20 "bad-disk Failed" failed_as vm bad-disk 'spec.disks: the process runtime has no disks'
process outside '{"command": ["/usr/bin/busybox", "true"]}'
process missing '{"command": ["/nonexistent/program"]}'
wait_for 20 "outside Failed" phase_is vm outside Failed
wait_for 20 "missing Failed" phase_is vm missing Failed
m1=$(ready_msg vm outside) m2=$(ready_msg vm missing)
want="spec.command[0]: must be inside the node's program folder (--exec-dir)"
echo "$m1" | grep -qF "$want" || fail "outside: $m1"
[ "$m1" = "$m2" ] || fail "an existing and a missing program outside --exec-dir are told apart: '$m1', '$m2'"
[ -z "$(test_domains "$VIRSH_LXC" | grep -E '\.(bad-disk|outside|missing)$')" ] || fail "a domain was made for a bad spec"
ec put "${PREFIX}spec/default/migration/move-web" '{"apiVersion":"novacron.io/v1","kind":"Migration","metadata":{"name":"move-web"},"spec":{"vm":"web"}}' >/dev/null
wait_for 20 "move-web Failed" failed_as migration move-web 'RuntimeUnsupported: spec.vm: VirtualMachine "web" runs on the process runtime, which cannot migrate'
ok "a VM-only field, programs outside --exec-dir whether they exist or not, and a Migration of a process are Failed naming the field: $m1"

# Deletion: the domain, the veth and the folder go.
ec del "${PREFIX}spec/default/vm/web" >/dev/null
wait_for 30 "web's status gone" sh -c "[ -z \"\$(etcdctl --endpoints $ETCD get ${PREFIX}status/default/vm/web)\" ]"
$VIRSH_LXC dominfo "$dom" >/dev/null 2>&1 && fail "web's domain $dom is still defined"
ip -n "$A" link show "$dev" >/dev/null 2>&1 && fail "web's $dev is still in $A"
[ -e "$folder" ] && fail "web's folder $folder is still there"
ok "deleting web removed its domain, its veth and its folder"
