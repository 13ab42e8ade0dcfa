# Helpers for the integration tests: each test sources this file, gets a
# fresh etcd of its own and a temporary directory, and everything it
# started is stopped when it exits, passing or failing.
set -eu

: "${NOVACROND:=$(cd "$(dirname "$0")/../.." && pwd)/build/novacrond}"
HACK=$(cd "$(dirname "$0")/../../hack" && pwd)
TEST_NAME=$(basename "$0" .sh)
TMP=$(mktemp -d "/tmp/nc-$TEST_NAME.XXXXXX")
PREFIX=/novacron/
export ETCDCTL_API=3
# LeakSanitizer reports what libvirt's and libxml2's process-wide caches
# still hold at exit; those are not ours to free.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
# No curl of a test waits on an answer for ever: a daemon that accepts and
# then never answers fails the wait it is in.
echo "max-time = 30" >"$TMP/.curlrc"
export CURL_HOME=$TMP

CLEANUP=""
# on_cleanup CMD...: runs CMD when the test exits, before etcd is stopped.
on_cleanup() {
    CLEANUP="$CLEANUP
$*"
}

cleanup() {
    rc=$?
    if [ -f "$TMP/novacrond.pid" ]; then
        pid=$(cat "$TMP/novacrond.pid")
        { kill -9 "$pid" && wait "$pid"; } 2>/dev/null || true
    fi
    eval "$CLEANUP" || true
    "$HACK/etcd.sh" stop "$TMP/etcd" || true
    if [ "$rc" -ne 0 ]; then
        for f in "$TMP"/host-*.log "$TMP"/node-*.log; do grep -a -A 40 -m 1 "ERROR: AddressSanitizer\|runtime error" "$f" >&2 2>/dev/null; done || true
        echo "--- $TEST_NAME failed; last lines of novacrond's log:" >&2
        grep -a -A 30 -m 1 "ERROR: AddressSanitizer\|runtime error" "$TMP/novacrond.log" >&2 2>/dev/null || true
        tail -n 40 "$TMP/novacrond.log" >&2 2>/dev/null || true
        for f in "$TMP"/host-*.log "$TMP"/node-*.log; do
            [ -f "$f" ] && { echo "--- $f:"; tail -n 30 "$f"; } >&2
        done
    fi
    rm -rf "$TMP"
    exit "$rc"
}
trap cleanup EXIT INT TERM

fail() {
    echo "FAIL $TEST_NAME: $*" >&2
    exit 1
}

ok() {
    echo "ok   $TEST_NAME: $*"
}

ETCD=$("$HACK/etcd.sh" start "$TMP/etcd")

ec() {
    etcdctl --endpoints "$ETCD" "$@"
}

# Replaces the test's etcd with one over TLS that requires client
# certificates (with "server-only": none, for password logins): a CA, a
# server certificate for 127.0.0.1 and a client certificate in $TLS
# (ca.pem, client.pem, client-key.pem). Sets $ETCD; ec and
# $ETCD_TLS_FLAGS (for novacrond and novactl) use them.
use_tls_etcd() {
    TLS="$TMP/tls"
    mkdir -p "$TLS"
    (
        cd "$TLS"
        openssl req -x509 -newkey rsa:2048 -nodes -keyout ca-key.pem -out ca.pem -days 1 \
            -subj /CN=nc-test-ca 2>/dev/null
        for who in server client; do
            openssl req -newkey rsa:2048 -nodes -keyout "$who-key.pem" -out "$who.csr" \
                -subj "/CN=$who" 2>/dev/null
            printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n' >"$who.ext"
            openssl x509 -req -in "$who.csr" -CA ca.pem -CAkey ca-key.pem -CAcreateserial \
                -out "$who.pem" -days 1 -extfile "$who.ext" 2>/dev/null
        done
    )
    "$HACK/etcd.sh" stop "$TMP/etcd"
    client_auth=1
    [ "${1:-}" = server-only ] && client_auth=0
    ETCD=$(ETCD_TLS_DIR=$TLS ETCD_TLS_CLIENT_AUTH=$client_auth "$HACK/etcd.sh" start "$TMP/etcd-tls")
    on_cleanup '"$HACK/etcd.sh" stop "$TMP/etcd-tls"'
    case "$ETCD" in https://*) ;; *) fail "etcd does not serve https: $ETCD" ;; esac
    ETCD_TLS_FLAGS="--etcd-cacert $TLS/ca.pem"
    ETCDCTL_TLS="--cacert $TLS/ca.pem"
    if [ "$client_auth" = 1 ]; then
        ETCD_TLS_FLAGS="$ETCD_TLS_FLAGS --etcd-cert $TLS/client.pem --etcd-key $TLS/client-key.pem"
        ETCDCTL_TLS="$ETCDCTL_TLS --cert $TLS/client.pem --key $TLS/client-key.pem"
    fi
    # shellcheck disable=SC2086
    ec() { etcdctl --endpoints "$ETCD" $ETCDCTL_TLS "$@"; }
}

