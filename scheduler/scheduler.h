/*
 * The scheduler's decision (schema/README.md §8), without any I/O: given
 * the nodes and the VMs already placed, which node a VM goes to, or why it
 * can go nowhere. Filters first (cordon, node selector, volumes, pools,
 * CPU, memory, required anti-affinity), then a score (topology spread,
 * preferred anti-affinity, least or most allocated). The leader loop
 * (controller/leader.c) feeds it from etcd and writes what it decides.
 */
#ifndef NC_SCHEDULER_H
#define NC_SCHEDULER_H

#include <stddef.h>

#include "scheduler/inventory.h"
#include "schema/vm.h"

enum nc_sched_policy {
    NC_SCHED_SPREAD, /* least allocated first */
    NC_SCHED_PACK,   /* most allocated first */
};

extern const char *const nc_sched_policy_names[];

/* A VM as the scheduler sees it. */
struct nc_sched_vm {
    const char *ns, *name;
    enum nc_runtime runtime; /* only nodes that run it */
    unsigned vcpus;
    uint64_t memory;
    /* The host CPUs it pins, one per vCPU (n_pinned of them), dedicated
     * to it; NULL for none. */
    const struct nc_cpuset *pinning;
    unsigned n_pinned;
    const struct nc_labels *labels;
    const struct nc_vm_placement *placement; /* NULL: no constraints */
    /* Where its node-local Volumes are ("" when nowhere yet): only there. */
    const char *pin;
    /* A migration's: never the node it runs on (@avoid), only the node
     * asked for (@only); NULL for none. */
    const char *avoid, *only;
    /* The storage pools its Volumes live in: only nodes that have them. */
    const char *const *pools;
    unsigned n_pools;
    int node; /* index into nodes where it runs; -1 when nowhere */
};

struct nc_sched {
    enum nc_sched_policy policy;
    struct nc_sched_node *nodes;
    unsigned n_nodes;
    /* Every VM placed on one of @nodes, for (anti-)affinity and spread
     * (nc_sched_add()), and how many of them have a required
     * anti-affinity term (which every placement must then check). */
    const struct nc_sched_vm **vms;
    size_t n_vms, n_anti;
};

/*
 * The node @vm should go to: its index; or -1 with the reason per node in
 * @why, as one line ("0/3 nodes: 2 insufficient memory, 1 cordoned").
 * A node that is gone is not in @s at all.
 */
int nc_sched_pick(const struct nc_sched *s, const struct nc_sched_vm *vm, char *why,
                  size_t whysz);

/* Adds placed VM @vm to s->vms, which must have room for it. */
void nc_sched_add(struct nc_sched *s, const struct nc_sched_vm *vm);

/* Counts @vm's requests on node @node (@sign 1), or takes them back (-1). */
void nc_sched_account(struct nc_sched *s, const struct nc_sched_vm *vm, int node, int sign);

#endif
