/*
 * fake_ov: in-memory network devices behind the overlay table
 * (drivers/overlay.h), for unit tests of the reconcilers: bridges, VXLAN
 * devices and taps with their aliases, VNI, MTU, master and address. A
 * test can add a device of its own (one that is not NovaCron's), make any
 * call fail on demand, and count the calls made. Several handles may share
 * one set of devices, as the workers of one node share its namespace.
 */
#ifndef NC_FAKE_OVERLAY_H
#define NC_FAKE_OVERLAY_H

#include <stdbool.h>

#include "drivers/fake/faults.h"
#include "drivers/overlay.h"

/* 0 and a handle on the devices of @share, or on a new empty set when
 * @share is NULL; -ENOMEM. Close with nc_overlay_close(); the set goes
 * with its last handle. */
int fake_ov_open(struct nc_overlay *share, struct nc_overlay **ret)
    __attribute__((warn_unused_result));

/* Adds device @name with @alias (NULL: none), as someone else might: 0, or
 * -EEXIST when one of that name carries another alias. */
int fake_ov_add(struct nc_overlay *ov, const char *name, const char *alias)
    __attribute__((warn_unused_result));

/* True when device @name exists; its alias and master then go to
 * @ret_alias (may be NULL; 160 bytes) and @ret_master (may be NULL;
 * NC_IFNAME_MAX bytes). */
bool fake_ov_has(struct nc_overlay *ov, const char *name, char *ret_alias, char *ret_master);

/* The next @times calls of @op ("ensure", "remove", "list", "attach",
 * "ipv4_of") fail with @err. */
void fake_ov_fail(struct nc_overlay *ov, const char *op, int err, unsigned times);

/* How many calls of @op were made, failed ones included. */
unsigned fake_ov_calls(struct nc_overlay *ov, const char *op);

/* Joins its calls to @s (drivers/fake/faults.h). */
void fake_ov_sweep(struct nc_overlay *ov, struct fake_sweep *s);

#endif
