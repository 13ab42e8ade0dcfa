#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uthash.h>

#include "controller/informer.h"
#include "controller/log.h"
#include "controller/watch.h"

#define LIST_PAGE 500

struct entry {
    char *key;
    char *value;
    int64_t mod_revision;
    bool seen; /* marks survivors during a relist */
    UT_hash_handle hh;
};

struct nc_informer {
    const struct nc_etcd_conf *conf;
    char *prefix;
    nc_informer_fn changed;
    void *data;
    struct nc_watch *watch;
    struct nc_etcd *etcd; /* for listing, on the loop thread */
    pthread_mutex_t lock; /* guards cache */
    struct entry *cache;
    bool listed;
    char err[512];
};

static void
entry_free(struct entry *e)
{
    free(e->key);
    free(e->value);
    free(e);
}

/*
 * Stores @kv in the cache unless the cache already holds that revision or
 * a newer one. Returns true when the value changed. Takes the lock.
 */
static bool
cache_put(struct nc_informer *inf, const struct nc_kv *kv)
{
    struct entry *e;
    char *value;
    bool changed = false;

    pthread_mutex_lock(&inf->lock);
    HASH_FIND_STR(inf->cache, kv->key, e);
    if (e) {
        e->seen = true;
        if (kv->mod_revision > e->mod_revision && (value = strdup(kv->value))) {
            free(e->value);
            e->value = value;
            e->mod_revision = kv->mod_revision;
            changed = true;
        }
    } else if ((e = calloc(1, sizeof(*e)))) {
        e->key = strdup(kv->key);
        e->value = strdup(kv->value);
        if (!e->key || !e->value) {
            entry_free(e);
        } else {
            e->mod_revision = kv->mod_revision;
            e->seen = true;
            HASH_ADD_KEYPTR(hh, inf->cache, e->key, strlen(e->key), e);
            changed = true;
        }
    }
    pthread_mutex_unlock(&inf->lock);
    return changed;
}

/* Drops @key (a delete at @revision). Returns true when it was cached. */
static bool
cache_del(struct nc_informer *inf, const char *key, int64_t revision)
{
    struct entry *e;
    bool changed = false;

    pthread_mutex_lock(&inf->lock);
    HASH_FIND_STR(inf->cache, key, e);
    if (e && revision > e->mod_revision) {
        HASH_DEL(inf->cache, e);
        entry_free(e);
        changed = true;
    }
    pthread_mutex_unlock(&inf->lock);
    return changed;
}

static void
on_watch_event(void *data, const struct nc_kv *kv, bool deleted)
{
    struct nc_informer *inf = data;

    if (deleted ? cache_del(inf, kv->key, kv->mod_revision) : cache_put(inf, kv))
        inf->changed(inf->data, kv->key);
}

static int
on_list_item(const struct nc_kv *kv, void *data)
{
    struct nc_informer *inf = data;

    if (cache_put(inf, kv))
        inf->changed(inf->data, kv->key);
    return 0;
}

/*
 * Lists the prefix into the cache: new and changed keys are reported as
 * they come, and keys the list no longer holds are dropped and reported
 * after it. Then watches from the list's revision + 1.
 */
static int
list_and_watch(struct nc_informer *inf)
{
    struct entry *e, *tmp;
    int64_t rev = 0;
    int r;

    pthread_mutex_lock(&inf->lock);
    HASH_ITER(hh, inf->cache, e, tmp)
        e->seen = false;
    pthread_mutex_unlock(&inf->lock);

    r = nc_etcd_list(inf->etcd, inf->prefix, LIST_PAGE, on_list_item, inf, &rev);
    if (r < 0) {
        snprintf(inf->err, sizeof(inf->err), "listing %s: %s", inf->prefix,
                 nc_etcd_errmsg(inf->etcd));
        return r;
    }

    for (;;) {
        char *gone = NULL;

        pthread_mutex_lock(&inf->lock);
        HASH_ITER(hh, inf->cache, e, tmp) {
            if (!e->seen) {
                HASH_DEL(inf->cache, e);
                gone = e->key;
                free(e->value);
                free(e);
                break;
            }
        }
        pthread_mutex_unlock(&inf->lock);
        if (!gone)
            break;
        inf->changed(inf->data, gone);
        free(gone);
    }
    inf->listed = true;
    return nc_watch_start(inf->watch, rev + 1);
}