# Replaces the test's etcd with a cluster of N members (default 3) on
# loopback, in $TMP/etcd-cluster/m1 ... mN; $ETCD lists every member's URL.
use_etcd_cluster() {
    "$HACK/etcd.sh" stop "$TMP/etcd"
    ETCD=$("$HACK/etcd.sh" start "$TMP/etcd-cluster" "${1:-3}")
    on_cleanup '"$HACK/etcd.sh" stop "$TMP/etcd-cluster"'
}

# The directory of the member that leads the cluster (use_etcd_cluster).
etcd_leader() {
    ec endpoint status -w json | jq -r '.[] | select(.Status.leader == .Status.header.member_id) | .Endpoint' |
        while read -r url; do
            grep -lx "$url" "$TMP"/etcd-cluster/m*/endpoint | xargs dirname
        done
}

free_port() {
    "$HACK/free-port"
}

LISTEN_PORT=$(free_port)
# The daemon's --run-dir (its node lock, dnsmasq's files), one per test so
# that test runs side by side never share a node's lock; not under the
# private $TMP, which dnsmasq (running as nobody) cannot read.
RUN_DIR=/run/nc-test-$TEST_NAME-$$
on_cleanup 'rm -rf "$RUN_DIR"'

# Starts novacrond in the background with extra flags "$@" and waits until
# /readyz answers.
start_novacrond() {
    # The default prefix is left to novacrond (and NOVACRON_PREFIX).
    [ "$PREFIX" = /novacron/ ] || set -- --prefix "$PREFIX" "$@"
    "$NOVACROND" --etcd "$ETCD" --listen "127.0.0.1:$LISTEN_PORT" --node node-a \
        --run-dir "$RUN_DIR" --resync 1h "$@" >>"$TMP/novacrond.log" 2>&1 &
    echo $! >"$TMP/novacrond.pid"
    wait_for 30 "novacrond ready" \
        curl -sf "http://127.0.0.1:$LISTEN_PORT/readyz"
}

# running PID: the process runs, and is not a zombie (one may be left
# unreaped for a while: PID 1 here is no init).
running() {
    local s
    s=$(ps -o stat= -p "$1") && [ "${s:0:1}" != Z ]
}

# reap PID: waits for the novacrond PID (a child of the test) to exit and
# returns its exit status. One still running 60 s after it was told to stop
# hangs in its shutdown: its threads' stacks are printed, it is killed and
# the test fails.
reap() {
    local deadline=$((SECONDS + 60))
    while running "$1"; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            gdb -p "$1" -batch -ex "thread apply all bt" 2>&1 | grep -E '^(Thread|#)' >&2
            kill -9 "$1"
            fail "novacrond $1 still running 60 s after it was told to stop"
        fi
        sleep 0.1
    done
    wait "$1"
}

# Sends SIGTERM and returns novacrond's exit status.
stop_novacrond() {
    pid=$(cat "$TMP/novacrond.pid")
    kill -TERM "$pid"
    rc=0
    reap "$pid" || rc=$?
    rm -f "$TMP/novacrond.pid"
    return "$rc"
}

