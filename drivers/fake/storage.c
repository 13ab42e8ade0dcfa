#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/fake/faults.h"
#include "drivers/fake/peers.h"
#include "drivers/fake/storage.h"

#define MAX_POOLS 8
#define MAX_VOLUMES 256

static const char *const op_names[] = {
    "pool_check", "lookup", "create", "clone", "resize", "delete", "list", "pools", "send",
    NULL,
};

struct volume {
    char pool[64], name[NC_DOMAIN_NAME_MAX];
    struct nc_volinfo info;
    unsigned content; /* what a test wrote (fake_st_content()); sends copy it */
};

struct fake {
    pthread_mutex_t lock;
    struct fake_peers peers; /* fake_st_link() */
    char pools[MAX_POOLS][64];
    size_t n_pools;
    struct volume vols[MAX_VOLUMES];
    size_t n;
    struct fake_faults faults;
};

/* Counts a call of @op; returns the error it must fail with, or 0 when
 * @pool (unless NULL) exists. Caller holds the lock. */
static int
enter(struct fake *f, const char *op, const char *pool)
{
    int r = fake_faults_enter(&f->faults, "fake_st", op);

    for (size_t p = 0; r == 0 && pool && p < f->n_pools; p++)
        if (strcmp(f->pools[p], pool) == 0)
            return 0;
    return r || !pool ? r : nc_drv_fail(-ENOENT, "%s: no storage pool %s", op, pool);
}

static struct volume *
find(struct fake *f, const char *pool, const char *name)
{
    for (size_t i = 0; i < f->n; i++)
        if (strcmp(f->vols[i].pool, pool) == 0 && strcmp(f->vols[i].name, name) == 0)
            return &f->vols[i];
    return NULL;
}

static void
fake_close(struct nc_st *st)
{
    struct fake *f = st->priv;

    fake_faults_fini(&f->faults);
    pthread_mutex_destroy(&f->lock);
    free(f);
    free(st);
}

static int
fake_pool_check(struct nc_st *st, const char *pool)
{
    struct fake *f = st->priv;
    int r;

    pthread_mutex_lock(&f->lock);
    r = enter(f, "pool_check", pool);
    pthread_mutex_unlock(&f->lock);
    return r;
}

static int
fake_lookup(struct nc_st *st, const char *pool, const char *name, struct nc_volinfo *ret)
{
    struct fake *f = st->priv;
    struct volume *v;
    int r;

    pthread_mutex_lock(&f->lock);
    if ((r = enter(f, "lookup", pool)) == 0) {
        if ((v = find(f, pool, name)))
            *ret = v->info;
        else
            r = nc_drv_fail(-ENOENT, "lookup: no volume %s in pool %s", name, pool);
    }
    pthread_mutex_unlock(&f->lock);
    return r;
}

/* Adds volume @name to @pool. Caller holds the lock. */
static int
add(struct fake *f, const char *op, const char *pool, const char *name, const char *format,
    uint64_t capacity, const char *backing)
{
    struct volume *v;

    if (find(f, pool, name))
        return nc_drv_fail(-EEXIST, "%s: volume %s exists in pool %s", op, name, pool);
    if (f->n == MAX_VOLUMES)
        return nc_drv_fail(-ENOSPC, "%s: the fake holds %d volumes at most", op, MAX_VOLUMES);
    v = &f->vols[f->n++];
    memset(v, 0, sizeof(*v));
    snprintf(v->pool, sizeof(v->pool), "%s", pool);
    snprintf(v->name, sizeof(v->name), "%s", name);
    snprintf(v->info.path, sizeof(v->info.path), "/fake/%s/%s", pool, name);
    snprintf(v->info.format, sizeof(v->info.format), "%s", format);
    snprintf(v->info.backing, sizeof(v->info.backing), "%s", backing ? backing : "");
    v->info.capacity = capacity;
    return 0;
}

