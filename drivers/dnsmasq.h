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
    const struct nc_dhcp_host *hosts;
    size_t n_hosts;
};

/*
 * Makes it so: the hosts file written when it changed (*@ret_changed
 * then), dnsmasq started when it is not running, or told to re-read the
 * file (SIGHUP) when it is. 0 or a negative errno.
 */
int nc_dnsmasq_ensure(const struct nc_dnsmasq *d, bool *ret_changed)
    __attribute__((warn_unused_result));

/* Stops the dnsmasq of @bridge, waits for it to go, and removes its
 * files. 0 also when none was running. */
int nc_dnsmasq_stop(const char *dir, const char *bridge) __attribute__((warn_unused_result));

/* True when the dnsmasq of @bridge is running. */
bool nc_dnsmasq_running(const char *dir, const char *bridge);


#endif
