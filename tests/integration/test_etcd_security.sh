# etcd with user/password auth, then etcd over TLS with client
# certificates: novacrond connects with --etcd-user/--etcd-password and
# with --etcd-cacert/--etcd-cert/--etcd-key, and converges a VM either way.
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

# TLS: a CA, a server certificate for 127.0.0.1 and a client certificate.
tls="$TMP/tls"
mkdir -p "$tls"
(
    cd "$tls"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca-key.pem -out ca.pem -days 1 \
        -subj /CN=nc-test-ca 2>/dev/null
    for who in server client; do
        openssl req -newkey rsa:2048 -nodes -keyout "$who-key.pem" -out "$who.csr" \
            -subj "/CN=$who" 2>/dev/null
        printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n' >"$who.ext"
        openssl x509 -req -in "$who.csr" -CA ca.pem -CAkey ca-key.pem -CAcreateserial \
            -out "$who.pem" -days 1 -extfile "$who.ext" 2>/dev/null
    done
)
"$HACK/etcd.sh" stop "$TMP/etcd"
ETCD=$(ETCD_TLS_DIR=$tls "$HACK/etcd.sh" start "$TMP/etcd-tls")
# lib.sh's cleanup stops $TMP/etcd; stop this one too.
# cleanup reads the test's exit status from $?: keep it across the stop.
trap 'st=$?; "$HACK/etcd.sh" stop "$TMP/etcd-tls"; (exit $st); cleanup' EXIT
case "$ETCD" in https://*) ;; *) fail "etcd does not serve https: $ETCD" ;; esac
ec() { etcdctl --endpoints "$ETCD" --cacert "$tls/ca.pem" --cert "$tls/client.pem" --key "$tls/client-key.pem" "$@"; }

rc=0
timeout 20 "$NOVACROND" --etcd "$ETCD" --run-dir "$RUN_DIR" --listen off >"$TMP/notls.log" 2>&1 || rc=$?
[ "$rc" -eq 1 ] || fail "no certificates: exit status $rc, want 1 at once"
ok "without certificates novacrond refuses to start: $(grep -o 'etcd: .*' "$TMP/notls.log" | head -1)"

start_novacrond --etcd-cacert "$tls/ca.pem" --etcd-cert "$tls/client.pem" --etcd-key "$tls/client-key.pem"
put_vm default tls-1 '{"vcpus":1,"memory":"64MiB"}'
wait_for 15 "a VM through etcd over TLS" converged default vm tls-1 Running
stop_novacrond
ok "TLS with client certificates: converged"
