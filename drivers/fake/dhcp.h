/*
 * fake_dhcp: DHCP servers in memory behind the dnsmasq table
 * (drivers/dnsmasq.h), for unit tests of the Network reconciler: which
 * bridges have a server and which hosts it answers for. Any call can be
 * made to fail on demand.
 */
#ifndef NC_FAKE_DHCP_H
#define NC_FAKE_DHCP_H

#include <stddef.h>

#include "drivers/fake/faults.h"
#include "drivers/dnsmasq.h"

/* 0 and an empty fake in *@ret, or -ENOMEM. Free with fake_dhcp_close(). */
int fake_dhcp_open(struct nc_dhcp **ret) __attribute__((warn_unused_result));
void fake_dhcp_close(struct nc_dhcp *dhcp);

/* -1 when no server runs on @bridge, else how many hosts it answers for,
 * the first @max of them into @ret. */
int fake_dhcp_hosts(struct nc_dhcp *dhcp, const char *bridge, struct nc_dhcp_host *ret, size_t max);

/* The next @times calls of @op ("ensure", "stop") fail with @err. */
void fake_dhcp_fail(struct nc_dhcp *dhcp, const char *op, int err, unsigned times);

/* Joins its calls to @s (drivers/fake/faults.h). */
void fake_dhcp_sweep(struct nc_dhcp *dhcp, struct fake_sweep *s);

#endif
