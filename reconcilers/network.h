/* The Network reconciler: specs under spec/<ns>/network/ to a bridge and a
 * VXLAN device on this node (drivers/overlay.h), with the allocations of
 * schema/README.md §1 made by etcd transactions. */
#ifndef NC_RECONCILER_NETWORK_H
#define NC_RECONCILER_NETWORK_H

#include "drivers/overlay.h"
#include "reconcilers/reconciler.h"

#define NC_NETWORK_ALIAS_MAX 160

int nc_network_reconcile(struct nc_ctx *ctx, const char *ns, const char *name,
                         int64_t *ret_requeue_ms) __attribute__((warn_unused_result));

/*
 * The names of Network @ns/@name's devices on every node: bridge "ncb" and
 * VXLAN device "ncx" with a hash of the installation, namespace and name,
 * within the kernel's 15 characters, and the owner mark both carry in
 * their alias. What a VM's tap joins is found this way, never from the
 * Network's status.
 */
void nc_network_names(const struct nc_env *env, const char *ns, const char *name,
                      char bridge[NC_IFNAME_MAX], char vxlan[NC_IFNAME_MAX],
                      char alias[NC_NETWORK_ALIAS_MAX]);

/* Calls @fn with "NS/network/NAME" for every device on this node whose
 * alias marks it as this installation's. 0 or a negative errno. */
int nc_network_list_actual(struct nc_ctx *ctx, void (*fn)(void *data, const char *key),
                           void *data) __attribute__((warn_unused_result));

#endif
