/*
 * The storage driver: libvirt storage pools and volumes, over the same
 * libvirtd connection as the domains (drivers/libvirt.h). Every call is
 * blocking and thread-safe; errors come back as a negative errno, with the
 * reason in nc_drv_errmsg(). Volumes NovaCron creates are named like its
 * domains, "nc-HASH.NS.NAME" (nc_domain_name()): that name is their owner
 * mark, and the Volume's status, written before the volume is created,
 * records it too.
 */
#ifndef NC_DRIVER_STORAGE_H
#define NC_DRIVER_STORAGE_H

#include <stdint.h>

#include "drivers/libvirt.h"

struct nc_volinfo {
    char path[1024];
    uint64_t capacity, allocation; /* bytes */
    char format[16];               /* "qcow2", "raw", ... */
    char backing[1024];            /* the backing file, "" when none */
};

struct nc_st;

/*
 * One storage backend, as libvirt's storage driver table: every call the
 * reconcilers make goes through it, so they run the same against libvirt
 * and against drivers/fake/. Each returns 0 or a negative errno, with the
 * reason in nc_drv_errmsg().
 */
struct nc_st_ops {
    void (*close)(struct nc_st *st);
    /* 0 when pool @pool exists and is active, -ENOENT when it does not
     * exist, -ENODEV when it is not active. */
    int (*pool_check)(struct nc_st *st, const char *pool);
    /* 0 and @ret filled, -ENOENT when @pool holds no volume @name. */
    int (*lookup)(struct nc_st *st, const char *pool, const char *name, struct nc_volinfo *ret);
    /* Creates volume @name of @capacity bytes and @format in @pool, thin
     * (allocation 0). With @backing (an image file of @backing_format), a
     * copy-on-write overlay of it; the format must then be qcow2. */
    int (*create)(struct nc_st *st, const char *pool, const char *name, const char *format,
                  uint64_t capacity, const char *backing, const char *backing_format);
    /* Creates @name in @pool as a full copy of volume @src_name of
     * @src_pool, in @format, grown to @capacity when larger. */
    int (*clone)(struct nc_st *st, const char *pool, const char *name, const char *format,
                 uint64_t capacity, const char *src_pool, const char *src_name);
    /* Grows volume @name to @capacity bytes (not in use by a running
     * guest; see nc_hv_block_resize() for that). */
    int (*resize)(struct nc_st *st, const char *pool, const char *name, uint64_t capacity);
    /* Deletes volume @name and its data; -ENOENT when it is already gone. */
    int (*delete)(struct nc_st *st, const char *pool, const char *name);
    /* Calls @fn with the pool and name of every volume of every active
     * pool. */
    int (*list)(struct nc_st *st, void (*fn)(const char *pool, const char *name, void *data),
                void *data);
    /* Calls @fn with the name of every active pool. */
    int (*pools)(struct nc_st *st, void (*fn)(const char *pool, void *data), void *data);
    /* Sends volume @name of @pool, byte for byte, into volume @dest_name
     * of @dest_pool on the libvirtd at @peer_uri (dialled from network
     * namespace @netns; NULL: this one), which must exist with the same
     * format and size, through libvirt's storage streams. Calls @tick with
     * the bytes sent and the volume's allocation every moment; false
     * from it stops (-ECANCELED). NULL when unsupported. */
    int (*send)(struct nc_st *st, const char *pool, const char *name, const char *peer_uri,
                const char *netns, const char *dest_pool, const char *dest_name,
                bool (*tick)(void *data, uint64_t sent, uint64_t total), void *data);
};

struct nc_st {
    const struct nc_st_ops *ops;
    void *priv;
};

/* The storage of libvirt connection @hv, which must outlive it: 0 and
 * *@ret_st, or -ENOMEM. */
int nc_st_libvirt_open(struct nc_hv *hv, struct nc_st **ret_st) __attribute__((warn_unused_result));

/* Closes @st (NULL allowed); returns NULL. */
static inline struct nc_st *
nc_st_close(struct nc_st *st)
{
    if (st)
        st->ops->close(st);
    return NULL;
}

#define nc_st_pools(st, fn, data) ((st)->ops->pools((st), (fn), (data)))

static inline int
nc_st_send(struct nc_st *st, const char *pool, const char *name, const char *peer_uri,
           const char *netns, const char *dest_pool, const char *dest_name,
           bool (*tick)(void *data, uint64_t sent, uint64_t total), void *data)
{
    if (!st->ops->send)
        return nc_drv_fail(-ENOTSUP, "send volume %s: this storage cannot", name);
    return st->ops->send(st, pool, name, peer_uri, netns, dest_pool, dest_name, tick, data);
}
#define nc_st_pool_check(st, pool) ((st)->ops->pool_check((st), (pool)))
#define nc_st_lookup(st, pool, name, ret) ((st)->ops->lookup((st), (pool), (name), (ret)))
#define nc_st_create(st, pool, name, format, capacity, backing, backing_format)                   \
    ((st)->ops->create((st), (pool), (name), (format), (capacity), (backing), (backing_format)))
#define nc_st_clone(st, pool, name, format, capacity, src_pool, src_name)                         \
    ((st)->ops->clone((st), (pool), (name), (format), (capacity), (src_pool), (src_name)))
#define nc_st_resize(st, pool, name, capacity) ((st)->ops->resize((st), (pool), (name), (capacity)))
#define nc_st_delete(st, pool, name) ((st)->ops->delete((st), (pool), (name)))
#define nc_st_list(st, fn, data) ((st)->ops->list((st), (fn), (data)))

/* The format of image file @path from its first bytes: "qcow2" or "raw".
 * 0, or a negative errno (the file cannot be read). */
int nc_st_image_format(const char *path, const char **ret_format)
    __attribute__((warn_unused_result));

#endif
