#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/node.h"

struct nc_node {
    struct nc_etcd *etcd;
    char *key, *info;
    int64_t ttl_s;
    _Atomic int64_t lease;
    _Atomic bool lease_lost; /* expired once while this process ran */
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool stopping;
};

/* Takes up the lease of a registration left by this node's previous run,
 * when etcd still keeps it; else grants a new one. Then writes the
 * registration with it. */
static int
register_node(struct nc_node *n)
{
    struct nc_kv kv;
    int64_t lease = 0, ttl = 0;
    int r;

    r = nc_etcd_get(n->etcd, n->key, &kv, NULL);
    if (r == 0) {
        if (kv.lease && nc_etcd_lease_keepalive(n->etcd, kv.lease, &ttl) == 0 && ttl > 0)
            lease = kv.lease;
        nc_kv_clear(&kv);
    } else if (r != -ENOENT) {
        return r;
    }
    if (!lease && (r = nc_etcd_lease_grant(n->etcd, n->ttl_s, &lease)) < 0)
        return r;
    if ((r = nc_etcd_put(n->etcd, n->key, n->info, lease, NULL)) < 0)
        return r;
    atomic_store(&n->lease, lease);
    return 0;
}

static void *
keepalive_main(void *arg)
{
    struct nc_node *n = arg;

    pthread_mutex_lock(&n->lock);
    while (!n->stopping) {
        struct timespec at;
        int64_t ttl = 0, lease = atomic_load(&n->lease);
        int r;

        clock_gettime(CLOCK_REALTIME, &at);
        at.tv_sec += n->ttl_s / 3 > 0 ? n->ttl_s / 3 : 1;
        pthread_cond_timedwait(&n->cond, &n->lock, &at);
        if (n->stopping)
            break;
        pthread_mutex_unlock(&n->lock);
        r = lease ? nc_etcd_lease_keepalive(n->etcd, lease, &ttl) : -ENOENT;
        if (r == 0 && ttl == 0)
            r = -ENOENT;
        if (r < 0 && r != -EIO) {
            /* The lease is gone (expired while etcd was away): register
             * again; claims bound to the old lease are gone with it. */
            nc_warn(NULL, "node lease %lld lost; registering again", (long long)lease);
            atomic_store(&n->lease, 0);
            atomic_store(&n->lease_lost, true);
            if (register_node(n) < 0)
                nc_warn(NULL, "node registration: %s", nc_etcd_errmsg(n->etcd));
        } else if (r < 0) {
            nc_warn(NULL, "node lease keepalive: %s", nc_etcd_errmsg(n->etcd));
        }
        pthread_mutex_lock(&n->lock);
    }
    pthread_mutex_unlock(&n->lock);
    return NULL;
}

int
nc_node_start(const struct nc_etcd_conf *conf, const char *prefix, const char *name,
              int64_t ttl_s, const char *info_json, struct nc_node **ret)
{
    struct nc_node *n = calloc(1, sizeof(*n));
    int r;

    if (!n)
        return -ENOMEM;
    n->ttl_s = ttl_s;
    pthread_mutex_init(&n->lock, NULL);
    pthread_cond_init(&n->cond, NULL);
    if (!(n->etcd = nc_etcd_new(conf)) || asprintf(&n->key, "%snodes/%s", prefix, name) < 0 ||
        !(n->info = strdup(info_json))) {
        n->key = NULL;
        r = -ENOMEM;
        goto fail;
    }
    if ((r = register_node(n)) < 0) {
        nc_error(NULL, "node registration: %s", nc_etcd_errmsg(n->etcd));
        goto fail;
    }
    if (pthread_create(&n->thread, NULL, keepalive_main, n) != 0) {
        r = -ENOMEM;
        goto fail;
    }
    *ret = n;
    return 0;
fail:
    nc_etcd_free(n->etcd);
    free(n->key);
    free(n->info);
    free(n);
    return r;
}

void
nc_node_stop(struct nc_node *n)
{
    if (!n)
        return;
    pthread_mutex_lock(&n->lock);
    n->stopping = true;
    pthread_cond_signal(&n->cond);
    pthread_mutex_unlock(&n->lock);
    pthread_join(n->thread, NULL);
    nc_etcd_free(n->etcd);
    free(n->key);
    free(n->info);
    pthread_mutex_destroy(&n->lock);
    pthread_cond_destroy(&n->cond);
    free(n);
}

bool
nc_node_lease_lost(struct nc_node *n)
{
    return n && atomic_load(&n->lease_lost);
}

int64_t
nc_node_lease(struct nc_node *n)
{
    return n ? atomic_load(&n->lease) : 0;
}
