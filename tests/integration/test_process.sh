# The process: --help, bad flags, environment variables, the HTTP endpoint,
# sd_notify (READY, STATUS, WATCHDOG, STOPPING) and SIGTERM.
# lane: light
. "$(dirname "$0")/lib.sh"

"$NOVACROND" --help | grep -q -- "--etcd URL" || fail "--help does not list --etcd"
for f in etcd prefix node libvirt listen workers resync underlay netns etcd-cacert \
    etcd-cert etcd-key etcd-user etcd-password gc-orphans shutdown-timeout log-level \
    force-tcg console-dir; do
    "$NOVACROND" --help | grep -q -- "--$f" || fail "--help does not list --$f"
done
ok "--help lists every flag"

for bad in "--workers 0" "--workers many" "--resync soon" "--prefix novacron" \
    "--node Bad_Node" "--etcd ftp://x" "--log-level loud" "--bogus" "extra"; do
    rc=0
    # shellcheck disable=SC2086
    err=$("$NOVACROND" $bad 2>&1) || rc=$?
    [ "$rc" -eq 2 ] || fail "'$bad' exited $rc, want 2"
    [ -n "$err" ] || fail "'$bad' printed no reason"
done
ok "bad flags exit 2 with a reason"

# sd_notify: a datagram socket standing in for systemd.
python3 - "$TMP/notify.sock" "$TMP/notify.log" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as log:
    while True:
        msg = s.recv(4096).decode()
        log.write(msg.replace("\n", " ") + "\n")
        if "STOPPING=1" in msg:
            break
PY
listener=$!
wait_for 5 "notify socket" test -S "$TMP/notify.sock"

# Settings from the environment: another prefix.
NOTIFY_SOCKET="$TMP/notify.sock" WATCHDOG_USEC=300000 NOVACRON_PREFIX=/other/ \
    start_novacrond --workers 1
PREFIX=/other/
put_vm default env-1 '{"vcpus":1,"memory":"64MiB"}'
wait_for 15 "a VM under the prefix from NOVACRON_PREFIX" converged default vm env-1 Running
ok "NOVACRON_PREFIX is honoured"

curl -sf "http://127.0.0.1:$LISTEN_PORT/healthz" | grep -q ok || fail "/healthz"
curl -sf "http://127.0.0.1:$LISTEN_PORT/readyz" | grep -q ready || fail "/readyz"
m=$(curl -sf "http://127.0.0.1:$LISTEN_PORT/metrics")
for want in 'novacron_queue_depth 0' 'novacron_reconciles_total{kind="vm",result="success"}' \
    'novacron_reconcile_duration_seconds_bucket{kind="vm",le="+Inf"}' \
    'novacron_etcd_errors_total' 'novacron_watch_restarts_total' 'novacron_ready 1'; do
    echo "$m" | grep -qF "$want" || fail "/metrics lacks $want"
done
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$LISTEN_PORT/nope")" = 404 ] ||
    fail "unknown path is not 404"
ok "/healthz, /readyz and /metrics answer"

sleep 1
stop_novacrond || fail "SIGTERM: exit status $?"
wait "$listener"
grep -q "READY=1" "$TMP/notify.log" || fail "no READY=1"
grep -q "STATUS=" "$TMP/notify.log" || fail "no STATUS="
grep -q "WATCHDOG=1" "$TMP/notify.log" || fail "no WATCHDOG=1"
grep -q "STOPPING=1" "$TMP/notify.log" || fail "no STOPPING=1"
ok "sd_notify: $(cut -d= -f1 "$TMP/notify.log" | sort -u | tr '\n' ' ')"
ok "SIGTERM: exit status 0"
