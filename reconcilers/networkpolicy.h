/*
 * The NetworkPolicy reconciler (schema/README.md): a policy's status says
 * which VMs of its namespace it selects and the nodes they run on, as
 * every node computes it alike from etcd. Each node enforces every policy
 * for the guests it runs, through the firewall driver's policy table,
 * in one pass over all policies (nc_netpol_sync()), queued as the key
 * NC_KEY_POLICIES whenever a policy or a VM of a namespace with policies
 * changes (its labels, its addresses, its node).
 */
#ifndef NC_RECONCILERS_NETWORKPOLICY_H
#define NC_RECONCILERS_NETWORKPOLICY_H

#include "reconcilers/reconciler.h"

/* The queue key of a node's pass over every policy. */
#define NC_KEY_POLICIES "!policies"

extern const struct nc_reconciler nc_networkpolicy_reconciler;

/* Makes this node's policy table enforce every policy for the guests it
 * runs. 0 or a negative errno (retried with backoff). */
int nc_netpol_sync(struct nc_ctx *ctx);

/* A VM changed: queues this node's pass when there are policies at all. */
void nc_netpol_vm_changed(struct nc_env *env);

#endif