static void
on_compacted(void *data, int64_t compact_revision)
{
    struct nc_informer *inf = data;
    int r;

    nc_warn(NULL, "etcd compacted the watch's revision (now %" PRId64 "): relisting %s",
            compact_revision, inf->prefix);
    r = list_and_watch(inf);
    if (r < 0) {
        /* Start the watch again from the compacted revision: it will be
         * cancelled once more, and the relist retried, after its backoff. */
        nc_error(NULL, "relist failed: %s", inf->err);
        if (nc_watch_start(inf->watch, 1) < 0)
            nc_error(NULL, "cannot restart the etcd watch: out of memory");
    }
}

static const struct nc_watch_ops watch_ops = {
    .event = on_watch_event,
    .compacted = on_compacted,
};

struct nc_informer *
nc_informer_new(struct event_base *base, const struct nc_etcd_conf *conf, const char *prefix,
                nc_informer_fn changed, void *data)
{
    struct nc_informer *inf = calloc(1, sizeof(*inf));

    if (!inf)
        return NULL;
    pthread_mutex_init(&inf->lock, NULL);
    inf->conf = conf;
    inf->changed = changed;
    inf->data = data;
    inf->prefix = strdup(prefix);
    inf->etcd = nc_etcd_new(conf);
    inf->watch = nc_watch_new(base, conf, prefix, &watch_ops, inf);
    if (!inf->prefix || !inf->etcd || !inf->watch)
        return nc_informer_free(inf);
    return inf;
}

struct nc_informer *
nc_informer_free(struct nc_informer *inf)
{
    struct entry *e, *tmp;

    if (!inf)
        return NULL;
    nc_watch_free(inf->watch);
    nc_etcd_free(inf->etcd);
    HASH_ITER(hh, inf->cache, e, tmp) {
        HASH_DEL(inf->cache, e);
        entry_free(e);
    }
    pthread_mutex_destroy(&inf->lock);
    free(inf->prefix);
    free(inf);
    return NULL;
}

int
nc_informer_start(struct nc_informer *inf)
{
    return list_and_watch(inf);
}

const char *
nc_informer_errmsg(const struct nc_informer *inf)
{
    return inf->err;
}

void
nc_informer_stop(struct nc_informer *inf)
{
    nc_watch_stop(inf->watch);
}

bool
nc_informer_synced(const struct nc_informer *inf)
{
    return inf->listed && nc_watch_established(inf->watch);
}

int
nc_informer_get(struct nc_informer *inf, const char *key, char **ret_value,
                int64_t *ret_mod_revision)
{
    struct entry *e;
    int r = -ENOENT;

    pthread_mutex_lock(&inf->lock);
    HASH_FIND_STR(inf->cache, key, e);
    if (e) {
        *ret_value = strdup(e->value);
        *ret_mod_revision = e->mod_revision;
        r = *ret_value ? 0 : -ENOMEM;
    }
    pthread_mutex_unlock(&inf->lock);
    return r;
}

void
nc_informer_foreach(struct nc_informer *inf, nc_informer_fn fn, void *data)
{
    struct entry *e, *tmp;
    char **keys;
    size_t n = 0;

    /* Copy the keys first: @fn may take time, and workers need the lock. */
    pthread_mutex_lock(&inf->lock);
    keys = malloc((HASH_COUNT(inf->cache) + 1) * sizeof(*keys));
    if (keys)
        HASH_ITER(hh, inf->cache, e, tmp)
            if ((keys[n] = strdup(e->key)))
                n++;
    pthread_mutex_unlock(&inf->lock);
    for (size_t i = 0; i < n; i++) {
        fn(data, keys[i]);
        free(keys[i]);
    }
    free(keys);
}

size_t
nc_informer_size(struct nc_informer *inf)
{
    size_t n;

    pthread_mutex_lock(&inf->lock);
    n = HASH_COUNT(inf->cache);
    pthread_mutex_unlock(&inf->lock);
    return n;
}

uint64_t
nc_informer_watch_restarts(const struct nc_informer *inf)
{
    return nc_watch_restarts(inf->watch);
}
