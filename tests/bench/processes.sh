#!/bin/bash
# Process runtime figures for `make bench`: BENCH_PROC_N processes (100,
# each `busybox sleep`) applied at once with novactl, until every status
# says Running; against the floor of starting the same number of the same
# containers by hand, one `virsh -c lxc:///system create` of the same XML
# after the other, in the same run; then the deletion of them all.
# Prints figures only.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
export NOVACROND=${NOVACROND:-$top/build/novacrond}
export NOVACTL=${NOVACTL:-$top/build/novactl}
export N=${BENCH_PROC_N:-100}

cat >"$top/tests/integration/.bench_processes.sh" <<'INNER'
. "$(dirname "$0")/lib.sh"
now() { echo "${EPOCHREALTIME/./}"; } # microseconds, without a fork of date
ms() { echo $((($2 - $1) / 1000)); }
RUN=$RUN_DIR
EXEC=/run/nc-bench-$$-bin
on_cleanup 'for d in $($VIRSH_LXC list --name | grep "^nc-bench-raw-"); do $VIRSH_LXC destroy "$d" >/dev/null 2>&1; done; rm -rf '"$EXEC"
PREFIX="/nc-bench-$$/"
on_cleanup remove_test_domains
"$HACK/libvirtd.sh"
mkdir -p "$EXEC"
chmod 755 "$EXEC"
cp /usr/bin/busybox "$EXEC/busybox"
start_novacrond --libvirt qemu:///system --exec-dir "$EXEC" --workers 4 \
    --cpu-overcommit 100 --log-level warn
echo "process runtime (lxc:///system), $N processes, 4 workers, $(nproc) cores"

for i in $(seq 1 "$N"); do
    printf '{"apiVersion":"novacron.io/v1","kind":"VirtualMachine","metadata":{"name":"p%s","namespace":"bench"},"spec":{"runtime":"process","vcpus":1,"memory":"32MiB","command":["%s/busybox","sleep","100000"]}}\n' \
        "$i" "$EXEC"
done >"$TMP/all.json"
t0=$(now)
"$NOVACTL" --etcd "$ETCD" --prefix "$PREFIX" apply -f "$TMP/all.json" >/dev/null
t1=$(now)
wait_all_running bench "$N" 300
t2=$(now)
[ "$(test_domains "$VIRSH_LXC" | wc -l)" -eq "$N" ] || fail "$(test_domains "$VIRSH_LXC" | wc -l) domains for $N processes"
ctl=$(ms "$t0" "$t2")

# The floor: the same containers by hand, each with its own folder.
d=$(status_of bench vm p1 | jq -r .domain.name)
dir=$(dirname "$(status_of bench vm p1 | jq -r .process.log)")
$VIRSH_LXC dumpxml "$d" | sed -e '/<uuid>/d' -e '/<metadata>/,/<\/metadata>/d' \
    -e '/<interface/,/<\/interface>/d' >"$TMP/raw.xml"
for i in $(seq 1 "$N"); do
    mkdir -p "$RUN/raw-$i/tmp"
    chown 65534:65534 "$RUN/raw-$i/tmp"
    sed -e "s|<name>$d</name>|<name>nc-bench-raw-$i</name>|" -e "s|$dir|$RUN/raw-$i|g" \
        "$TMP/raw.xml" >"$TMP/raw-$i.xml"
done
t3=$(now)
for i in $(seq 1 "$N"); do $VIRSH_LXC create "$TMP/raw-$i.xml" >/dev/null; done
t4=$(now)
raw=$(ms "$t3" "$t4")
[ "$($VIRSH_LXC list --name | grep -c '^nc-bench-raw-')" -eq "$N" ] || fail "not every raw container runs"
t5=$(now)
for i in $(seq 1 "$N"); do $VIRSH_LXC destroy "nc-bench-raw-$i" >/dev/null; done
t6=$(now)

t7=$(now)
"$NOVACTL" --etcd "$ETCD" --prefix "$PREFIX" delete -f "$TMP/all.json" --wait --timeout 300s >/dev/null
t8=$(now)
[ -z "$(test_domains "$VIRSH_LXC")" ] || fail "domains left after the deletion"
printf '  put -> %d processes Running: %6d ms (%.1f/s) | %d virsh create in a row: %6d ms (%.1f/s) | ratio %.2f\n' \
    "$N" "$ctl" "$(echo "$N * 1000 / $ctl" | bc -l)" "$N" "$raw" "$(echo "$N * 1000 / $raw" | bc -l)" \
    "$(echo "$ctl / $raw" | bc -l)"
printf '  delete --wait of %d processes:  %6d ms | %d virsh destroy in a row: %6d ms | ratio %.2f\n' \
    "$N" "$(ms "$t7" "$t8")" "$N" "$(ms "$t5" "$t6")" "$(echo "$(ms "$t7" "$t8") / $(ms "$t5" "$t6")" | bc -l)"
stop_novacrond
INNER
trap 'rm -f "$top/tests/integration/.bench_processes.sh"' EXIT
bash "$top/tests/integration/.bench_processes.sh" | grep -v '^ok '