static int
fake_create(struct nc_st *st, const char *pool, const char *name, const char *format,
            uint64_t capacity, const char *backing, const char *backing_format)
{
    struct fake *f = st->priv;
    int r;

    (void)backing_format;
    pthread_mutex_lock(&f->lock);
    if ((r = enter(f, "create", pool)) == 0)
        r = add(f, "create", pool, name, format, capacity, backing);
    pthread_mutex_unlock(&f->lock);
    return r;
}

static int
fake_clone(struct nc_st *st, const char *pool, const char *name, const char *format,
           uint64_t capacity, const char *src_pool, const char *src_name)
{
    struct fake *f = st->priv;
    struct volume *src;
    int r;

    pthread_mutex_lock(&f->lock);
    if ((r = enter(f, "clone", pool)) == 0) {
        if (!(src = find(f, src_pool, src_name)))
            r = nc_drv_fail(-ENOENT, "clone: no volume %s in pool %s", src_name, src_pool);
        else
            r = add(f, "clone", pool, name, format,
                    capacity > src->info.capacity ? capacity : src->info.capacity, NULL);
    }
    pthread_mutex_unlock(&f->lock);
    return r;
}

static int
fake_resize(struct nc_st *st, const char *pool, const char *name, uint64_t capacity)
{
    struct fake *f = st->priv;
    struct volume *v;
    int r;

    pthread_mutex_lock(&f->lock);
    if ((r = enter(f, "resize", pool)) == 0) {
        if (!(v = find(f, pool, name)))
            r = nc_drv_fail(-ENOENT, "resize: no volume %s in pool %s", name, pool);
        else if (capacity < v->info.capacity)
            r = nc_drv_fail(-EINVAL, "resize: %s cannot shrink", name);
        else
            v->info.capacity = capacity;
    }
    pthread_mutex_unlock(&f->lock);
    return r;
}

static int
fake_delete(struct nc_st *st, const char *pool, const char *name)
{
    struct fake *f = st->priv;
    struct volume *v;
    int r;

    pthread_mutex_lock(&f->lock);
    if ((r = enter(f, "delete", pool)) == 0) {
        if (!(v = find(f, pool, name)))
            r = nc_drv_fail(-ENOENT, "delete: no volume %s in pool %s", name, pool);
        else
            *v = f->vols[--f->n];
    }
    pthread_mutex_unlock(&f->lock);
    return r;
}

static int
fake_list(struct nc_st *st, void (*fn)(const char *pool, const char *name, void *data),
          void *data)
{
    struct fake *f = st->priv;
    struct volume copy[MAX_VOLUMES];
    size_t n = 0;
    int r;

    pthread_mutex_lock(&f->lock);
    if ((r = enter(f, "list", NULL)) == 0)
        for (n = 0; n < f->n; n++)
            copy[n] = f->vols[n];
    pthread_mutex_unlock(&f->lock);
    /* Outside the lock: @fn may call back into the fake. */
    for (size_t i = 0; i < n; i++)
        fn(copy[i].pool, copy[i].name, data);
    return r;
}

static int
fake_pools(struct nc_st *st, void (*fn)(const char *pool, void *data), void *data)
{
    struct fake *f = st->priv;
    char copy[MAX_POOLS][64];
    size_t n = 0;
    int r;

    pthread_mutex_lock(&f->lock);
    if ((r = enter(f, "pools", NULL)) == 0)
        for (n = 0; n < f->n_pools; n++)
            memcpy(copy[n], f->pools[n], sizeof(copy[n]));
    pthread_mutex_unlock(&f->lock);
    for (size_t i = 0; i < n; i++)
        fn(copy[i], data);
    return r;
}

