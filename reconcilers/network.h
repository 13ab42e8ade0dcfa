/* The Network reconciler: specs under spec/<ns>/network/ to a bridge and a
 * VXLAN device on this node (drivers/overlay.h), with the allocations of
 * schema/README.md §1 made by etcd transactions. */
#ifndef NC_RECONCILER_NETWORK_H
#define NC_RECONCILER_NETWORK_H

#include "reconcilers/reconciler.h"

int nc_network_reconcile(struct nc_ctx *ctx, const char *ns, const char *name,
                         int64_t *ret_requeue_ms) __attribute__((warn_unused_result));

/* Calls @fn with "NS/network/NAME" for every device on this node whose
 * alias marks it as this installation's. 0 or a negative errno. */
int nc_network_list_actual(struct nc_ctx *ctx, void (*fn)(void *data, const char *key),
                           void *data) __attribute__((warn_unused_result));

#endif
