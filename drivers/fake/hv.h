/*
 * fake_hv: an in-memory hypervisor behind the same table as libvirt's
 * (drivers/runtime.h), for unit tests of the reconcilers. Domains live in
 * a list; a test can make any call fail on demand, change a domain's
 * state behind the controller's back, and count the calls made. Its guests
 * are like the test driver's: no ACPI, console or taps (caps all false),
 * and a shutdown stops them at once.
 */
#ifndef NC_FAKE_HV_H
#define NC_FAKE_HV_H

#include <stddef.h>

#include "drivers/fake/faults.h"
#include "drivers/runtime.h"

/* 0 and an empty fake in *@ret_hv, or -ENOMEM. Close with nc_hv_close(). */
int fake_hv_open(struct nc_hv **ret_hv) __attribute__((warn_unused_result));

/* The next @times calls of operation @op ("define", "start", "lookup",
 * ... as in struct nc_hv_ops) fail with @err, a negative errno. */
void fake_hv_fail(struct nc_hv *hv, const char *op, int err, unsigned times);

/* How many calls of @op were made, failed ones included. */
unsigned fake_hv_calls(struct nc_hv *hv, const char *op);

/* Sets the state of domain @name as if someone else had: 0, or -ENOENT. */
int fake_hv_set_state(struct nc_hv *hv, const char *name, enum nc_dom_state state);

/* How many domains there are. */
size_t fake_hv_count(struct nc_hv *hv);

/* A migration from @hv to @uri (nc_migrate_params.dest_uri) goes to
 * @peer, another fake. */
void fake_hv_link(struct nc_hv *hv, const char *uri, struct nc_hv *peer);

/* Joins its calls to @s (drivers/fake/faults.h) as those of @table
 * (static): "hv" for the guests', "ctr" for a container runtime's. */
void fake_hv_sweep(struct nc_hv *hv, struct fake_sweep *s, const char *table);

#endif