# Kills novacrond with -9. libvirtd 9.0 itself sometimes segfaults, within
# a second, while it drops the event callbacks of a client killed so; in a
# test on libvirtd (use_qemu) that is waited for, and a libvirtd gone is
# started again, as systemd would, and counted in $LIBVIRTD_CRASHES.
LIBVIRTD_CRASHES=0
kill9_novacrond() {
    local pid lv=
    pid=$(cat "$TMP/novacrond.pid")
    [ -z "${GUEST:-}" ] || lv=$(cat /run/libvirtd.pid 2>/dev/null || true)
    kill -9 "$pid"
    wait "$pid" 2>/dev/null || true
    rm -f "$TMP/novacrond.pid"
    [ -n "$lv" ] || return 0
    sleep 1.5
    if ! running "$lv"; then
        LIBVIRTD_CRASHES=$((LIBVIRTD_CRASHES + 1))
        echo "note: libvirtd $lv died after novacrond was killed with -9; started again" >&2
        "$HACK/libvirtd.sh"
    fi
}

# wait_for SECONDS WHAT COMMAND...: retries COMMAND until it succeeds.
wait_for() {
    secs=$1
    what=$2
    shift 2
    end=$(($(date +%s) + secs))
    while ! "$@" >/dev/null 2>&1; do
        [ "$(date +%s)" -lt "$end" ] || fail "timed out after ${secs}s waiting for $what"
        sleep 0.1
    done
}

# vm_doc NS NAME SPEC-JSON: a VirtualMachine manifest.
vm_doc() {
    printf '{"apiVersion":"novacron.io/v1","kind":"VirtualMachine","metadata":{"name":"%s","namespace":"%s"},"spec":%s}' \
        "$2" "$1" "$3"
}

put_vm() {
    ec put "${PREFIX}spec/$1/vm/$2" "$(vm_doc "$1" "$2" "$3")" >/dev/null
}

# put_net NAME SPEC: Network NAME of namespace default.
put_net() {
    ec put "${PREFIX}spec/default/network/$1" \
        "$(printf '{"apiVersion":"novacron.io/v1","kind":"Network","metadata":{"name":"%s","namespace":"default"},"spec":%s}' "$1" "$2")" >/dev/null
}

status_of() {
    ec get "${PREFIX}status/$1/$2/$3" --print-value-only
}

# The spec key's mod_revision, the generation a converged status observes.
mod_revision() {
    ec get "${PREFIX}spec/$1/$2/$3" -w json | jq -r '.kvs[0].mod_revision // 0'
}

# converged NS KIND NAME [PHASE]: status observes the spec's generation with
# Ready=True (and the phase, when given).
converged() {
    st=$(status_of "$1" "$2" "$3")
    [ -n "$st" ] || return 1
    gen=$(mod_revision "$1" "$2" "$3")
    echo "$st" | jq -e --argjson gen "$gen" --arg phase "${4:-}" '
        .observedGeneration == $gen and
        ([.conditions[] | select(.type == "Ready" and .status == "True")] | length) == 1 and
        ($phase == "" or .phase == $phase)' >/dev/null
}

# wait_all_running NS N SECONDS: until N VMs of NS say Running; else, after
# SECONDS, prints three that do not and fails.
wait_all_running() {
    local deadline=$((SECONDS + $3))
    until [ "$(ec get "${PREFIX}status/$1/vm/" --prefix --print-value-only |
        jq -s '[.[] | select(.phase == "Running")] | length')" -ge "$2" ]; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            ec get "${PREFIX}status/$1/vm/" --prefix --print-value-only |
                jq -c 'select(.phase != "Running") | {phase, conditions}' | head -n 3 >&2
            fail "not every one Running after $3 s"
        fi
        sleep 0.05
    done
}

# The number of keys under a prefix.
count_keys() {
    ec get "$1" --prefix --keys-only | grep -c . || true
}

# The current store revision.
store_revision() {
    ec get / --prefix --limit 1 -w json | jq -r '.header.revision'
}

