# Per-VM metrics in a real Prometheus (Debian's, on a loopback port, run
# by this test): it scrapes novacrond every second, and its HTTP API shows
# the series of a real TCG guest that writes to its disk, with the disk
# named as in the spec and the write counter rising; promtool check
# metrics passes on /metrics, promtool check rules and test rules on
# manifests/monitoring/.
. "$(dirname "$0")/lib.sh"
TOP=$(cd "$(dirname "$0")/../.." && pwd)
use_qemu
NS=mt$$
use_test_volumes
start_novacrond --libvirt qemu:///system --force-tcg --workers 2

# The alerting rules and the scrape configuration people are given.
promtool check rules "$TOP/manifests/monitoring/rules.yml" >/dev/null || fail "promtool check rules"
(cd "$TOP/manifests/monitoring" && promtool check config prometheus.yml >/dev/null) || fail "promtool check config"
(cd "$TOP/tests/monitoring" && promtool test rules rules_test.yml >"$TMP/rules.out" 2>&1) ||
    fail "promtool test rules: $(cat "$TMP/rules.out")"
ok "manifests/monitoring: promtool check rules, check config, and test rules (every alert fires when it should)"

put volume wd '{"size":"16MiB"}'
put vm w "$(guest_spec Running 2 novacron.diskload 128MiB | jq -c '. + {disks: [{name: "data", volume: "wd"}]}')"
wait_for 60 "w Running" converged "$NS" vm w Running
log=$(status_of "$NS" vm w | jq -r .consoleLog)
wait_for 60 "the guest writing" grep -aq NOVACRON-GUEST-WRITING "$log"

curl -sf "http://127.0.0.1:$LISTEN_PORT/metrics" >"$TMP/metrics" || fail "no /metrics"
promtool check metrics <"$TMP/metrics" >"$TMP/lint" 2>&1 || fail "promtool check metrics: $(cat "$TMP/lint")"
for m in novacron_vm_info novacron_vm_ready novacron_vm_vcpus novacron_vm_cpu_seconds_total \
    novacron_vm_memory_actual_bytes novacron_vm_disk_write_bytes_total novacron_vm_disk_read_requests_total \
    novacron_node_domains novacron_node_allocatable_vcpus novacron_node_registered; do
    grep -q "^$m{" "$TMP/metrics" || fail "/metrics has no $m"
done
grep -q "^novacron_vm_disk_write_bytes_total{namespace=\"$NS\",name=\"w\",node=\"node-a\",disk=\"data\"} " "$TMP/metrics" ||
    fail "no write counter for disk data: $(grep disk_write "$TMP/metrics")"
grep -q "^novacron_vm_memory_max_bytes{namespace=\"$NS\",name=\"w\",node=\"node-a\"} 134217728$" "$TMP/metrics" ||
    fail "memory: $(grep "memory_max.*name=\"w\"" "$TMP/metrics")"
ok "/metrics: promtool check metrics passes; per-VM series labelled namespace, name, node and disk (data, as in the spec)"

# A real Prometheus scrapes it every second.
PROM_PORT=$(free_port)
cat >"$TMP/prometheus.yml" <<EOF
global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: novacron
    static_configs: [{targets: ["127.0.0.1:$LISTEN_PORT"]}]
EOF
prometheus --config.file="$TMP/prometheus.yml" --storage.tsdb.path="$TMP/prom" \
    --web.listen-address="127.0.0.1:$PROM_PORT" >"$TMP/prometheus.log" 2>&1 &
echo $! >"$TMP/prometheus.pid"
on_cleanup 'kill "$(cat "$TMP/prometheus.pid")" 2>/dev/null'
wait_for 30 "Prometheus ready" curl -sf "http://127.0.0.1:$PROM_PORT/-/ready"
query() { curl -sf "http://127.0.0.1:$PROM_PORT/api/v1/query" --data-urlencode "query=$1" | jq -r '.data.result[0].value[1] // empty'; }
series="novacron_vm_disk_write_bytes_total{namespace=\"$NS\",name=\"w\",disk=\"data\",job=\"novacron\"}"
has_series() { [ -n "$(query "$series")" ]; }
wait_for 30 "the write counter in Prometheus" has_series
first=$(query "$series")
rising() { awk -v a="$(query "$series")" -v b="$first" 'BEGIN { exit !(a > b) }'; }
wait_for 30 "the write counter rising" rising
rate_up() { awk -v r="$(query "rate(${series}[5s])")" 'BEGIN { exit !(r > 0) }'; }
wait_for 30 "a write rate above 0" rate_up
cpu=$(query "rate(novacron_vm_cpu_seconds_total{namespace=\"$NS\",name=\"w\"}[5s])")
awk -v c="$cpu" 'BEGIN { exit !(c > 0) }' || fail "no CPU rate: $cpu"
[ "$(query "novacron_vm_ready{namespace=\"$NS\",name=\"w\"}")" = 1 ] || fail "novacron_vm_ready is not 1"
ok "Prometheus scraped it: disk write bytes $first -> $(query "$series"), rate $(query "rate(${series}[5s])") B/s, CPU $cpu s/s, Ready 1"
