/*
 * The cache is a hash table of entries. A deleted key stays behind as a
 * tombstone (value NULL) carrying the revision of its deletion, so that
 * an older event arriving late (from the watch, after a write-through of
 * a newer state) cannot bring it back. Tombstones the watch has moved
 * past can no longer be contradicted and are swept at the next
 * nc_informer_foreach(), which resync calls periodically.
 *
 * Entries are also grouped by directory (a key up to its last '/'), so
 * that a walk of a prefix looks only at the directories the prefix can
 * match: a VM's reconcile asks for the Snapshots of its namespace, which
 * must not cost a look at every VM's status.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uthash.h>
#include <utlist.h>

#include "core/informer.h"
#include "core/log.h"
#include "core/watch.h"

#define LIST_PAGE 500

struct dir;

struct entry {
    char *value; /* NULL: a tombstone */
    int64_t mod_revision;
    UT_hash_handle hh;
    struct dir *dir;
    struct entry *prev, *next; /* in dir->entries */
    bool seen;   /* marks survivors during a relist */
    char key[];  /* in the entry's own allocation: one fewer per key */
};

struct dir {
    char *path; /* up to and with the last '/' of its keys */
    struct entry *entries;
    UT_hash_handle hh;
};

struct nc_informer {
    const struct nc_etcd_conf *conf;
    char *prefix;
    nc_informer_fn changed;
    void *data;
    size_t value_max;       /* longer values are cut to value_max + 1 bytes */
    struct nc_watch *watch;
    struct nc_etcd *etcd;   /* for listing, on the loop thread */
    pthread_mutex_t lock;   /* guards everything below */
    struct entry *cache;
    struct dir *dirs;
    size_t live;            /* entries that are not tombstones */
    int64_t revision;       /* newest revision seen in any way */
    int64_t watched;        /* newest revision the list or the watch delivered */
    bool listed;
    _Atomic bool replaced;  /* etcd was found rewound or replaced, once */
    char err[512];
};

/* Adds @e, whose key is set, to the cache. false on out of memory. */
static bool
entry_add(struct nc_informer *inf, struct entry *e)
{
    const char *slash = strrchr(e->key, '/');
    size_t len = slash ? (size_t)(slash - e->key) + 1 : 0;
    struct dir *d;

    HASH_FIND(hh, inf->dirs, e->key, len, d);
    if (!d) {
        if (!(d = calloc(1, sizeof(*d))) || !(d->path = strndup(e->key, len))) {
            free(d);
            return false;
        }
        HASH_ADD_KEYPTR(hh, inf->dirs, d->path, len, d);
    }
    e->dir = d;
    DL_APPEND(d->entries, e);
    HASH_ADD_KEYPTR(hh, inf->cache, e->key, strlen(e->key), e);
    return true;
}

/* Removes @e from the cache and frees it, and its directory once empty. */
static void
entry_drop(struct nc_informer *inf, struct entry *e)
{
    struct dir *d = e->dir;

    HASH_DEL(inf->cache, e);
    DL_DELETE(d->entries, e);
    if (!d->entries) {
        HASH_DEL(inf->dirs, d);
        free(d->path);
        free(d);
    }
    free(e->value);
    free(e);
}

/*
 * Records that @key holds @value (NULL: was deleted) at @revision, unless
 * the cache knows that revision or a newer one. Returns true when the
 * visible state changed. Caller holds the lock.
 */
static bool
cache_set(struct nc_informer *inf, const char *key, const char *value, int64_t revision)
{
    struct entry *e;
    char *copy = NULL;

    if (revision > inf->revision)
        inf->revision = revision;
    HASH_FIND_STR(inf->cache, key, e);
    if (e) {
        e->seen = true;
        if (revision <= e->mod_revision)
            return false;
    } else if (!value) {
        return false; /* deleting what was never seen changes nothing */
    }
    /* A value no reader may take whole is kept only as far as it takes to
     * tell so (nc_informer_set_value_max()). */
    if (value && !(copy = strndup(value, inf->value_max ? inf->value_max + 1 : SIZE_MAX)))
        return false;
    if (!e) {
        size_t len = strlen(key) + 1;

        if ((e = calloc(1, sizeof(*e) + len)))
            memcpy(e->key, key, len);
        if (!e || !entry_add(inf, e)) {
            free(e);
            free(copy);
            return false;
        }
    }
    inf->live += (copy != NULL) - (e->value != NULL);
    free(e->value);
    e->value = copy;
    e->mod_revision = revision;
    e->seen = true;
    return true;
}

static void
on_watch_event(void *data, const struct nc_kv *kv, bool deleted)
{
    struct nc_informer *inf = data;
    bool changed;

    pthread_mutex_lock(&inf->lock);
    changed = cache_set(inf, kv->key, deleted ? NULL : kv->value, kv->mod_revision);
    if (kv->mod_revision > inf->watched)
        inf->watched = kv->mod_revision;
    pthread_mutex_unlock(&inf->lock);
    if (changed && inf->changed)
        inf->changed(inf->data, kv->key);
}

