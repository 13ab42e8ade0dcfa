/*
 * Node inventory (schema/README.md §8): what a node's registration
 * nodes/<node> says it offers — allocatable vCPUs and memory, overcommit
 * ratios, labels, storage pools — and what is placed on it. The daemon
 * writes its own with nc_inventory_json(); the scheduler and novactl read
 * everyone's with nc_sched_node_parse().
 */
#ifndef NC_SCHED_INVENTORY_H
#define NC_SCHED_INVENTORY_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "schema/labels.h"
#include "schema/vm.h"

#define NC_SCHED_MAX_POOLS 32
#define NC_SCHED_MAX_LABELS 64
#define NC_SCHED_POOL_MAX 63 /* characters of a pool name */

struct nc_sched_pool {
    char name[NC_SCHED_POOL_MAX + 1];
    bool shared; /* the same storage on every node (--shared-pool) */
};

struct nc_sched_node {
    char name[254];
    unsigned vcpus;  /* allocatable: the host's minus --reserve-cpu */
    unsigned host_cpus; /* the host's: CPU ids 0 to this - 1 */
    uint64_t memory; /* allocatable bytes: the host's minus --reserve-memory */
    double cpu_ratio, memory_ratio; /* overcommit */
    struct nc_labels labels;        /* its --node-label, and NC_LABEL_NODE */
    unsigned n_pools;
    struct nc_sched_pool pools[NC_SCHED_MAX_POOLS];
    unsigned runtimes;              /* 1 << enum nc_runtime of each it runs */
    bool cordoned;                  /* no new VMs (novactl cordon) */
    bool drained;                   /* and its VMs move away (novactl drain) */
    /* What is placed there (nc_sched_account()): vCPUs of VMs that pin
     * none (sharing, overcommitted), and the CPUs that VMs pin (each
     * dedicated to one). */
    uint64_t used_vcpus, used_memory;
    struct nc_cpuset dedicated;
    unsigned n_dedicated;
    unsigned n_vms;
};

/* What a node offers, as the daemon registers it. */
struct nc_inventory {
    const char *name;
    unsigned host_vcpus;
    uint64_t host_memory;
    unsigned reserve_vcpus;
    uint64_t reserve_memory;
    double cpu_ratio, memory_ratio;
    const struct nc_labels *labels;
    const struct nc_sched_pool *pools;
    unsigned n_pools;
    unsigned runtimes; /* 1 << enum nc_runtime of each it runs */
};

/* The inventory part of a registration, as members of @o. 0 or -ENOMEM. */
int nc_inventory_json(const struct nc_inventory *inv, cJSON *o)
    __attribute__((warn_unused_result));

/*
 * Reads registration @json of node @name into @ret (clear it with
 * nc_sched_node_clear()). 0; -EINVAL when it is not a registration (then
 * the node cannot be scheduled on); -ENOMEM.
 */
int nc_sched_node_parse(const char *name, const char *json, struct nc_sched_node *ret)
    __attribute__((warn_unused_result));
void nc_sched_node_clear(struct nc_sched_node *n);

/* The pool named @pool of @n, NULL when it has none. */
const struct nc_sched_pool *nc_sched_node_pool(const struct nc_sched_node *n, const char *pool);

/* How many vCPUs that pin no CPU and bytes of memory fit on @n in all
 * (allocatable, less the dedicated CPUs, x overcommit). */
uint64_t nc_sched_node_cpu_limit(const struct nc_sched_node *n);
uint64_t nc_sched_node_memory_limit(const struct nc_sched_node *n);

#endif
