#!/bin/sh
# /metrics with N domains on the test driver (tests/bench/run.sh calls it
# once the N VMs converged): novacrond's scrape, 5 times, as the server
# times the VM metrics (one virConnectGetAllDomainStats and the text) and
# as curl times the whole answer; against `virsh domstats` of N domains of
# virsh's own on test:///default (which is private to each process), timed
# by virsh -t. Prints figures only.
set -eu
url=$1 n=$2
dir=$(mktemp -d /tmp/nc-scrape.XXXXXX)
trap 'rm -rf "$dir"' EXIT
ours= total=
for i in 1 2 3 4 5; do
    t=$(curl -sf -o "$dir/m" -w '%{time_total}' "$url")
    d=$(awk '/^novacron_vm_stats_duration_seconds/ { print $2 }' "$dir/m")
    ours="$ours $d" total="$total $t"
done
seen=$(grep -c '^novacron_vm_info{' "$dir/m" || true)
bytes=$(wc -c <"$dir/m")
printf '<domain type="test"><name>NAME</name><memory unit="MiB">64</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain>\n' >"$dir/t.xml"
# One virsh process reads the commands from its standard input (its
# command line would be too long for 10,000 of them).
for i in $(seq 1 "$n"); do
    sed "s/NAME/floor-$i/" "$dir/t.xml" >"$dir/d$i.xml"
    echo "create $dir/d$i.xml"
done >"$dir/cmds"
printf 'domstats --raw\n%.0s' 1 2 3 >>"$dir/cmds"
# The last three timings are the domstats ones.
floor=$(virsh -q -c test:///default -t <"$dir/cmds" 2>&1 | sed -n 's/^(Time: \([0-9.]*\) ms)$/\1/p' | tail -n 3 | tr '\n' ' ')
median() { printf '%s\n' $1 | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
printf '  /metrics with %s domains (%s VM series, %s bytes):\n' "$n" "$seen" "$bytes"
awk -v o="$(median "$ours")" -v t="$(median "$total")" -v f="$(median "$floor")" 'BEGIN {
    printf "    %-42s %9.2f ms\n", "VM metrics, server side (median of 5)", o * 1000
    printf "    %-42s %9.2f ms\n", "whole scrape, curl (median of 5)", t * 1000
    printf "    %-42s %9.2f ms\n", "virsh domstats, same count (floor)", f
    if (f > 0) printf "    %-42s %9.2fx\n", "ratio of the VM metrics to the floor", o * 1000 / f }'
