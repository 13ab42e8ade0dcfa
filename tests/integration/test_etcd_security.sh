# etcd with user/password auth, then etcd over TLS with client
# certificates: novacrond connects with --etcd-user/--etcd-password and
# with --etcd-cacert/--etcd-cert/--etcd-key, and converges a VM either way.
# lane: light
. "$(dirname "$0")/lib.sh"

ec user add root:s3cret >/dev/null
ec role add root >/dev/null
ec user grant-role root root >/dev/null
ec auth enable >/dev/null
ec get /x >/dev/null 2>&1 && fail "etcd auth is not enabled"
rc=0
NOVACRON_ETCD_PASSWORD=wrong timeout 20 "$NOVACROND" --etcd "$ETCD" --etcd-user root --run-dir "$RUN_DIR" \
    --listen off >"$TMP/wrong.log" 2>&1 || rc=$?
[ "$rc" -eq 1 ] || fail "a wrong password: exit status $rc, want 1 at once"
grep -q "authentication as \"root\" failed" "$TMP/wrong.log" || fail "unclear error: $(cat "$TMP/wrong.log")"
ok "a wrong etcd password stops novacrond with a clear error"

NOVACRON_ETCD_PASSWORD=s3cret start_novacrond --etcd-user root
ec() { etcdctl --endpoints "$ETCD" --user root:s3cret "$@"; }
put_vm default auth-1 '{"vcpus":1,"memory":"64MiB"}'
wait_for 15 "a VM through an authenticated etcd" converged default vm auth-1 Running
stop_novacrond
ok "user/password auth: converged"

# TLS with client certificates.
use_tls_etcd

rc=0
timeout 20 "$NOVACROND" --etcd "$ETCD" --run-dir "$RUN_DIR" --listen off >"$TMP/notls.log" 2>&1 || rc=$?
[ "$rc" -eq 1 ] || fail "no certificates: exit status $rc, want 1 at once"
ok "without certificates novacrond refuses to start: $(grep -o 'etcd: .*' "$TMP/notls.log" | head -1)"

# shellcheck disable=SC2086
start_novacrond $ETCD_TLS_FLAGS
put_vm default tls-1 '{"vcpus":1,"memory":"64MiB"}'
wait_for 15 "a VM through etcd over TLS" converged default vm tls-1 Running
stop_novacrond
ok "TLS with client certificates: converged"
