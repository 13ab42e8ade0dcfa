/*
 * Internal to drivers/: the libvirt connection that drivers/libvirt.c
 * keeps (and reopens after libvirtd restarts), for the other adapters over
 * the same libvirtd, and its error reporting.
 */
#ifndef NC_DRIVER_LVCONN_H
#define NC_DRIVER_LVCONN_H

#include <libvirt/libvirt.h>

#include "drivers/libvirt.h"

/* The connection, with a reference the caller drops with virConnectClose();
 * NULL (and nc_drv_errmsg() set) when libvirtd cannot be reached. */
virConnectPtr nc_lv_conn(struct nc_hv *hv);

/* A connection of the caller's own to the same libvirtd, for long
 * transfers (close with virConnectClose()); NULL with the reason recorded. */
virConnectPtr nc_lv_conn_new(struct nc_hv *hv);

/* Domain @name (free with virDomainFree()), or NULL with *ret_err set
 * (-ENOENT when there is none) and the reason recorded. */
virDomainPtr nc_lv_domain(struct nc_hv *hv, const char *name, int *ret_err);

/* Records libvirt's last error as "WHAT NAME: reason" for nc_drv_errmsg()
 * and maps it to a negative errno (-ENOENT for a missing domain, pool or
 * volume, -EBUSY, -ENOTSUP, -EINVAL, else -EIO). */
int nc_lv_fail(const char *what, const char *name);

/* The migration operations of the table (drivers/migrate.c). */
int nc_lv_migrate(struct nc_hv *hv, const char *name, const struct nc_migrate_params *p,
                  unsigned tick_ms, bool (*tick)(void *data, const struct nc_job *job),
                  void *data);
int nc_lv_job(struct nc_hv *hv, const char *name, bool completed, struct nc_job *ret);

/* The snapshot operations of the table (drivers/snapshot.c). */
int nc_lv_snapshot_create(struct nc_hv *hv, const char *name, const char *snap, const char *mark);
int nc_lv_snapshot_lookup(struct nc_hv *hv, const char *name, const char *snap,
                          struct nc_snapinfo *ret);
int nc_lv_snapshot_delete(struct nc_hv *hv, const char *name, const char *snap);
int nc_lv_snapshot_revert(struct nc_hv *hv, const char *name, const char *snap, bool paused);
int nc_lv_snapshot_list(struct nc_hv *hv, const char *name,
                        void (*fn)(const char *snap, void *data), void *data);

/* Every domain's statistics in one call (drivers/stats.c). */
int nc_lv_stats(struct nc_hv *hv, void (*fn)(const struct nc_domstats *st, void *data),
                void *data);

/* The storage table's send (drivers/volsend.c). */
struct nc_st;
int nc_lv_st_send(struct nc_st *st, const char *pool, const char *name, const char *peer_uri,
                  const char *netns, const char *dest_pool, const char *dest_name,
                  bool (*tick)(void *data, uint64_t sent, uint64_t total), void *data);

#endif