/* As libvirt's streams: into the volume the peer made, half, then all. */
static int
fake_send(struct nc_st *st, const char *pool, const char *name, const char *peer_uri,
          const char *netns, const char *dest_pool, const char *dest_name,
          bool (*tick)(void *data, uint64_t sent, uint64_t total), void *data)
{
    struct fake *f = st->priv, *to = NULL;
    struct volume *v;
    uint64_t size = 0;
    unsigned content = 0;
    int r;

    (void)netns;
    pthread_mutex_lock(&f->lock);
    if ((r = enter(f, "send", pool)) == 0) {
        to = fake_peers_find(&f->peers, peer_uri);
        if (!(v = find(f, pool, name)))
            r = nc_drv_fail(-ENOENT, "send: no volume %s in pool %s", name, pool);
        else if (!to)
            r = nc_drv_fail(-ECONNREFUSED, "send %s: cannot reach %s", name, peer_uri);
        else
            size = v->info.capacity, content = v->content;
    }
    pthread_mutex_unlock(&f->lock);
    if (r < 0)
        return r;
    if (!tick(data, size / 2, size))
        return nc_drv_fail(-ECANCELED, "send %s: stopped", name);
    pthread_mutex_lock(&to->lock);
    if (!(v = find(to, dest_pool, dest_name)))
        r = nc_drv_fail(-ENOENT, "send %s: %s has no volume %s in pool %s", name, peer_uri,
                        dest_name, dest_pool);
    else
        v->content = content;
    pthread_mutex_unlock(&to->lock);
    if (r == 0)
        tick(data, size, size);
    return r;
}

static const struct nc_st_ops fake_ops = {
    .close = fake_close,
    .pool_check = fake_pool_check,
    .lookup = fake_lookup,
    .create = fake_create,
    .clone = fake_clone,
    .resize = fake_resize,
    .delete = fake_delete,
    .list = fake_list,
    .pools = fake_pools,
    .send = fake_send,
};

int
fake_st_open(struct nc_st **ret_st)
{
    struct nc_st *st = calloc(1, sizeof(*st));
    struct fake *f = calloc(1, sizeof(*f));

    if (!st || !f) {
        free(st);
        free(f);
        return -ENOMEM;
    }
    pthread_mutex_init(&f->lock, NULL);
    fake_faults_init(&f->faults, op_names);
    st->ops = &fake_ops;
    st->priv = f;
    *ret_st = st;
    return 0;
}

void
fake_st_add_pool(struct nc_st *st, const char *name)
{
    struct fake *f = st->priv;

    pthread_mutex_lock(&f->lock);
    if (f->n_pools < MAX_POOLS)
        snprintf(f->pools[f->n_pools++], sizeof(f->pools[0]), "%s", name);
    pthread_mutex_unlock(&f->lock);
}

void
fake_st_fail(struct nc_st *st, const char *op, int err, unsigned times)
{
    fake_faults_set(&((struct fake *)st->priv)->faults, op, err, times);
}

unsigned
fake_st_calls(struct nc_st *st, const char *op)
{
    return fake_faults_calls(&((struct fake *)st->priv)->faults, op);
}

size_t
fake_st_count(struct nc_st *st)
{
    struct fake *f = st->priv;
    size_t n;

    pthread_mutex_lock(&f->lock);
    n = f->n;
    pthread_mutex_unlock(&f->lock);
    return n;
}

void
fake_st_sweep(struct nc_st *st, struct fake_sweep *s)
{
    fake_faults_join(&((struct fake *)st->priv)->faults, s, "st");
}

void
fake_st_link(struct nc_st *st, const char *uri, struct nc_st *peer)
{
    struct fake *f = st->priv;

    pthread_mutex_lock(&f->lock);
    fake_peers_add(&f->peers, uri, peer->priv);
    pthread_mutex_unlock(&f->lock);
}

unsigned
fake_st_content(struct nc_st *st, const char *pool, const char *name, unsigned write)
{
    struct fake *f = st->priv;
    struct volume *v;
    unsigned content = 0;

    pthread_mutex_lock(&f->lock);
    if ((v = find(f, pool, name))) {
        if (write)
            v->content = write;
        content = v->content;
    }
    pthread_mutex_unlock(&f->lock);
    return content;
}
