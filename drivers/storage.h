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

/* 0 when pool @pool exists and is active, -ENOENT when it does not exist,
 * -ENODEV when it is not active, or a negative errno. */
int nc_st_pool_check(struct nc_hv *hv, const char *pool) __attribute__((warn_unused_result));

/* 0 and @ret filled, -ENOENT when @pool holds no volume @name, or a
 * negative errno. */
int nc_st_lookup(struct nc_hv *hv, const char *pool, const char *name, struct nc_volinfo *ret)
    __attribute__((warn_unused_result));

/*
 * Creates volume @name of @capacity bytes and @format in @pool, thin
 * (allocation 0). With @backing (an image file of @backing_format), a
 * copy-on-write overlay of it; the format must then be qcow2.
 */
int nc_st_create(struct nc_hv *hv, const char *pool, const char *name, const char *format,
                 uint64_t capacity, const char *backing, const char *backing_format)
    __attribute__((warn_unused_result));

/* Creates @name in @pool as a full copy of volume @src_name of @src_pool,
 * in @format, grown to @capacity when larger than the source. */
int nc_st_clone(struct nc_hv *hv, const char *pool, const char *name, const char *format,
                uint64_t capacity, const char *src_pool, const char *src_name)
    __attribute__((warn_unused_result));

/* Grows volume @name to @capacity bytes (the volume must not be in use by a
 * running guest; see nc_hv_block_resize() for that). */
int nc_st_resize(struct nc_hv *hv, const char *pool, const char *name, uint64_t capacity)
    __attribute__((warn_unused_result));

/* Deletes volume @name and its data; -ENOENT when it is already gone. */
int nc_st_delete(struct nc_hv *hv, const char *pool, const char *name)
    __attribute__((warn_unused_result));

/* Calls @fn with the pool and name of every volume of every active pool. */
int nc_st_list(struct nc_hv *hv, void (*fn)(const char *pool, const char *name, void *data),
               void *data) __attribute__((warn_unused_result));

/* The format of image file @path from its first bytes: "qcow2" or "raw".
 * 0, or a negative errno (the file cannot be read). */
int nc_st_image_format(const char *path, const char **ret_format)
    __attribute__((warn_unused_result));

#endif
