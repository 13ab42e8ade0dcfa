#!/bin/bash
# Container runtime figures for `make bench`: BENCH_CTR_N containers (100,
# each `sleep` in the test image) applied at once with novactl, until every
# status says Running; against the floor of `podman run -d` of the same
# image and command through the same Podman service, one after the other,
# in the same run; then the deletion of them all against `podman rm -f -t 0`.
# Prints figures only.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
export NOVACROND=${NOVACROND:-$top/build/novacrond}
export NOVACTL=${NOVACTL:-$top/build/novactl}
export N=${BENCH_CTR_N:-100}

cat >"$top/tests/integration/.bench_containers.sh" <<'INNER'
. "$(dirname "$0")/lib.sh"
now() { echo "${EPOCHREALTIME/./}"; } # microseconds, without a fork of date
ms() { echo $((($2 - $1) / 1000)); }
IMAGE=localhost/novacron-busybox:latest
podman() { command podman --url unix:///run/podman/podman.sock "$@"; }
raw() { podman ps -a --filter label=nc-bench-raw --format '{{.Names}}'; }
ours() { podman ps -a --filter "label=novacron.io/prefix=$PREFIX" --format '{{.Names}}'; }
on_cleanup 'for c in $(raw) $(ours); do podman rm -f -t 0 "$c" >/dev/null 2>&1; done'
PREFIX="/nc-bench-$$/"
"$HACK/podman.sh"
start_novacrond --libvirt test:///default --podman-socket /run/podman/podman.sock --workers 4 \
    --cpu-overcommit 100 --memory-overcommit 10 --log-level warn
echo "container runtime (Podman $(podman version --format '{{.Server.Version}}')), $N containers, 4 workers, $(nproc) cores"

for i in $(seq 1 "$N"); do
    printf '{"apiVersion":"novacron.io/v1","kind":"VirtualMachine","metadata":{"name":"c%s","namespace":"bench"},"spec":{"runtime":"container","image":"%s","vcpus":1,"memory":"32MiB","command":["sleep","100000"]}}\n' \
        "$i" "$IMAGE"
done >"$TMP/all.json"
t0=$(now)
"$NOVACTL" --etcd "$ETCD" --prefix "$PREFIX" apply -f "$TMP/all.json" >/dev/null
wait_all_running bench "$N" 300
t1=$(now)
[ "$(ours | wc -l)" -eq "$N" ] || fail "$(ours | wc -l) containers for $N specs"
ctl=$(ms "$t0" "$t1")

# The floor: the same containers by hand, through the same service.
t2=$(now)
for i in $(seq 1 "$N"); do
    podman run -d --name "nc-bench-raw-$$-$i" --label nc-bench-raw --network none \
        --memory 32m --cpu-quota 100000 --cpu-period 100000 "$IMAGE" sleep 100000 >/dev/null
done
t3=$(now)
raw_ms=$(ms "$t2" "$t3")
t4=$(now)
for c in $(raw); do podman rm -f -t 0 "$c" >/dev/null; done
t5=$(now)

t6=$(now)
"$NOVACTL" --etcd "$ETCD" --prefix "$PREFIX" delete -f "$TMP/all.json" --wait --timeout 300s >/dev/null
t7=$(now)
[ -z "$(ours)" ] || fail "containers left after the deletion"
printf '  put -> %d containers Running: %6d ms (%.1f/s) | %d podman run -d in a row: %6d ms (%.1f/s) | ratio %.2f\n' \
    "$N" "$ctl" "$(echo "$N * 1000 / $ctl" | bc -l)" "$N" "$raw_ms" "$(echo "$N * 1000 / $raw_ms" | bc -l)" \
    "$(echo "$ctl / $raw_ms" | bc -l)"
printf '  delete --wait of %d containers:  %6d ms | %d podman rm -f -t 0 in a row:%6d ms | ratio %.2f\n' \
    "$N" "$(ms "$t6" "$t7")" "$N" "$(ms "$t4" "$t5")" "$(echo "$(ms "$t6" "$t7") / $(ms "$t4" "$t5")" | bc -l)"
stop_novacrond
INNER
trap 'rm -f "$top/tests/integration/.bench_containers.sh"' EXIT
bash "$top/tests/integration/.bench_containers.sh" | grep -v '^ok '