static int
on_list_item(const struct nc_kv *kv, void *data)
{
    struct nc_informer *inf = data;
    bool changed;

    pthread_mutex_lock(&inf->lock);
    changed = cache_set(inf, kv->key, kv->value, kv->mod_revision);
    pthread_mutex_unlock(&inf->lock);
    if (changed && inf->changed)
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
    /* cppcheck-suppress uninitvar ; uthash assigns the iterator itself */
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
        /* cppcheck-suppress uninitvar ; uthash assigns the iterator itself */
        HASH_ITER(hh, inf->cache, e, tmp) {
            /* Unseen and newer than the list: written through meanwhile. */
            if (e->seen || e->mod_revision > rev)
                continue;
            if (e->value) {
                inf->live--;
                gone = strdup(e->key);
            }
            entry_drop(inf, e);
            if (gone)
                break;
        }
        if (rev > inf->watched)
            inf->watched = rev;
        pthread_mutex_unlock(&inf->lock);
        if (!gone)
            break;
        if (inf->changed)
            inf->changed(inf->data, gone);
        free(gone);
    }
    pthread_mutex_lock(&inf->lock);
    if (rev > inf->revision)
        inf->revision = rev;
    pthread_mutex_unlock(&inf->lock);
    inf->listed = true;
    return nc_watch_start(inf->watch, rev + 1);
}

static void
on_compacted(void *data, int64_t compact_revision)
{
    struct nc_informer *inf = data;
    int r;

    if (compact_revision)
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

/*
 * etcd went back in time (a snapshot restored, a data folder replaced): the
 * cache holds revisions the store has not reached and would drop what it
 * now says. Every entry is made older than anything, so the relist that
 * follows overwrites what is listed and sweeps (and reports) what is not;
 * until it succeeds the informer is not synced, so /readyz says no.
 */
static void
on_rewound(void *data)
{
    struct nc_informer *inf = data;
    struct entry *e, *tmp;

    nc_warn(NULL, "etcd is not the store it was: forgetting what was seen under %s, relisting",
            inf->prefix);
    inf->replaced = true;
    pthread_mutex_lock(&inf->lock);
    /* cppcheck-suppress uninitvar ; uthash assigns the iterator itself */
    HASH_ITER(hh, inf->cache, e, tmp)
        e->mod_revision = 0;
    inf->revision = inf->watched = 0;
    pthread_mutex_unlock(&inf->lock);
    inf->listed = false;
    on_compacted(inf, 0);
}

static const struct nc_watch_ops watch_ops = {
    .event = on_watch_event,
    .compacted = on_compacted,
    .rewound = on_rewound,
};

void
nc_informer_set_value_max(struct nc_informer *inf, size_t max)
{
    inf->value_max = max;
}

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
    /* cppcheck-suppress uninitvar ; uthash assigns the iterator itself */
    HASH_ITER(hh, inf->cache, e, tmp)
        entry_drop(inf, e);
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
nc_informer_replaced(const struct nc_informer *inf)
{
    return inf->replaced;
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
    *ret_mod_revision = e ? e->mod_revision : 0;
    if (e && e->value) {
        *ret_value = strdup(e->value);
        *ret_mod_revision = e->mod_revision;
        r = *ret_value ? 0 : -ENOMEM;
    }
    pthread_mutex_unlock(&inf->lock);
    return r;
}

int
nc_informer_getf(struct nc_informer *inf, char **ret_value, int64_t *ret_mod_revision,
                 const char *fmt, ...)
{
    char *key = NULL;
    int64_t rev;
    va_list ap;
    int r;

    va_start(ap, fmt);
    r = vasprintf(&key, fmt, ap);
    va_end(ap);
    if (r < 0)
        return -ENOMEM;
    r = nc_informer_get(inf, key, ret_value, ret_mod_revision ? ret_mod_revision : &rev);
    free(key);
    return r;
}

void
nc_informer_store(struct nc_informer *inf, const char *key, const char *value, int64_t revision)
{
    pthread_mutex_lock(&inf->lock);
    cache_set(inf, key, value, revision);
    pthread_mutex_unlock(&inf->lock);
}

int64_t
nc_informer_revision(struct nc_informer *inf)
{
    int64_t rev;

    pthread_mutex_lock(&inf->lock);
    rev = inf->revision;
    pthread_mutex_unlock(&inf->lock);
    return rev;
}

void
nc_informer_foreach(struct nc_informer *inf, nc_informer_fn fn, void *data)
{
    nc_informer_foreach_prefix(inf, "", fn, data);
}

void
nc_informer_foreach_prefix(struct nc_informer *inf, const char *prefix, nc_informer_fn fn,
                           void *data)
{
    size_t len = strlen(prefix), n = 0;
    struct entry *e, *tmp;
    struct dir *d, *dtmp;
    char **keys;

    /* Copy the keys first: @fn may take time, and workers need the lock. */
    pthread_mutex_lock(&inf->lock);
    keys = malloc((inf->live + 1) * sizeof(*keys));
    /* cppcheck-suppress uninitvar ; uthash assigns the iterator itself */
    HASH_ITER(hh, inf->dirs, d, dtmp) {
        size_t dlen = strlen(d->path);

        /* The prefix is in the directory, or the directory in the prefix. */
        if (strncmp(d->path, prefix, dlen < len ? dlen : len) != 0)
            continue;
        /* Dropping the last entry frees the directory, and ends this loop. */
        DL_FOREACH_SAFE(d->entries, e, tmp) {
            if (!e->value) {
                if (e->mod_revision <= inf->watched)
                    entry_drop(inf, e);
            } else if (keys && n < inf->live && strncmp(e->key, prefix, len) == 0 &&
                       (keys[n] = strdup(e->key))) {
                n++;
            }
        }
    }
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
    n = inf->live;
    pthread_mutex_unlock(&inf->lock);
    return n;
}

uint64_t
nc_informer_watch_restarts(const struct nc_informer *inf)
{
    return nc_watch_restarts(inf->watch);
}
