#!/bin/sh
# Starts or stops a throwaway etcd on free loopback ports with its data in
# a directory of its own.
#
#   hack/etcd.sh start DIR   start etcd with data in DIR/data; prints the
#                            client URL, also written to DIR/endpoint
#   hack/etcd.sh stop DIR    stop it (DIR/pid) and keep DIR
#
# The same DIR can be started again after a stop: the data survives, which
# is how the tests restart etcd under a running controller.
#
# With ETCD_TLS_DIR set (holding ca.pem, server.pem and server-key.pem),
# etcd serves https and requires client certificates signed by that CA;
# with ETCD_TLS_CLIENT_AUTH=0 too, it requires none (clients then log in
# with a password: etcd's HTTP gateway does not take a certificate's name
# as the user when auth is on).
set -eu

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }

case "$cmd" in
start)
    mkdir -p "$dir"
    # A restart keeps the client port, so clients can reconnect to it.
    if [ -f "$dir/endpoint" ]; then
        client=$(cat "$dir/endpoint")
        cport=${client##*:}
    else
        cport=$(free_port)
        scheme=http
        [ -n "${ETCD_TLS_DIR:-}" ] && scheme=https
        client="$scheme://127.0.0.1:$cport"
    fi
    pport=$(free_port)
    set --
    if [ -n "${ETCD_TLS_DIR:-}" ] && [ "${ETCD_TLS_CLIENT_AUTH:-1}" = 0 ]; then
        set -- --cert-file "$ETCD_TLS_DIR/server.pem" --key-file "$ETCD_TLS_DIR/server-key.pem"
        probe="--cacert $ETCD_TLS_DIR/ca.pem"
    elif [ -n "${ETCD_TLS_DIR:-}" ]; then
        set -- --cert-file "$ETCD_TLS_DIR/server.pem" --key-file "$ETCD_TLS_DIR/server-key.pem" \
            --trusted-ca-file "$ETCD_TLS_DIR/ca.pem" --client-cert-auth
        probe="--cacert $ETCD_TLS_DIR/ca.pem --cert $ETCD_TLS_DIR/client.pem --key $ETCD_TLS_DIR/client-key.pem"
    fi
    etcd "$@" --name nc-test --data-dir "$dir/data" \
        --listen-client-urls "$client" --advertise-client-urls "$client" \
        --listen-peer-urls "http://127.0.0.1:$pport" \
        --initial-advertise-peer-urls "http://127.0.0.1:$pport" \
        --initial-cluster "nc-test=http://127.0.0.1:$pport" \
        --log-level error >"$dir/etcd.log" 2>&1 &
    echo $! >"$dir/pid"
    echo "$client" >"$dir/endpoint"
    for _ in $(seq 1 100); do
        # shellcheck disable=SC2086
        if curl -sf ${probe:-} -X POST -d '{}' "$client/v3/maintenance/status" >/dev/null 2>&1; then
            echo "$client"
            exit 0
        fi
        kill -0 "$(cat "$dir/pid")" 2>/dev/null || break
        sleep 0.1
    done
    echo "etcd did not start; its log:" >&2
    cat "$dir/etcd.log" >&2
    exit 1
    ;;
stop)
    [ -f "$dir/pid" ] || exit 0
    pid=$(cat "$dir/pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$dir/pid"
    ;;
*)
    echo "usage: $0 start|stop DIR" >&2
    exit 2
    ;;
esac
