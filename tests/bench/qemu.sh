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
now() { date +%s%N; }
ms() { echo $(( ($2 - $1) / 1000000 )); }
printf 'qemu:///system, TCG, tiny guest (%s rounds)\n' "$ROUNDS"
for r in $(seq 1 "$ROUNDS"); do
    n="boot-$r"
    t0=$(now)
    put_vm default "$n" "$(guest_spec Running 2)"
    until converged default vm "$n" Running; do sleep 0.02; done
    t1=$(now)
    until console_has default "$n" NOVACRON-GUEST-UP; do sleep 0.02; done
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

    $VIRSH destroy "$d" >/dev/null
    t6=$(now)
    until [ "$(domstate "$d")" = running ]; do sleep 0.01; done
    t7=$(now)
    printf '  round %d: put->Running %5d ms, put->marker %5d ms | virsh start->returned %5d ms, ->marker %5d ms | overhead to marker %+5d ms | drift corrected %4d ms after virsh destroy returned\n' \
        "$r" "$(ms "$t0" "$t1")" "$(ms "$t0" "$t2")" "$(ms "$t3" "$t4")" "$(ms "$t3" "$t5")" \
        $(( $(ms "$t0" "$t2") - $(ms "$t3" "$t5") )) "$(ms "$t6" "$t7")"
    ec del "${PREFIX}spec/default/vm/$n" >/dev/null
done
stop_novacrond
INNER
trap 'rm -f "$top/tests/integration/.bench_qemu.sh"' EXIT
"$top/hack/deps.sh"
ROUNDS=$ROUNDS bash "$top/tests/integration/.bench_qemu.sh" | grep -v '^ok '
echo "kill -9 churn:"
CHURN_N=${CHURN_N:-120} CHURN_KILLS=${CHURN_KILLS:-6} bash "$top/tests/integration/test_churn.sh" |
    sed 's/^ok   test_churn: /  /'
