/*
 * Per-VM and per-node metrics for /metrics: what the node's domains use
 * (CPU, memory, each disk's and each interface's traffic), read from
 * libvirt in one statistics call for all of them, and labelled with the
 * VM's namespace and name and the disk's and interface's names from its
 * spec (schema/README.md, "Metrics").
 */
#ifndef NC_CONTROLLER_VMSTATS_H
#define NC_CONTROLLER_VMSTATS_H

#include <event2/buffer.h>

#include "reconcilers/reconciler.h"

/* Appends the metrics to @out as Prometheus text: only the node's own when
 * libvirt cannot answer (logged). 0, or -ENOMEM. Any thread. */
int nc_vmstats_render(struct nc_env *env, struct evbuffer *out)
    __attribute__((warn_unused_result));

#endif
