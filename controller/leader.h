/*
 * The scheduler's leader loop (schema/README.md §8). Every novacrond runs
 * one; at most one leads at a time, through the etcd key leader/scheduler
 * (created only when absent, bound to the node's lease, so it goes with a
 * node that dies). The leader places every VM without spec.node that has
 * no placement, or whose node is gone or drained, using the scheduler
 * (scheduler/), and writes placement/<ns>/<name> and the VM's status in
 * transactions of many VMs each. Each transaction also compares the
 * leader key's create revision, so a leader that lost the key can no
 * longer write anything, and each placement's revision, so a plan made on
 * a stale view fails and is made again: no node is ever overcommitted,
 * even while leadership changes hands.
 *
 * It runs on a thread of its own and learns of changes through
 * nc_leader_note(), which the event loop calls for every changed key.
 */
#ifndef NC_LEADER_H
#define NC_LEADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/etcd.h"
#include "core/informer.h"
#include "reconcilers/reconciler.h"
#include "scheduler/scheduler.h"

struct nc_leader;

struct nc_leader_config {
    enum nc_sched_policy policy;
    int64_t node_ttl_s;           /* how often to try for the key when another holds it */
    struct nc_informer *cordons;  /* <prefix>cordon/ */
};

/* Starts the loop. @env (with its informers), @conf and @cfg's informers
 * must outlive it. 0 and *@ret, or a negative errno. */
int nc_leader_start(struct nc_env *env, const struct nc_etcd_conf *conf,
                    const struct nc_leader_config *cfg, struct nc_leader **ret)
    __attribute__((warn_unused_result));

/* Etcd key @key changed (spec, status, placement, node, cordon, leader):
 * what it affects is looked at again. Any thread. */
void nc_leader_note(struct nc_leader *l, const char *key);

/* True while this process leads. */
bool nc_leader_leading(const struct nc_leader *l);

/* For /metrics: VMs placed since start, and VMs the last pass could place
 * nowhere. Any thread. */
void nc_leader_counts(const struct nc_leader *l, uint64_t *ret_placed, size_t *ret_unschedulable);

/* Stops the loop and, when leading, gives the key up at once, so another
 * node takes over without waiting for the lease. @l may be NULL. */
void nc_leader_stop(struct nc_leader *l);

#endif
