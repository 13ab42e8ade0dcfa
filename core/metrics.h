/* The numbers /metrics serves, in Prometheus text format. Thread-safe. */
#ifndef NC_METRICS_H
#define NC_METRICS_H

#include <stddef.h>
#include <stdint.h>

enum nc_result {
    NC_RESULT_SUCCESS,
    NC_RESULT_REQUEUE,
    NC_RESULT_ERROR,
    NC_RESULT_INVALID,
};

struct nc_metrics;

/* Gauges read at render time, from the loop thread. */
struct nc_metrics_gauges {
    size_t queue_depth, queue_delayed, cached_specs;
    size_t domains; /* libvirt domains this node's controller owns */
    uint64_t watch_restarts, etcd_errors;
    uint64_t write_requests;   /* etcd requests the status writes took (group commit) */
    int ready;
    int scheduler_leader;      /* this process leads the scheduler */
    uint64_t placements;       /* VMs it placed since start */
    size_t unschedulable;      /* VMs its last pass could place nowhere */
};

struct nc_metrics *nc_metrics_new(void);
struct nc_metrics *nc_metrics_free(struct nc_metrics *m);

/* Counts one reconcile of @kind ("vm", ...) that took @ms. */
void nc_metrics_reconcile(struct nc_metrics *m, const char *kind, enum nc_result result,
                          double ms);
/* Records how long a key waited in the queue before a worker took it. */
void nc_metrics_queue_wait(struct nc_metrics *m, int64_t ms);
/* Counts etcd writes the controller made (status, events). */
void nc_metrics_etcd_write(struct nc_metrics *m);

/* Returns the text exposition; caller frees. NULL on out of memory. */
char *nc_metrics_render(struct nc_metrics *m, const struct nc_metrics_gauges *g);

#endif
