/*
 * nc-sched-bench: how fast and how well the scheduler places VMs. Writes
 * NODES simulated node registrations into etcd (they run nothing), cordons
 * the real novacrond's own node so that only they are candidates, and
 * follows the placements through a watch, twice:
 *   - streaming: N specs put one after another while the scheduler runs:
 *     the time from each put to its placement;
 *   - backlog: N more specs put while every node is cordoned (each gets
 *     its Unschedulable status), then the nodes uncordoned at once: how
 *     many placements per second the scheduler makes, and what it writes.
 * tests/bench/run.sh starts etcd and novacrond (with the policy) around it.
 *
 *   nc-sched-bench ETCD_URL OWN_NODE N NODES POLICY
 *
 * The floor is N sequential create-only txns through the same client code
 * the controller uses: what placing costs when each VM is one write.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <event2/event.h>

#include "core/etcd.h"
#include "core/watch.h"
#include "tests/bench/util.h"

#define PREFIX "/novacron/"
#define TOOL "nc-sched-bench"
#define VM_MEMORY (64ULL << 20)

struct bench {
    struct nc_etcd_conf conf;
    int n, n_nodes;
    const char *ns;   /* the phase's namespace: "stream" or "backlog" */
    bool counting_statuses; /* the backlog phase waits for N statuses */
    pthread_mutex_t lock;
    double *t_put;    /* per VM: when its put returned (0: not yet) */
    double *t_placed; /* per VM: when its placement arrived */
    int *node;        /* per VM and phase: index of the node it was placed on */
    char *has_status; /* per VM of the backlog: its status came */
    int placed, statuses;
    double t_start, t_done;
    struct event_base *base;
};

/* The VM index of key PREFIX SPACE "/" ns "/" ... "vm-N" of this phase. */
static int
vm_index(const struct bench *b, const char *key, const char *space)
{
    char want[64];
    const char *name = strrchr(key, '/');
    int i;

    snprintf(want, sizeof(want), PREFIX "%s/%s/", space, b->ns);
    if (strncmp(key, want, strlen(want)) != 0 || !name || sscanf(name, "/vm-%d", &i) != 1 ||
        i < 0 || i >= b->n)
        return -1;
    return i;
}

static void
on_event(void *data, const struct nc_kv *kv, bool deleted)
{
    struct bench *b = data;
    int i, node;

    if (deleted)
        return;
    pthread_mutex_lock(&b->lock);
    if (b->counting_statuses && (i = vm_index(b, kv->key, "status")) >= 0 && !b->has_status[i]) {
        b->has_status[i] = 1;
        if (++b->statuses == b->n)
            event_base_loopbreak(b->base);
    }
    if ((i = vm_index(b, kv->key, "placement")) < 0 || sscanf(kv->value, "sim-%d", &node) != 1) {
        pthread_mutex_unlock(&b->lock);
        return;
    }
    if (!b->t_placed[i]) {
        b->t_placed[i] = bench_now_s();
        b->node[i] = node;
        if (++b->placed == b->n) {
            b->t_done = b->t_placed[i];
            event_base_loopbreak(b->base);
        }
    }
    pthread_mutex_unlock(&b->lock);
}

static void *
apply_thread(void *arg)
{
    struct bench *b = arg;
    struct nc_etcd *c = nc_etcd_new(&b->conf);

    for (int i = 0; i < b->n; i++) {
        char key[128], doc[512];

        snprintf(key, sizeof(key), PREFIX "spec/%s/vm/vm-%d", b->ns, i);
        snprintf(doc, sizeof(doc),
                 "{\"apiVersion\":\"novacron.io/v1\",\"kind\":\"VirtualMachine\",\"metadata\":"
                 "{\"name\":\"vm-%d\",\"namespace\":\"%s\"},"
                 "\"spec\":{\"vcpus\":1,\"memory\":\"64MiB\"}}",
                 i, b->ns);
        if (nc_etcd_put(c, key, doc, 0, NULL) < 0)
            bench_die(TOOL, "put", c);
        pthread_mutex_lock(&b->lock);
        b->t_put[i] = bench_now_s();
        pthread_mutex_unlock(&b->lock);
    }
    nc_etcd_free(c);
    return NULL;
}

