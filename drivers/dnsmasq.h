/*
 * The DHCP server of one Network on one node: a dnsmasq (Debian's
 * dnsmasq-base) on the node's bridge, inside the node's network namespace,
 * with static host entries only: no dynamic pool, so a guest gets exactly
 * the address its status shows, and a node never answers for another
 * node's guest. Its files live in @dir, named after the bridge; the pid
 * file is how a restarted controller finds the dnsmasq it left running.
 * Errors come back as a negative errno, with the reason in
 * nc_drv_errmsg().
 */
#ifndef NC_DRIVER_DNSMASQ_H
#define NC_DRIVER_DNSMASQ_H

#include <stdbool.h>
#include <stddef.h>

#include "drivers/error.h"

struct nc_dhcp_host {
    char mac[18];
    char ip[16];
};

struct nc_dnsmasq {
    const char *netns;   /* a name under /run/netns, or NULL: the caller's */
    const char *dir;     /* its pid, hosts, leases and log files */
    const char *bridge;  /* the interface it serves; names its files */
    const char *network; /* the CIDR's first address, "10.0.0.0" */
    const char *netmask; /* "255.255.255.0" */
    bool router;         /* tell guests the bridge is their default gateway */
    const struct nc_dhcp_host *hosts;
    size_t n_hosts;
};

struct nc_dhcp;

/*
 * One DHCP backend behind a table, so that the Network reconciler runs the
 * same against dnsmasq and against drivers/fake/. Each returns 0 or a
 * negative errno, with the reason in nc_drv_errmsg().
 */
struct nc_dhcp_ops {
    /* Makes it so: the hosts written when they changed (*@ret_changed
     * then), the server started when it is not running, or told to read
     * them again when it is. */
    int (*ensure)(struct nc_dhcp *dhcp, const struct nc_dnsmasq *d, bool *ret_changed);
    /* Stops the server of @bridge, waits for it to go, and removes its
     * files; 0 also when none was running. */
    int (*stop)(struct nc_dhcp *dhcp, const char *dir, const char *bridge);
};

struct nc_dhcp {
    const struct nc_dhcp_ops *ops;
    void *priv;
};

/* dnsmasq, Debian's dnsmasq-base: a process per Network and node. */
extern struct nc_dhcp nc_dnsmasq;

#define nc_dhcp_ensure(dhcp, d, ret_changed) ((dhcp)->ops->ensure((dhcp), (d), (ret_changed)))
#define nc_dhcp_stop(dhcp, dir, bridge) ((dhcp)->ops->stop((dhcp), (dir), (bridge)))

#endif
