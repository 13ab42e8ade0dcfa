/*
 * Reconcile durations go to a fixed-bucket histogram. Queue waits, whose
 * p50/p99 the benchmark reports, are kept as the last WAIT_SAMPLES values
 * and rendered as a summary; sorting a copy at render time is O(n log n)
 * per scrape, which at 4096 samples costs well under a millisecond.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/metrics.h"

#define MAX_KINDS 8
#define WAIT_SAMPLES 4096

static const double buckets_ms[] = {1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000};
#define N_BUCKETS (sizeof(buckets_ms) / sizeof(buckets_ms[0]))

static const char *const result_names[] = {"success", "requeue", "error"};

struct kind_stats {
    char kind[16];
    uint64_t results[NC_RESULT_INVALID];
    uint64_t bucket[N_BUCKETS + 1];
    double sum_ms;
    uint64_t count;
};

struct nc_metrics {
    pthread_mutex_t lock;
    struct kind_stats kinds[MAX_KINDS];
    size_t n_kinds;
    int64_t waits[WAIT_SAMPLES];
    size_t n_waits, wait_pos;
    uint64_t etcd_writes;
};

struct nc_metrics *
nc_metrics_new(void)
{
    struct nc_metrics *m = calloc(1, sizeof(*m));

    if (m)
        pthread_mutex_init(&m->lock, NULL);
    return m;
}

struct nc_metrics *
nc_metrics_free(struct nc_metrics *m)
{
    if (m) {
        pthread_mutex_destroy(&m->lock);
        free(m);
    }
    return NULL;
}

void
nc_metrics_reconcile(struct nc_metrics *m, const char *kind, enum nc_result result, double ms)
{
    struct kind_stats *k = NULL;
    size_t b;

    pthread_mutex_lock(&m->lock);
    for (size_t i = 0; i < m->n_kinds; i++)
        if (strcmp(m->kinds[i].kind, kind) == 0)
            k = &m->kinds[i];
    if (!k && m->n_kinds < MAX_KINDS) {
        k = &m->kinds[m->n_kinds++];
        snprintf(k->kind, sizeof(k->kind), "%s", kind);
    }
    if (k && result < NC_RESULT_INVALID) {
        k->results[result]++;
        for (b = 0; b < N_BUCKETS && ms > buckets_ms[b]; b++)
            ;
        k->bucket[b]++;
        k->sum_ms += ms;
        k->count++;
    }
    pthread_mutex_unlock(&m->lock);
}

void
nc_metrics_queue_wait(struct nc_metrics *m, int64_t ms)
{
    pthread_mutex_lock(&m->lock);
    m->waits[m->wait_pos] = ms;
    m->wait_pos = (m->wait_pos + 1) % WAIT_SAMPLES;
    if (m->n_waits < WAIT_SAMPLES)
        m->n_waits++;
    pthread_mutex_unlock(&m->lock);
}

void
nc_metrics_etcd_write(struct nc_metrics *m)
{
    pthread_mutex_lock(&m->lock);
    m->etcd_writes++;
    pthread_mutex_unlock(&m->lock);
}

static int
cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return (x > y) - (x < y);
}

char *
nc_metrics_render(struct nc_metrics *m, const struct nc_metrics_gauges *g)
{
    static const double quantiles[] = {0.5, 0.9, 0.99};
    int64_t waits[WAIT_SAMPLES];
    size_t n_waits;
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);

    if (!f)
        return NULL;
    fprintf(f,
            "# HELP novacron_ready Whether the informer listed and the watch is established.\n"
            "# TYPE novacron_ready gauge\nnovacron_ready %d\n"
            "# HELP novacron_queue_depth Keys ready in the work queue.\n"
            "# TYPE novacron_queue_depth gauge\nnovacron_queue_depth %zu\n"
            "# HELP novacron_queue_delayed Keys waiting for a requeue-after or a backoff.\n"
            "# TYPE novacron_queue_delayed gauge\nnovacron_queue_delayed %zu\n"
            "# HELP novacron_specs Spec keys in the informer cache.\n"
            "# TYPE novacron_specs gauge\nnovacron_specs %zu\n"
            "# HELP novacron_domains libvirt domains on this node that NovaCron owns, as counted "
            "after the previous scrape.\n"
            "# TYPE novacron_domains gauge\nnovacron_domains %zu\n"
            "# HELP novacron_watch_restarts_total Times the etcd watch was opened again.\n"
            "# TYPE novacron_watch_restarts_total counter\nnovacron_watch_restarts_total %llu\n"
            "# HELP novacron_etcd_errors_total etcd requests that failed.\n"
            "# TYPE novacron_etcd_errors_total counter\nnovacron_etcd_errors_total %llu\n"
            "# HELP novacron_etcd_write_requests_total etcd requests that carried the status "
            "and event writes; group commit puts several in one.\n"
            "# TYPE novacron_etcd_write_requests_total counter\n"
            "novacron_etcd_write_requests_total %llu\n"
            "# HELP novacron_scheduler_leader Whether this process leads the scheduler.\n"
            "# TYPE novacron_scheduler_leader gauge\nnovacron_scheduler_leader %d\n"
            "# HELP novacron_scheduler_placements_total VMs this process placed as leader.\n"
            "# TYPE novacron_scheduler_placements_total counter\n"
            "novacron_scheduler_placements_total %llu\n"
            "# HELP novacron_scheduler_unschedulable VMs the leader's last pass could place "
            "nowhere.\n"
            "# TYPE novacron_scheduler_unschedulable gauge\nnovacron_scheduler_unschedulable %zu\n",
            g->ready, g->queue_depth, g->queue_delayed, g->cached_specs, g->domains,
            (unsigned long long)g->watch_restarts, (unsigned long long)g->etcd_errors,
            (unsigned long long)g->write_requests,
            g->scheduler_leader, (unsigned long long)g->placements, g->unschedulable);

    pthread_mutex_lock(&m->lock);
    fprintf(f, "# HELP novacron_etcd_writes_total Status and event writes (transactions).\n"
               "# TYPE novacron_etcd_writes_total counter\nnovacron_etcd_writes_total %llu\n",
            (unsigned long long)m->etcd_writes);
    fprintf(f, "# HELP novacron_reconciles_total Reconciles by kind and result.\n"
               "# TYPE novacron_reconciles_total counter\n");
    for (size_t i = 0; i < m->n_kinds; i++)
        for (int r = 0; r < NC_RESULT_INVALID; r++)
            fprintf(f, "novacron_reconciles_total{kind=\"%s\",result=\"%s\"} %llu\n",
                    m->kinds[i].kind, result_names[r],
                    (unsigned long long)m->kinds[i].results[r]);
    fprintf(f, "# HELP novacron_reconcile_duration_seconds Time one reconcile took.\n"
               "# TYPE novacron_reconcile_duration_seconds histogram\n");
    for (size_t i = 0; i < m->n_kinds; i++) {
        const struct kind_stats *k = &m->kinds[i];
        uint64_t cum = 0;

        for (size_t b = 0; b < N_BUCKETS; b++) {
            cum += k->bucket[b];
            fprintf(f, "novacron_reconcile_duration_seconds_bucket{kind=\"%s\",le=\"%g\"} %llu\n",
                    k->kind, buckets_ms[b] / 1000, (unsigned long long)cum);
        }
        fprintf(f,
                "novacron_reconcile_duration_seconds_bucket{kind=\"%s\",le=\"+Inf\"} %llu\n"
                "novacron_reconcile_duration_seconds_sum{kind=\"%s\"} %.6f\n"
                "novacron_reconcile_duration_seconds_count{kind=\"%s\"} %llu\n",
                k->kind, (unsigned long long)k->count, k->kind, k->sum_ms / 1000, k->kind,
                (unsigned long long)k->count);
    }
    n_waits = m->n_waits;
    memcpy(waits, m->waits, n_waits * sizeof(waits[0]));
    pthread_mutex_unlock(&m->lock);

    qsort(waits, n_waits, sizeof(waits[0]), cmp_i64);
    fprintf(f, "# HELP novacron_queue_wait_seconds From a key being queued to a worker "
               "starting its reconcile (last %d).\n"
               "# TYPE novacron_queue_wait_seconds summary\n",
            WAIT_SAMPLES);
    for (size_t i = 0; i < sizeof(quantiles) / sizeof(quantiles[0]); i++) {
        size_t idx = n_waits ? (size_t)(quantiles[i] * (double)(n_waits - 1) + 0.5) : 0;

        fprintf(f, "novacron_queue_wait_seconds{quantile=\"%g\"} %.3f\n", quantiles[i],
                n_waits ? (double)waits[idx] / 1000 : 0.0);
    }
    fprintf(f, "novacron_queue_wait_seconds_count %zu\n", n_waits);
    fclose(f);
    return out;
}
