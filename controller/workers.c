#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "controller/workers.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/names.h"
#include "drivers/overlay.h"
#include "reconcilers/networkpolicy.h"

struct worker {
    pthread_t thread;
    struct nc_workers *pool;
    struct nc_ctx ctx;
    bool started;
};

struct nc_workers {
    struct nc_env *env;
    struct nc_wq *q;
    int n;
    struct worker *w;
};

static void
enqueue(void *data, const char *key)
{
    int r = nc_wq_add(data, key);

    if (r < 0)
        nc_error(key, "cannot queue: %s", strerror(-r));
}

struct status_walk {
    struct nc_wq *q;
    size_t skip; /* length of "<prefix>status/" */
};

static void
on_status_key(void *data, const char *key)
{
    struct status_walk *sw = data;

    enqueue(sw->q, key + sw->skip);
}

struct domain_count {
    const char *install_hash;
    size_t n;
};

static void
count_domain(const char *name, const struct nc_owner *owner, void *data)
{
    struct domain_count *dc = data;
    char ns[NC_NAME_MAX + 1], vm[NC_NAME_MAX + 1];

    (void)owner;
    if (nc_domain_name_parse(dc->install_hash, name, ns, vm))
        dc->n++;
}

/* Counts the domains this installation owns on this node, for /metrics. */
static void
count_domains(struct worker *w)
{
    struct domain_count dc = {w->pool->env->install_hash, 0};

    if (nc_hv_list_owned(w->pool->env->hv, count_domain, &dc) == 0)
        w->pool->env->domains_owned = dc.n;
}

/*
 * Queues every resource this installation created and every status key,
 * so that what exists without a spec (a domain, or a status whose
 * teardown a crash interrupted) is reconciled, that is deleted, too.
 */
static int
resync_actual(struct worker *w)
{
    struct nc_workers *pool = w->pool;
    struct status_walk sw = {.q = pool->q, .skip = strlen(pool->env->prefix) + strlen("status/")};
    int r = 0;

    nc_informer_foreach(pool->env->statuses, on_status_key, &sw);
    count_domains(w);
    /* Every kind is listed, whatever the one before said. */
    for (size_t i = 0; nc_reconcilers[i]; i++) {
        const struct nc_reconciler *k = nc_reconcilers[i];
        int one = k->list_actual ? k->list_actual(&w->ctx, enqueue, pool->q) : 0;

        if (one < 0) {
            nc_warn(NULL, "listing what exists of kind %s: %s", k->kind, nc_drv_errmsg());
            r = one;
        }
    }
    return r;
}

static void
run_one(struct worker *w, const char *key)
{
    struct nc_workers *pool = w->pool;
    char ns[NC_NAME_MAX + 1], kind[16], name[NC_NAME_MAX + 1];
    const struct nc_reconciler *k;
    int64_t start = nc_now_ms(), requeue = 0;
    enum nc_result result;
    int r = 0;

    if (strcmp(key, NC_KEY_COUNT_DOMAINS) == 0) {
        count_domains(w);
        return;
    }
    if (strcmp(key, NC_KEY_RESYNC_ACTUAL) == 0) {
        if (resync_actual(w) < 0 && nc_wq_add_rate_limited(pool->q, key) < 0)
            nc_error(key, "cannot queue: out of memory");
        return;
    }
    if (strcmp(key, NC_KEY_POLICIES) == 0) {
        r = nc_netpol_sync(&w->ctx);
        if (r < 0 && nc_wq_add_rate_limited(pool->q, key) < 0)
            nc_error(key, "cannot queue: out of memory");
        if (r == 0)
            nc_wq_forget(pool->q, key);
        nc_metrics_reconcile(pool->env->metrics, "networkpolicy",
                             r < 0 ? NC_RESULT_ERROR : NC_RESULT_SUCCESS,
                             (double)(nc_now_ms() - start));
        return;
    }
    /* The watch callbacks queue only keys that parse (controller/main.c);
     * the statuses walk of a resync and the reconcilers' dependents are
     * checked here, where one that names no object is dropped. */
    if (!nc_key_parse(key, ns, kind, name) || !(k = nc_reconciler_for(kind))) {
        nc_warn(key, "not an object's key: dropped");
        return;
    }

    r = k->reconcile(&w->ctx, ns, name, &requeue);
    if (r < 0) {
        result = NC_RESULT_ERROR;
        nc_warn(key, "reconcile failed (%s), retry %u with backoff", strerror(-r),
                nc_wq_failures(pool->q, key) + 1);
        r = nc_wq_add_rate_limited(pool->q, key);
    } else {
        nc_wq_forget(pool->q, key);
        result = requeue > 0 ? NC_RESULT_REQUEUE : NC_RESULT_SUCCESS;
        r = requeue > 0 ? nc_wq_add_after(pool->q, key, requeue) : 0;
    }
    if (r < 0)
        nc_error(key, "cannot queue: out of memory");
    nc_metrics_reconcile(pool->env->metrics, k->kind, result, (double)(nc_now_ms() - start));
}

static void *
worker_main(void *arg)
{
    struct worker *w = arg;
    char key[NC_WQ_KEY_MAX + 1];
    int64_t waited;

    while (nc_wq_get(w->pool->q, key, sizeof(key), &waited) == 0) {
        nc_metrics_queue_wait(w->pool->env->metrics, waited);
        run_one(w, key);
        nc_wq_done(w->pool->q, key);
    }
    return NULL;
}

int
nc_workers_start(struct nc_env *env, const struct nc_etcd_conf *conf, struct nc_wq *q, int n,
                 struct nc_workers **ret)
{
    struct nc_workers *pool = calloc(1, sizeof(*pool));

    if (!pool || !(pool->w = calloc((size_t)n, sizeof(*pool->w)))) {
        free(pool);
        return -ENOMEM;
    }
    pool->env = env;
    pool->q = q;
    pool->n = n;
    for (int i = 0; i < n; i++) {
        struct worker *w = &pool->w[i];

        w->pool = pool;
        w->ctx.env = env;
        w->ctx.etcd = nc_etcd_new(conf);
        if (nc_overlay_open(env->netns, &w->ctx.ov) < 0 && i == 0)
            nc_warn(NULL, "no netlink socket for Networks: %s", nc_drv_errmsg());
        if (!w->ctx.etcd || pthread_create(&w->thread, NULL, worker_main, w) != 0) {
            nc_wq_shutdown(q);
            nc_workers_stop(pool, 0);
            return -ENOMEM;
        }
        w->started = true;
    }
    *ret = pool;
    return 0;
}

int
nc_workers_stop(struct nc_workers *pool, int64_t timeout_ms)
{
    struct timespec deadline;
    int r = 0;

    if (!pool)
        return 0;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (timeout_ms % 1000) * 1000000;
    if (deadline.tv_nsec >= 1000000000) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000;
    }
    for (int i = 0; i < pool->n; i++) {
        if (!pool->w[i].started)
            continue;
        if (pthread_timedjoin_np(pool->w[i].thread, NULL, &deadline) != 0)
            r = -ETIMEDOUT;
    }
    if (r < 0)
        return r; /* a worker may still use its client: leave it be */
    for (int i = 0; i < pool->n; i++) {
        nc_etcd_free(pool->w[i].ctx.etcd);
        nc_overlay_close(pool->w[i].ctx.ov);
    }
    free(pool->w);
    free(pool);
    return 0;
}
