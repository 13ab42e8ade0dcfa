/*
 * fake_fw: Networks' egress tables, ports and policies in memory behind the firewall table
 * (drivers/firewall.h), for unit tests of the Network reconciler: which
 * tables exist, with what mark and rule. Any call can be made to fail on
 * demand.
 */
#ifndef NC_FAKE_FIREWALL_H
#define NC_FAKE_FIREWALL_H

#include <stdbool.h>
#include <stddef.h>

#include "drivers/fake/faults.h"
#include "drivers/firewall.h"

/* 0 and an empty fake in *@ret, or -ENOMEM. Free with nc_fw_close(). */
int fake_fw_open(struct nc_fw **ret) __attribute__((warn_unused_result));

/* Whether table @table exists; its egress device ("" for any) into @via. */
bool fake_fw_has(struct nc_fw *fw, const char *table, char via[16]);

/* How many tables exist. */
size_t fake_fw_count(struct nc_fw *fw);

/* Adds a table of someone else's, with comment @mark. */
void fake_fw_add_foreign(struct nc_fw *fw, const char *table, const char *mark);

/* The node has device @name (egress through any other: -ENODEV). */
void fake_fw_add_device(struct nc_fw *fw, const char *name);

/* Port @tap: -1 when it has none, else 1 when secured (to @mac and @ip)
 * or 0 when open. */
int fake_fw_port(struct nc_fw *fw, const char *tap, char mac[18], char ip[16]);

/* Port @tap's bandwidth limits (bytes a second, 0: none) and burst: 0,
 * or -1 when it has no port. */
int fake_fw_port_bandwidth(struct nc_fw *fw, const char *tap, uint64_t *in, uint64_t *out,
                           uint32_t *burst);

/* The policies as last made, one line per policy and rule (see
 * fake_policies() in firewall.c); NULL when there are none. Free it. */
char *fake_fw_policies(struct nc_fw *fw);

/* The next @times calls of @op ("policies", "port_set"...) fail with @err. */
void fake_fw_fail(struct nc_fw *fw, const char *op, int err, unsigned times);

/* Joins its calls to @s (drivers/fake/faults.h). */
void fake_fw_sweep(struct nc_fw *fw, struct fake_sweep *s);

#endif
