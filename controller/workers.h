/* Worker threads: take keys from the work queue and run their reconciler. */
#ifndef NC_WORKERS_H
#define NC_WORKERS_H

#include <stdint.h>

#include "core/etcd.h"
#include "core/workqueue.h"
#include "reconcilers/reconciler.h"

/* The queue key that asks a worker to enqueue every actual resource (the
 * "actual" half of the union that start-up and resync reconcile). */
#define NC_KEY_RESYNC_ACTUAL "!actual"
/* The queue key that asks a worker to count this node's domains for
 * /metrics (nc_env.domains_owned), so that a scrape never waits on
 * libvirt in the event loop. Queued at start, at resync and by each
 * scrape, which shows the count the one before asked for. */
#define NC_KEY_COUNT_DOMAINS "!count-domains"

struct nc_workers;

/* Starts @n workers, each with its own etcd client. @env, @conf and @q
 * must outlive them. Returns 0 and sets *ret, or a negative errno. */
int nc_workers_start(struct nc_env *env, const struct nc_etcd_conf *conf, struct nc_wq *q, int n,
                     struct nc_workers **ret) __attribute__((warn_unused_result));

/*
 * Waits at most @timeout_ms for the workers to finish their current
 * reconcile (call nc_wq_shutdown() first), then frees what it can.
 * Returns 0, or -ETIMEDOUT when some were still busy (they are left
 * running; the process is about to exit).
 */
int nc_workers_stop(struct nc_workers *w, int64_t timeout_ms);

#endif