# timed_until KEY PATTERN COMMAND...: runs COMMAND (a put, say) and waits
# until KEY holds a value matching PATTERN (a bash regular expression),
# written after COMMAND started, as an etcd watch delivers it. Sets $seen
# to that value and $took to the milliseconds from COMMAND's start to
# then. Benchmarks wait this way: a poll of etcdctl and jq every few
# milliseconds would take CPU from what they measure, on two cores. Fails
# after 300 s without a match.
timed_until() {
    local key=$1 pattern=$2 line t0 rev
    shift 2
    seen=
    rev=$(($(store_revision) + 1))
    coproc TIMED_UNTIL { exec etcdctl --endpoints "$ETCD" watch --rev "$rev" "$key"; }
    t0=${EPOCHREALTIME/./}
    "$@" >/dev/null
    while read -r -t 300 line <&"${TIMED_UNTIL[0]}"; do
        if [[ $line =~ $pattern ]]; then
            seen=$line
            break
        fi
    done
    took=$(((${EPOCHREALTIME/./} - t0) / 1000))
    kill "$TIMED_UNTIL_PID"
    wait "$TIMED_UNTIL_PID" 2>/dev/null || true
    [ -n "$seen" ] || fail "$key held nothing matching $pattern within 300 s"
}

metric() {
    curl -sf "http://127.0.0.1:$LISTEN_PORT/metrics" | awk -v m="$1" '$1 == m { print $2 }'
}

VIRSH="virsh -c qemu:///system -q"
# Where processes (spec.runtime "process") run: libvirt's LXC driver.
VIRSH_LXC="virsh -c lxc:///system -q"

# Sets up real guests: libvirtd, the tiny guest image, and a key prefix of
# this test's own; every domain created under that prefix is removed when
# the test exits. Sets GUEST (the folder with vmlinuz and initrd.img).
use_qemu() {
    "$HACK/libvirtd.sh"
    GUEST=$("$HACK/guest.sh")
    # The guest's kernel and initrd are the only boot files VMs may name.
    export NOVACRON_BOOT_DIR="$GUEST"
    PREFIX="/nc-test-$$-$(date +%s)/"
    on_cleanup remove_test_domains
}

# test_domains [VIRSH]: the domains whose owner mark carries this test's
# prefix, guests or (with $VIRSH_LXC) processes.
test_domains() {
    v=${1:-$VIRSH}
    for d in $($v list --all --name); do
        if $v metadata "$d" https://novacron.io/xmlns/owner/v1 2>/dev/null |
            grep -qF "<prefix>$PREFIX</prefix>"; then
            echo "$d"
        fi
    done
}

# libvirtd is started again first, in case the test failed while it was down.
remove_test_domains() {
    "$HACK/libvirtd.sh" >/dev/null 2>&1 || true
    for d in $(test_domains); do
        $VIRSH destroy "$d" >/dev/null 2>&1 || true
        $VIRSH undefine "$d" >/dev/null 2>&1 || true
        rm -f "/var/log/novacron/$d.log"
    done
    for d in $(test_domains "$VIRSH_LXC"); do
        $VIRSH_LXC destroy "$d" >/dev/null 2>&1 || true
        $VIRSH_LXC undefine "$d" >/dev/null 2>&1 || true
    done
}

# guest_spec [RUNSTATE] [GRACE] [EXTRA-CMDLINE] [MEMORY]: a spec booting the tiny guest.
guest_spec() {
    printf '{"runState":"%s","vcpus":1,"memory":"%s","accel":"tcg","stopGracePeriodSeconds":%s,"boot":{"kernel":"%s/vmlinuz","initrd":"%s/initrd.img","cmdline":"console=ttyS0 quiet %s"}}' \
        "${1:-Running}" "${4:-128MiB}" "${2:-30}" "$GUEST" "$GUEST" "${3:-}"
}

domain_of() {
    status_of "$1" vm "$2" | jq -r .domain.name
}

domstate() {
    $VIRSH domstate "$1" 2>/dev/null | head -n 1
}

# console_has NS NAME TEXT: the VM's serial log (consoleLog) holds TEXT.
# The cloud-init seed the guest echoes (NOVACRON-GUEST-SEED lines) counts
# only when TEXT is looked for there: a user-data script holds the very
# lines it prints once run.
console_has() {
    log=$(status_of "$1" vm "$2" | jq -r '.consoleLog // empty')
    [ -n "$log" ] || return 1
    case $3 in
    NOVACRON-GUEST-SEED*) grep -aq "$3" "$log" ;;
    *) grep -av "NOVACRON-GUEST-SEED" "$log" | grep -aq "$3" ;;
    esac
}

