/*
 * The overlay driver: Linux bridges and VXLAN devices, their addresses and
 * their forwarding entries, over netlink with libnl-route-3, behind a
 * table. One handle is a netlink socket bound to one network namespace (a
 * node's, with --netns) and is used by one thread at a time. Every device it makes
 * carries an owner mark in its alias, and it never changes or deletes a
 * device whose alias is not the one it was given. Errors come back as a
 * negative errno, with the reason in nc_drv_errmsg().
 */
#ifndef NC_DRIVER_OVERLAY_H
#define NC_DRIVER_OVERLAY_H

#include <stddef.h>
#include <stdint.h>

#include "drivers/error.h"

#define NC_IFNAME_MAX 16 /* IFNAMSIZ: 15 characters and the NUL */
#define NC_VXLAN_PORT 4789

/* What one Network is on one node. */
struct nc_overlay_net {
    const char *bridge;      /* device names, at most 15 characters */
    const char *vxlan;       /* NULL: no VXLAN device (isolated or vlan) */
    const char *vlan;        /* the VLAN device joining the bridge to vlan_parent, or NULL */
    unsigned vlan_id;
    const char *vlan_parent; /* the node's device that carries the VLAN */
    const char *alias;       /* the owner mark both carry */
    uint32_t vni;
    unsigned mtu;
    const char *underlay;    /* the device VXLAN traffic leaves by */
    const char *local_ip;    /* its IPv4 address */
    const char *bridge_cidr; /* the bridge's own address, "10.0.0.1/24", or NULL */
    const char *const *peers; /* underlay addresses of the other nodes */
    size_t n_peers;
};

struct nc_overlay;

/*
 * One network backend: every call the reconcilers make goes through it,
 * so they run the same against netlink and against drivers/fake/. Each
 * returns 0 or a negative errno, with the reason in nc_drv_errmsg().
 */
struct nc_overlay_ops {
    void (*close)(struct nc_overlay *ov);
    /* Makes @net so: the bridge (created, MTU, up), the VXLAN device on it
     * (VNI, port 4789, local address, underlay device, no learning: the
     * forwarding entries say where each peer is) or the VLAN device on it
     * (802.1Q id on vlan_parent), the bridge's address, and one all-zero
     * forwarding entry per peer, removing entries of peers gone. A device
     * of that name with another alias is left alone: -EEXIST; -ENODEV
     * when there is no vlan_parent. */
    int (*ensure)(struct nc_overlay *ov, const struct nc_overlay_net *net);
    /* Deletes device @name when its alias is @alias; 0 when it is absent,
     * -EEXIST when it is someone else's. */
    int (*remove)(struct nc_overlay *ov, const char *name, const char *alias);
    /* Calls @fn for every device whose alias starts with @alias_prefix. */
    int (*list)(struct nc_overlay *ov, const char *alias_prefix,
                void (*fn)(const char *name, const char *alias, void *data), void *data);
    /* Puts tap device @tap (a guest's, made by libvirt where novacrond
     * runs) on @bridge, which must carry @bridge_alias (the Network's owner
     * mark): moved into the node's namespace first when that is another,
     * marked with @alias, given @mtu, enslaved and up. A tap with another
     * alias, or a bridge without its mark, is left alone (-EEXIST);
     * -ENOENT when there is no such tap (the guest is not running) or
     * bridge. */
    int (*attach)(struct nc_overlay *ov, const char *tap, const char *bridge,
                  const char *bridge_alias, const char *alias, unsigned mtu);
    /* The first IPv4 address of device @ifname into @out; -ENOENT without
     * one. */
    int (*ipv4_of)(struct nc_overlay *ov, const char *ifname, char out[16]);
};

/* One handle, used by one thread at a time. */
struct nc_overlay {
    const struct nc_overlay_ops *ops;
    void *priv;
};

/* How a handle is opened in network namespace @netns (a name under
 * /run/netns; NULL: the caller's): 0 and *@ret, or a negative errno. */
typedef int (*nc_overlay_open_fn)(const char *netns, struct nc_overlay **ret);

/* The netlink backend: a socket bound to @netns (nc_overlay_open_fn). */
int nc_overlay_open(const char *netns, struct nc_overlay **ret) __attribute__((warn_unused_result));

/* Closes @ov (NULL allowed). */
static inline void
nc_overlay_close(struct nc_overlay *ov)
{
    if (ov)
        ov->ops->close(ov);
}

#define nc_overlay_ensure(ov, net) ((ov)->ops->ensure((ov), (net)))
#define nc_overlay_remove(ov, name, alias) ((ov)->ops->remove((ov), (name), (alias)))
#define nc_overlay_list(ov, prefix, fn, data) ((ov)->ops->list((ov), (prefix), (fn), (data)))
#define nc_overlay_attach(ov, tap, bridge, bridge_alias, alias, mtu)                             \
    ((ov)->ops->attach((ov), (tap), (bridge), (bridge_alias), (alias), (mtu)))
#define nc_overlay_ipv4_of(ov, ifname, out) ((ov)->ops->ipv4_of((ov), (ifname), (out)))

#endif
