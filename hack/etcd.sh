#!/bin/sh
# Starts or stops a throwaway etcd, of one member or a cluster of several,
# on free loopback ports with its data in a directory of its own.
#
#   hack/etcd.sh start DIR [N]  start etcd with N members (default 1); prints
#                               the client URLs, comma-separated (the form
#                               novacrond's and novactl's --etcd take), also
#                               written to DIR/endpoint
#   hack/etcd.sh stop DIR       stop every member and keep DIR
#
# One member keeps its data in DIR/data. A cluster's members live in
# DIR/m1 ... DIR/mN, each laid out like a one-member DIR (data, pid,
# endpoint), and each can be stopped and started alone the same way:
#
#   hack/etcd.sh stop DIR/m2; hack/etcd.sh start DIR/m2
#
# ETCD_EXTRA_FLAGS is added to each member's command line (a benchmark
# that profiles etcd passes --enable-pprof).
#
# A DIR (or member) that was started before starts again with its data and
# its ports: the tests restart etcd under a running controller, which
# reconnects to the same URLs, and a member rejoins its cluster.
#
# With ETCD_TLS_DIR set (holding ca.pem, server.pem and server-key.pem),
# etcd serves https and requires client certificates signed by that CA;
# with ETCD_TLS_CLIENT_AUTH=0 too, it requires none (clients then log in
# with a password: etcd's HTTP gateway does not take a certificate's name
# as the user when auth is on). Members talk to each other over plain http
# on loopback.
set -eu

free_port() {
    "$(dirname "$0")/free-port"
}

# Writes a member's settings into MDIR (name, client URL, peer port, the
# cluster it is born into, TLS flags), unless it has them already.
configure() { # MDIR NAME CLIENT-URL PEER-PORT INITIAL-CLUSTER
    mkdir -p "$1"
    [ -f "$1/endpoint" ] && return 0
    tls=""
    if [ -n "${ETCD_TLS_DIR:-}" ] && [ "${ETCD_TLS_CLIENT_AUTH:-1}" = 0 ]; then
        tls="--cert-file $ETCD_TLS_DIR/server.pem --key-file $ETCD_TLS_DIR/server-key.pem"
    elif [ -n "${ETCD_TLS_DIR:-}" ]; then
        tls="--cert-file $ETCD_TLS_DIR/server.pem --key-file $ETCD_TLS_DIR/server-key.pem"
        tls="$tls --trusted-ca-file $ETCD_TLS_DIR/ca.pem --client-cert-auth"
    fi
    echo "$2" >"$1/name"
    echo "$4" >"$1/peer"
    echo "$5" >"$1/cluster"
    echo "$tls" >"$1/tls"
    echo "$3" >"$1/endpoint"
}

# Whether the process in PIDFILE runs (a zombie does not: a member killed
# under a parent that is gone may never be reaped here).
alive() { # PIDFILE
    [ -f "$1" ] && ps -o stat= -p "$(cat "$1")" 2>/dev/null | grep -qv '^Z'
}

client_url() {
    scheme=http
    [ -n "${ETCD_TLS_DIR:-}" ] && scheme=https
    echo "$scheme://127.0.0.1:$(free_port)"
}

launch() { # MDIR: start the member configured there, in the background
    pport=$(cat "$1/peer")
    client=$(cat "$1/endpoint")
    # shellcheck disable=SC2046
    etcd $(cat "$1/tls") --name "$(cat "$1/name")" --data-dir "$1/data" \
        --listen-client-urls "$client" --advertise-client-urls "$client" \
        --listen-peer-urls "http://127.0.0.1:$pport" \
        --initial-advertise-peer-urls "http://127.0.0.1:$pport" \
        --initial-cluster "$(cat "$1/cluster")" \
        --log-level error ${ETCD_EXTRA_FLAGS:-} >>"$1/etcd.log" 2>&1 &
    echo $! >"$1/pid"
}

# Waits until the member in MDIR answers with a leader known.
await() { # MDIR
    client=$(cat "$1/endpoint")
    probe=""
    if [ -n "${ETCD_TLS_DIR:-}" ]; then
        probe="--cacert $ETCD_TLS_DIR/ca.pem"
        [ "${ETCD_TLS_CLIENT_AUTH:-1}" = 0 ] ||
            probe="$probe --cert $ETCD_TLS_DIR/client.pem --key $ETCD_TLS_DIR/client-key.pem"
    fi
    for _ in $(seq 1 150); do
        # shellcheck disable=SC2086
        if curl -sf $probe "$client/health" 2>/dev/null | grep -q '"health":"true"'; then
            return 0
        fi
        alive "$1/pid" || break
        sleep 0.1
    done
    echo "etcd ($1) did not start; its log:" >&2
    cat "$1/etcd.log" >&2
    return 1
}

stop_member() { # MDIR
    [ -f "$1/pid" ] || return 0
    pid=$(cat "$1/pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
        alive "$1/pid" || break
        sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$1/pid"
}

cmd=${1:-}
dir=${2:-}
n=${3:-1}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop DIR [MEMBERS]" >&2; exit 2; }

case "$cmd" in
start)
    mkdir -p "$dir"
    if [ -f "$dir/members" ]; then
        :
    elif [ "$n" -gt 1 ] && [ ! -f "$dir/endpoint" ]; then
        cluster="" clients=""
        for i in $(seq 1 "$n"); do
            pport=$(free_port)
            cluster="${cluster:+$cluster,}nc-test-$i=http://127.0.0.1:$pport"
            echo "$pport" >"$dir/.peer$i"
        done
        for i in $(seq 1 "$n"); do
            configure "$dir/m$i" "nc-test-$i" "$(client_url)" "$(cat "$dir/.peer$i")" "$cluster"
            rm -f "$dir/.peer$i"
            clients="${clients:+$clients,}$(cat "$dir/m$i/endpoint")"
            echo "$dir/m$i" >>"$dir/members"
        done
        echo "$clients" >"$dir/endpoint"
    else
        pport=$(free_port)
        configure "$dir" nc-test "$(client_url)" "$pport" "nc-test=http://127.0.0.1:$pport"
    fi
    members=$dir
    [ -f "$dir/members" ] && members=$(cat "$dir/members")
    for m in $members; do
        alive "$m/pid" && continue
        launch "$m"
    done
    for m in $members; do
        await "$m" || exit 1
    done
    cat "$dir/endpoint"
    ;;
stop)
    if [ -f "$dir/members" ]; then
        for m in $(cat "$dir/members"); do stop_member "$m"; done
    else
        stop_member "$dir"
    fi
    ;;
*)
    echo "usage: $0 start|stop DIR [MEMBERS]" >&2
    exit 2
    ;;
esac
