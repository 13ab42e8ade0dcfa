#!/bin/bash
# Volume figures for `make bench`, on qemu:///system's directory pool:
# BENCH_VOL_BLANK blank 64MiB qcow2 volumes (200) and BENCH_VOL_CLONES
# copy-on-write clones of an image (50), applied with novactl, until every
# one is Ready; against one virsh session creating the same volumes with
# vol-create-as (vol-create with the same XML for the clones), measured in
# the same run. Prints figures only.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
export NOVACROND=${NOVACROND:-$top/build/novacrond}
export NOVACTL=${NOVACTL:-$top/build/novactl}
export BLANK=${BENCH_VOL_BLANK:-200} CLONES=${BENCH_VOL_CLONES:-50}

cat >"$top/tests/integration/.bench_volumes.sh" <<'INNER'
. "$(dirname "$0")/lib.sh"
use_qemu
NS=bench$$
now() { date +%s%N; }
ms() { echo $(( ($2 - $1) / 1000000 )); }
mkdir -p "$TMP/images"
cp --sparse=always "$GUEST/disk.img" "$TMP/images/base.img"
chmod 755 "$TMP" "$TMP/images"
chmod 644 "$TMP/images/base.img"
ours() { $VIRSH vol-list default | awk '{print $1}' | grep -E "\.$NS\.|^$NS-" || true; }
cleanup_vols() { for v in $(ours); do $VIRSH vol-delete --pool default "$v" >/dev/null 2>&1 || true; done; }
on_cleanup cleanup_vols

# The floor: one virsh session, the same volumes.
{
    for i in $(seq 1 "$BLANK"); do echo "vol-create-as default $NS-b$i 64M --format qcow2;"; done
    # vol-create-as takes only a pool volume as backing: the clones' XML.
    for i in $(seq 1 "$CLONES"); do
        printf "<volume><name>%s</name><capacity unit='bytes'>134217728</capacity><allocation>0</allocation><target><format type='qcow2'/></target><backingStore><path>%s</path><format type='raw'/></backingStore></volume>" \
            "$NS-c$i" "$TMP/images/base.img" >"$TMP/c$i.xml"
        echo "vol-create default $TMP/c$i.xml;"
    done
} >"$TMP/virsh.cmds"
t0=$(now)
$VIRSH "$(cat "$TMP/virsh.cmds")" >/dev/null
t1=$(now)
floor=$(ms "$t0" "$t1")
[ "$(ours | grep -c "^$NS-")" -eq $((BLANK + CLONES)) ] || fail "virsh made $(ours | grep -c "^$NS-") volumes"
cleanup_vols

start_novacrond --libvirt qemu:///system --force-tcg --workers 4 --image-dir "$TMP/images" --log-level warn
{
    for i in $(seq 1 "$BLANK"); do
        printf '{"apiVersion":"novacron.io/v1","kind":"Volume","metadata":{"name":"b%s","namespace":"%s"},"spec":{"size":"64MiB"}}\n' "$i" "$NS"
    done
    for i in $(seq 1 "$CLONES"); do
        printf '{"apiVersion":"novacron.io/v1","kind":"Volume","metadata":{"name":"c%s","namespace":"%s"},"spec":{"size":"128MiB","source":{"image":"%s"}}}\n' "$i" "$NS" "$TMP/images/base.img"
    done
} >"$TMP/volumes.json"
ready_count() {
    ec get "${PREFIX}status/$NS/volume/" --prefix --print-value-only |
        jq -s '[.[] | select(.phase == "Ready")] | length'
}
t0=$(now)
"$NOVACTL" --etcd "$ETCD" --prefix "$PREFIX" apply -f "$TMP/volumes.json" >/dev/null
t1=$(now)
until [ "$(ready_count)" -eq $((BLANK + CLONES)) ]; do sleep 0.05; done
t2=$(now)
total=$(ms "$t0" "$t2")
[ "$(ours | grep -c "\.$NS\.")" -eq $((BLANK + CLONES)) ] || fail "novacrond made $(ours | grep -c "\.$NS\.") volumes"
printf 'volumes: %s blank 64MiB qcow2 + %s clones of a raw image, directory pool, 4 workers\n' "$BLANK" "$CLONES"
printf '  virsh vol-create(-as), one session: %6d ms\n' "$floor"
printf '  novactl apply -> all Ready:          %6d ms (apply itself %d ms)\n' "$total" "$(ms "$t0" "$t1")"
awk -v a="$total" -v b="$floor" 'BEGIN { printf "  ratio to the floor:                  %6.2fx\n", a / b }'
t0=$(now)
ec del --prefix "${PREFIX}spec/$NS/" >/dev/null
until [ -z "$(ec get "${PREFIX}status/$NS/" --prefix --keys-only)" ]; do sleep 0.05; done
printf '  one delete of all specs -> all gone: %6d ms\n' "$(ms "$t0" "$(now)")"
[ -z "$(ours)" ] || fail "volumes left: $(ours | head)"
INNER
trap 'rm -f "$top/tests/integration/.bench_volumes.sh"' EXIT
bash "$top/tests/integration/.bench_volumes.sh" | grep -v '^ok '
