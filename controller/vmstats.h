/*
 * Per-VM and per-node metrics for /metrics: what the node's domains use
 * (CPU, memory, each disk's and each interface's traffic), read from
 * libvirt in one statistics call for all of them, and labelled with the
 * VM's namespace and name and the disk's and interface's names from its
 * spec (schema/README.md, "Metrics").
 */
#ifndef NC_CONTROLLER_VMSTATS_H
#define NC_CONTROLLER_VMSTATS_H

#include "reconcilers/reconciler.h"

/* The metrics as Prometheus text (caller frees), "" when libvirt cannot
 * answer (logged), NULL on out of memory. Any thread. */
char *nc_vmstats_render(struct nc_env *env);

#endif
