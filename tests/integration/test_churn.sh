# kill -9 of novacrond at random instants while specs are created, changed
# and deleted, on qemu:///system. After the last restart: every spec has
# exactly one domain, with the spec's memory; every deleted spec has none;
# a restart of libvirtd under the churn changes none of that;
# an unmarked domain defined beforehand is untouched; and once every spec
# is deleted nothing is left: no domain, no status, no console log.
# CHURN_N specs and CHURN_KILLS kills (defaults 8 and 2; make bench uses
# 120 and 6). A few run a real guest; the others are defined and Stopped,
# which exercises the same define/update/undefine paths without booting.
. "$(dirname "$0")/lib.sh"
use_qemu

N=${CHURN_N:-8}
KILLS=${CHURN_KILLS:-2}
RUNNING=${CHURN_RUNNING:-2}
# Room for every spec's vCPU (each has 1), defined ones as running ones,
# on however many CPUs this machine has: the scheduler places no more.
overcommit=$(( (N + $(nproc) - 1) / $(nproc) ))
[ "$overcommit" -ge 4 ] || overcommit=4
mems="64MiB 96MiB 128MiB"

# An unmarked domain NovaCron must never touch.
foreign="nctest-unmarked-$$"
sed "s|<name>.*</name>|<name>$foreign</name>|" >"$TMP/foreign.xml" <<XML
<domain type='qemu'><name>x</name><memory unit='MiB'>32</memory><vcpu>1</vcpu>
<os><type arch='x86_64'>hvm</type></os></domain>
XML
$VIRSH define "$TMP/foreign.xml" >/dev/null
on_cleanup "$VIRSH undefine $foreign >/dev/null 2>&1"
foreign_uuid=$($VIRSH domuuid "$foreign")

pick() { # a random word of "$@"
    shift $(( $(shuf -i 0-$(($# - 1)) -n 1) ))
    echo "$1"
}

spec_for() { # INDEX MEMORY
    if [ "$1" -le "$RUNNING" ]; then
        guest_spec Running 2 "" "$2"
    else
        guest_spec Stopped 2 "" "$2"
    fi
}

# One random change: create or change (memory), or delete.
churn_once() {
    i=$(shuf -i 1-"$N" -n 1)
    if [ "$(shuf -i 1-4 -n 1)" -eq 1 ]; then
        ec del "${PREFIX}spec/default/vm/c-$i" >/dev/null
    else
        put_vm default "c-$i" "$(spec_for "$i" "$(pick $mems)")"
    fi
}

for i in $(seq 1 "$N"); do put_vm default "c-$i" "$(spec_for "$i" 64MiB)"; done
start_novacrond --libvirt qemu:///system --force-tcg --workers 4 --cpu-overcommit "$overcommit"

for k in $(seq 1 "$KILLS"); do
    end=$(($(date +%s%N) / 1000000 + $(shuf -i 300-2500 -n 1)))
    while [ $(($(date +%s%N) / 1000000)) -lt "$end" ]; do churn_once; done
    kill9_novacrond
    churn_once
    start_novacrond --libvirt qemu:///system --force-tcg --workers 4 --cpu-overcommit "$overcommit"
done
# libvirtd restarted in the middle of the churn, under a running novacrond
# (its guests keep running): novacrond reconnects and carries on.
churn_for() { # MS
    end=$(($(date +%s%N) / 1000000 + $1))
    while [ $(($(date +%s%N) / 1000000)) -lt "$end" ]; do churn_once; done
}
churn_for 800
"$HACK/libvirtd.sh" restart
churn_for 800
t0=$(date +%s%N)

# Convergence: every spec converged, no status without a spec, and the
# domains are exactly the specs' domains.
settled() {
    specs=$(ec get "${PREFIX}spec/" --prefix --keys-only | grep . | sed "s|^${PREFIX}spec/||" | sort)
    statuses=$(ec get "${PREFIX}status/" --prefix --keys-only | grep . | sed "s|^${PREFIX}status/||" | sort)
    [ "$specs" = "$statuses" ] || return 1
    for k in $specs; do converged default vm "${k##*/}" || return 1; done
    [ "$(test_domains | wc -l)" -eq "$(echo "$specs" | grep -c .)" ]
}
wait_for 300 "convergence after the last kill -9" settled
secs=$(( ($(date +%s%N) - t0) / 1000000 ))

specs=$(ec get "${PREFIX}spec/" --prefix --keys-only | grep . | sed "s|^${PREFIX}spec/default/vm/||")
dups=0
wrong=0
doms=$(test_domains)
for n in $specs; do
    d=$(domain_of default "$n")
    want=$(ec get "${PREFIX}spec/default/vm/$n" --print-value-only | jq -r .spec.memory)
    have=$($VIRSH dominfo "$d" | awk '/^Max memory/ { print $3 / 1024 "MiB" }')
    [ "$want" = "$have" ] || { echo "  $n: spec $want, domain $have" >&2; wrong=$((wrong + 1)); }
    c=$(echo "$doms" | grep -c "\.$n\$" || true)
    [ "$c" -eq 1 ] || dups=$((dups + 1))
done
orphans=$(( $(echo "$doms" | grep -c .) - $(echo "$specs" | grep -c .) ))
[ "$wrong" -eq 0 ] || fail "$wrong domains do not have their spec's memory"
[ "$dups" -eq 0 ] || fail "$dups specs do not have exactly one domain"
[ "$orphans" -eq 0 ] || fail "$orphans domains without a spec"
[ "$($VIRSH domuuid "$foreign")" = "$foreign_uuid" ] || fail "the unmarked domain was touched"
[ "$(domstate "$foreign")" = "shut off" ] || fail "the unmarked domain is $(domstate "$foreign")"
ok "N=$N, $KILLS kills ($LIBVIRTD_CRASHES libvirtd crashes on a killed client), then libvirtd restarted under the churn: converged ${secs} ms after the last change; $(echo "$specs" | grep -c .) specs, 0 orphans, 0 duplicates, memory as specified, the unmarked domain untouched"

# Everything deleted: nothing left behind.
ec del "${PREFIX}spec/" --prefix >/dev/null
gone() {
    [ "$(count_keys "${PREFIX}status/")" -eq 0 ] && [ -z "$(test_domains)" ]
}
wait_for 120 "everything removed" gone
hash=$(echo "$doms" | head -n 1 | cut -d. -f1)
logs=$(ls /var/log/novacron 2>/dev/null | grep -c "^$hash\.default\.c-" || true)
[ "$logs" -eq 0 ] || fail "$logs console logs left behind"
ok "after deleting every spec: no domain, no status, no console log left"
stop_novacrond || fail "SIGTERM: exit status $?"
