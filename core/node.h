/*
 * This node's registration (schema/README.md §8): nodes/<node> bound to an
 * etcd lease that a thread of its own keeps alive. The lease is the node's
 * heartbeat: when the node stops renewing it (crash, partition), etcd
 * deletes the registration (and the scheduler's leader key, when this node
 * held it), and the scheduler places the node's VMs again. A restart
 * within the TTL takes the lease up again, so nothing moves.
 */
#ifndef NC_NODE_H
#define NC_NODE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/etcd.h"

struct nc_node;

/*
 * Registers @name under @prefix with a lease of @ttl_s seconds, and what
 * it reports (@info_json, copied). Blocks until etcd answered once.
 * Returns 0 and sets *ret, or a negative errno (see the log).
 */
int nc_node_start(const struct nc_etcd_conf *conf, const char *prefix, const char *name,
                  int64_t ttl_s, const char *info_json, struct nc_node **ret)
    __attribute__((warn_unused_result));
/* Stops renewing (the lease then expires by itself) and frees @n. */
void nc_node_stop(struct nc_node *n);

/* The current lease id; 0 while it is being granted again. Thread-safe. */
int64_t nc_node_lease(struct nc_node *n);
/* True once the node's lease expired while this process ran: the cluster
 * took it for dead meanwhile, and moved or deleted its VMs without it. */
bool nc_node_lease_lost(struct nc_node *n);

#endif
