/* What the benchmark tools share: the clock, the etcd floor, the store
 * revision. Header-only: each tool is one file and this. */
#ifndef NC_BENCH_UTIL_H
#define NC_BENCH_UTIL_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/etcd.h"

static inline double
bench_now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Prints "TOOL: WHAT: why" and exits 1. */
static inline void
bench_die(const char *tool, const char *what, struct nc_etcd *c)
{
    fprintf(stderr, "%s: %s: %s\n", tool, what, c ? nc_etcd_errmsg(c) : strerror(errno));
    exit(1);
}

static inline int64_t
bench_store_revision(const char *tool, struct nc_etcd *c)
{
    struct nc_range rg;
    int64_t rev;

    if (nc_etcd_range(c, "/", NULL, 0, 1, &rg) < 0)
        bench_die(tool, "range", c);
    rev = rg.revision;
    nc_range_clear(&rg);
    return rev;
}

/*
 * The floor: @n sequential create-only txns of @value through the client
 * code the controller uses, under /bench-floor/. Seconds.
 *
 * The floor's keys are deleted after, and the store compacted, so that the
 * run measured next starts from an etcd as fast as a fresh one. etcd 3.4
 * copies its buffer of uncommitted writes for every read and every txn, at
 * the length the buffer once reached, and the key bucket's buffer shrinks
 * only at a commit that writes nothing to it. The one delete of @n keys
 * grows it to @n entries: a txn then cost 4.5 ms instead of 0.9 ms after
 * 100,000 (hack/etcd.sh, 1,000 txns each), and the controller's run that
 * follows grew with N squared. The compaction's commit writes only etcd's
 * own meta bucket, which drops the key bucket's buffer.
 */
static inline double
bench_floor(const char *tool, struct nc_etcd *c, int n, const char *value)
{
    double t0 = bench_now_s(), t;

    for (int i = 0; i < n; i++) {
        char key[64];
        struct nc_cmp cmp = {.key = key, .target = NC_CMP_CREATE, .result = NC_CMP_EQUAL};
        struct nc_op op = {.key = key, .value = value};
        bool ok;

        snprintf(key, sizeof(key), "/bench-floor/%d", i);
        if (nc_etcd_txn(c, &cmp, 1, &op, 1, NULL, 0, &ok, NULL) < 0)
            bench_die(tool, "floor txn", c);
    }
    t = bench_now_s() - t0;
    if (nc_etcd_delete(c, "/bench-floor/", true, NULL) < 0)
        bench_die(tool, "delete", c);
    /* The delete's commit, then the compaction's: etcd commits every 100 ms. */
    usleep(250 * 1000);
    if (nc_etcd_compact(c, bench_store_revision(tool, c)) < 0)
        bench_die(tool, "compact", c);
    usleep(250 * 1000);
    return t;
}

/* A watch's compacted callback: the run is void. */
static inline void
bench_compacted(void *data, int64_t rev)
{
    (void)data;
    fprintf(stderr, "benchmark: etcd compacted to %lld during the run\n", (long long)rev);
    exit(1);
}

#endif
