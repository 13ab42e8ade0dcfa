/* The Network reconciler: specs under spec/<ns>/network/ to a bridge and a
 * VXLAN device on this node (drivers/overlay.h), with the allocations of
 * schema/README.md §1 made by etcd transactions. */
#ifndef NC_RECONCILER_NETWORK_H
#define NC_RECONCILER_NETWORK_H

#include "drivers/overlay.h"
#include "reconcilers/reconciler.h"

#define NC_NETWORK_ALIAS_MAX 160

/* Its row of nc_reconcilers[]. */
extern const struct nc_reconciler nc_network_reconciler;

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


#endif