/* Registers the simulated nodes: 64 CPUs (x64) and 256 GiB each, in
 * three zones, with the pool "default": room for both phases. */
static void
register_nodes(struct nc_etcd *c, int n)
{
    for (int i = 0; i < n; i++) {
        char key[64], doc[512];

        snprintf(key, sizeof(key), PREFIX "nodes/sim-%03d", i);
        snprintf(doc, sizeof(doc),
                 "{\"name\":\"sim-%03d\",\"capacity\":{\"vcpus\":64,\"memory\":274877906944},"
                 "\"allocatable\":{\"vcpus\":64,\"memory\":274877906944},"
                 "\"overcommit\":{\"cpu\":64,\"memory\":1},\"labels\":{\"zone\":\"z%d\"},"
                 "\"pools\":[{\"name\":\"default\",\"shared\":false}]}",
                 i, i % 3);
        if (nc_etcd_put(c, key, doc, 0, NULL) < 0)
            bench_die(TOOL, "register", c);
    }
}

static int
by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static double
percentile(double *v, int n, double p)
{
    qsort(v, (size_t)n, sizeof(double), by_value);
    return v[(size_t)((n - 1) * p)];
}

/* Cordons (or with @off, uncordons) every simulated node in one txn. */
static void
cordon_all(struct nc_etcd *c, int n, bool off)
{
    struct nc_op *ops = calloc((size_t)n, sizeof(*ops));
    char (*keys)[64] = calloc((size_t)n, sizeof(*keys));
    bool ok;

    for (int i = 0; i < n; i++) {
        snprintf(keys[i], sizeof(keys[i]), PREFIX "cordon/sim-%03d", i);
        ops[i] = (struct nc_op){.del = off, .key = keys[i], .value = "{\"drain\":false}"};
    }
    if (nc_etcd_txn(c, NULL, 0, ops, (size_t)n, NULL, 0, &ok, NULL) < 0)
        bench_die(TOOL, "cordon", c);
    free(ops);
    free(keys);
}

/* Runs one phase in namespace @ns. Returns the store revisions the
 * scheduler wrote during it. */
static int64_t
phase(struct bench *b, struct nc_etcd *c, const char *ns, bool backlog)
{
    struct nc_watch *w;
    static const struct nc_watch_ops ops = {.event = on_event, .compacted = bench_compacted};
    pthread_t t;
    int64_t r0, r1;

    b->ns = ns;
    b->placed = b->statuses = 0;
    memset(b->t_put, 0, (size_t)b->n * sizeof(double));
    memset(b->t_placed, 0, (size_t)b->n * sizeof(double));
    memset(b->has_status, 0, (size_t)b->n);
    b->base = event_base_new();
    w = nc_watch_new(b->base, &b->conf, PREFIX, &ops, b);
    r0 = bench_store_revision(TOOL, c);
    if (nc_watch_start(w, r0 + 1) < 0)
        bench_die(TOOL, "watch", NULL);
    if (backlog) {
        cordon_all(c, b->n_nodes, false);
        b->counting_statuses = true;
        pthread_create(&t, NULL, apply_thread, b);
        event_base_dispatch(b->base); /* until every VM says it is Unschedulable */
        pthread_join(t, NULL);
        b->counting_statuses = false;
        r0 = bench_store_revision(TOOL, c);
        b->t_start = bench_now_s();
        cordon_all(c, b->n_nodes, true);
        event_base_dispatch(b->base);
        r1 = bench_store_revision(TOOL, c) - 1; /* the uncordon */
    } else {
        b->t_start = bench_now_s();
        pthread_create(&t, NULL, apply_thread, b);
        event_base_dispatch(b->base);
        pthread_join(t, NULL);
        r1 = bench_store_revision(TOOL, c) - b->n; /* the puts */
    }
    nc_watch_free(w);
    event_base_free(b->base);
    return r1 - r0;
}

