#!/bin/bash
# Real-guest figures for `make bench`, on qemu:///system with TCG:
#   - etcdctl put -> status Running, and -> the guest's marker on its
#     console, against `virsh start` of the same domain XML to the same
#     marker, measured in this run (the difference is the controller's
#     overhead);
#   - drift correction: virsh destroy returning -> the domain running again;
#   - kill -9 churn with CHURN_N specs and CHURN_KILLS kills (120 and 6).
# Prints figures only.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
export NOVACROND=${NOVACROND:-$top/build/novacrond}
ROUNDS=${BENCH_QEMU_ROUNDS:-3}

# The measuring part runs inside the integration test library, which starts
# and stops everything.
cat >"$top/tests/integration/.bench_qemu.sh" <<'INNER'
. "$(dirname "$0")/lib.sh"
use_qemu
start_novacrond --libvirt qemu:///system --force-tcg --workers 4
now() { echo $((${EPOCHREALTIME/./} * 1000)); } # ns, without a fork
ms() { echo $(( ($2 - $1) / 1000000 )); }
printf 'qemu:///system, TCG, tiny guest (%s rounds)\n' "$ROUNDS"
for r in $(seq 1 "$ROUNDS"); do
    n="boot-$r"
    spec=$(guest_spec Running 2)
    timed_until "${PREFIX}status/default/vm/$n" '"phase":"Running"' put_vm default "$n" "$spec"
    t1=$(now)
    t0=$((t1 - took * 1000000))
    log=$(jq -r .consoleLog <<<"$seen")
    until grep -aqs NOVACRON-GUEST-UP "$log"; do sleep 0.02; done
    t2=$(now)
    d=$(domain_of default "$n")

    # The same domain, by hand: another name, no owner mark, its own log.
    raw="nctest-raw-$$-$r"
    $VIRSH dumpxml --inactive "$d" |
        sed -e "s|<name>$d</name>|<name>$raw</name>|" -e '/<uuid>/d' \
            -e '/<metadata>/,/<\/metadata>/d' -e "s|$d.log|$raw.log|g" >"$TMP/raw.xml"
    $VIRSH define "$TMP/raw.xml" >/dev/null
    rm -f "/var/log/novacron/$raw.log"
    t3=$(now)
    $VIRSH start "$raw" >/dev/null
    t4=$(now)
    until grep -qs NOVACRON-GUEST-UP "/var/log/novacron/$raw.log"; do sleep 0.02; done
    t5=$(now)
    $VIRSH destroy "$raw" >/dev/null
    $VIRSH undefine "$raw" >/dev/null
    rm -f "/var/log/novacron/$raw.log"

    # Its start again, as libvirt's lifecycle events tell it: a poll of
    # virsh domstate would take CPU from the correction it times.
    coproc EVENTS { exec $VIRSH event --domain "$d" --event lifecycle --loop; }
    sleep 0.5 # listening before the destroy
    $VIRSH destroy "$d" >/dev/null
    t6=$(now)
    while read -r -t 60 line <&"${EVENTS[0]}" && [[ $line != *Started* ]]; do :; done
    t7=$(now)
    kill "$EVENTS_PID"
    wait "$EVENTS_PID" 2>/dev/null || true
    [[ $line == *Started* ]] || fail "$d was not started again within 60 s"
    printf '  round %d: put->Running %5d ms, put->marker %5d ms | virsh start->returned %5d ms, ->marker %5d ms | overhead to marker %+5d ms | drift corrected %4d ms after virsh destroy returned\n' \
        "$r" "$(ms "$t0" "$t1")" "$(ms "$t0" "$t2")" "$(ms "$t3" "$t4")" "$(ms "$t3" "$t5")" \
        $(( $(ms "$t0" "$t2") - $(ms "$t3" "$t5") )) "$(ms "$t6" "$t7")"
    # Gone before the next round: a guest shutting down meanwhile would
    # take CPU from the next one's boot, which its floor does not share.
    ec del "${PREFIX}spec/default/vm/$n" >/dev/null
    wait_for 60 "$n's domain gone" sh -c "! $VIRSH domstate $d"
done
stop_novacrond
INNER
trap 'rm -f "$top/tests/integration/.bench_qemu.sh"' EXIT
"$top/hack/deps.sh"
ROUNDS=$ROUNDS bash "$top/tests/integration/.bench_qemu.sh" | grep -v '^ok '
echo "kill -9 churn:"
CHURN_N=${CHURN_N:-120} CHURN_KILLS=${CHURN_KILLS:-6} bash "$top/tests/integration/test_churn.sh" |
    sed 's/^ok   test_churn: /  /'