has_event() { # NS NAME REASON
    ec get "${PREFIX}events/$1/vm/$2/" --prefix --print-value-only | jq -s -e --arg r "$3" 'any(.[]; .reason == $r)' >/dev/null
}

# Tests with volumes (after use_qemu, with $NS set): the test's domains
# (with their snapshots, which undefine refuses without
# --snapshots-metadata) and the volumes of namespace $NS, removed whatever
# happens.
use_test_volumes() {
    on_cleanup remove_test_volumes
}

remove_test_volumes() {
    "$HACK/libvirtd.sh" >/dev/null 2>&1 || true
    for d in $(test_domains); do
        $VIRSH destroy "$d" >/dev/null 2>&1 || true
        $VIRSH undefine --snapshots-metadata "$d" >/dev/null 2>&1 || true
    done
    for v in $($VIRSH vol-list default | awk '{print $1}' | grep "\.$NS\." || true); do
        $VIRSH vol-delete --pool default "$v" >/dev/null 2>&1 || true
    done
}

# put KIND NAME SPEC: a manifest of namespace $NS.
put() {
    kind=$(case $1 in vm) echo VirtualMachine ;; volume) echo Volume ;; snapshot) echo Snapshot ;; restore) echo Restore ;; esac)
    ec put "${PREFIX}spec/$NS/$1/$2" \
        "$(printf '{"apiVersion":"novacron.io/v1","kind":"%s","metadata":{"name":"%s","namespace":"%s"},"spec":%s}' \
            "$kind" "$2" "$NS" "$3")" >/dev/null
}
phase_is() { [ "$(status_of "$NS" "$1" "$2" | jq -r .phase)" = "$3" ]; }
ready_msg() { status_of "$NS" "$1" "$2" | jq -r '.conditions[] | select(.type == "Ready") | .reason + ": " + .message'; }
failed_as() { # KIND NAME TEXT
    phase_is "$1" "$2" Failed && ready_msg "$1" "$2" | grep -qF "$3"
}
# The libvirt name of Snapshot SNAP of VM VM: snap_name VM SNAP.
snap_name() { echo "$(domain_of "$NS" "$1" | sed "s/\.[^.]*$//").$2"; }

# start_host NAME NETNS PORT [FLAGS...]: a novacrond for one simulated
# host, node NAME, in network namespace NETNS (its underlay nc-veth), its
# log in $TMP/NAME.log and its pid in $TMP/NAME.pid; $RUN holds its run
# folder.
start_host() {
    name=$1 netns=$2 port=$3
    shift 3
    "$NOVACROND" --etcd "$ETCD" --prefix "$PREFIX" --listen "127.0.0.1:$port" --node "$name" \
        --netns "$netns" --underlay nc-veth --resync 1h --node-ttl 3s --workers 2 \
        --run-dir "$RUN" "$@" >>"$TMP/$name.log" 2>&1 &
    echo $! >"$TMP/$name.pid"
    wait_for 30 "$name ready" curl -sf "http://127.0.0.1:$port/readyz"
}

# stop_host NAME: SIGTERM to its novacrond, and waits for it.
stop_host() {
    pid=$(cat "$TMP/$1.pid")
    kill -TERM "$pid"
    reap "$pid" || true
    rm -f "$TMP/$1.pid"
}

# netns_pair NS1 NS2 SUBNET: two network namespaces this test makes,
# joined by a veth pair named nc-veth on both sides, with SUBNET.1 and
# SUBNET.2 (a /24), the only addresses configured.
netns_pair() {
    ip netns add "$1"
    ip netns add "$2"
    ip -n "$1" link add nc-veth type veth peer name nc-veth netns "$2"
    ip -n "$1" addr add "$3.1/24" dev nc-veth
    ip -n "$2" addr add "$3.2/24" dev nc-veth
    for n in "$1" "$2"; do ip -n "$n" link set lo up; ip -n "$n" link set nc-veth up; done
}