int
main(int argc, char **argv)
{
    static const char *endpoints[1];
    struct bench b = {.lock = PTHREAD_MUTEX_INITIALIZER};
    struct nc_etcd *c;
    char key[300];
    double floor_s;

    if (argc != 6) {
        fprintf(stderr, "usage: nc-sched-bench ETCD_URL OWN_NODE N NODES POLICY\n");
        return 2;
    }
    endpoints[0] = argv[1];
    b.n = atoi(argv[3]);
    b.n_nodes = atoi(argv[4]);
    b.conf = (struct nc_etcd_conf){.endpoints = endpoints, .n_endpoints = 1};
    b.t_put = calloc((size_t)b.n, sizeof(double));
    b.t_placed = calloc((size_t)b.n, sizeof(double));
    b.node = calloc((size_t)b.n, sizeof(int));
    b.has_status = calloc((size_t)b.n, 1);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    c = nc_etcd_new(&b.conf);

    floor_s = bench_floor(TOOL, c, b.n, "sim-000");
    snprintf(key, sizeof(key), PREFIX "cordon/%s", argv[2]);
    if (nc_etcd_put(c, key, "{\"drain\":false}", 0, NULL) < 0)
        bench_die(TOOL, "cordon", c);
    register_nodes(c, b.n_nodes);

    {
        double *lat = calloc((size_t)b.n, sizeof(double)), stream_s, backlog_s;
        unsigned *per_node = calloc((size_t)b.n_nodes, sizeof(unsigned));
        unsigned lo = (unsigned)-1, hi = 0, used = 0;
        int64_t writes;

        phase(&b, c, "stream", false);
        stream_s = b.t_done - b.t_start;
        for (int i = 0; i < b.n; i++) {
            lat[i] = b.t_placed[i] - b.t_put[i];
            per_node[b.node[i]]++;
        }
        writes = phase(&b, c, "backlog", true);
        backlog_s = b.t_done - b.t_start;
        for (int i = 0; i < b.n; i++)
            per_node[b.node[i]]++;
        for (int i = 0; i < b.n_nodes; i++) {
            lo = per_node[i] < lo ? per_node[i] : lo;
            hi = per_node[i] > hi ? per_node[i] : hi;
            used += per_node[i] > 0;
        }
        printf("N=%d VMs onto %d nodes, --placement-policy %s\n", b.n, b.n_nodes, argv[5]);
        printf("  etcd floor: %d sequential txns           %8.3f s  (%.0f txn/s)\n", b.n,
               floor_s, b.n / floor_s);
        printf("  streaming: N puts, all placed             %8.3f s; put to placement p50 / p99 "
               "%.1f / %.1f ms\n",
               stream_s, 1000 * percentile(lat, b.n, 0.5), 1000 * percentile(lat, b.n, 0.99));
        printf("  backlog: N placed after an uncordon       %8.3f s  (%.0f placements/s)\n",
               backlog_s, b.n / backlog_s);
        printf("  placements/s / floor txn/s                %8.2f x\n",
               (b.n / backlog_s) / (b.n / floor_s));
        printf("  etcd writes per VM placed (backlog)       %8.3f  (%" PRId64 " revisions)\n",
               (double)writes / b.n, writes);
        if (strcmp(argv[5], "pack") == 0)
            printf("  nodes used for %d VMs                  %8u of %d\n", 2 * b.n, used,
                   b.n_nodes);
        else
            printf("  VMs per node max / min                    %8.3f  (%u / %u)\n",
                   lo ? (double)hi / lo : 0.0, hi, lo);
        fflush(stdout);
        free(lat);
        free(per_node);
    }
    nc_etcd_free(c);
    free(b.t_put);
    free(b.t_placed);
    free(b.node);
    free(b.has_status);
    return 0;
}
