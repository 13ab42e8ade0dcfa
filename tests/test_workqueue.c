#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/workqueue.h"

static char *
get(struct nc_wq *q, char *buf)
{
    cr_assert_eq(nc_wq_get(q, buf, 64, NULL), 0);
    return buf;
}

Test(workqueue, repeated_adds_coalesce)
{
    struct nc_wq *q = nc_wq_new(10, 1000);
    char k[64];

    cr_assert_eq(nc_wq_add(q, "a"), 0);
    cr_assert_eq(nc_wq_add(q, "b"), 0);
    cr_assert_eq(nc_wq_add(q, "a"), 0);
    cr_assert_eq(nc_wq_add(q, "a"), 0);
    cr_assert_eq(nc_wq_len(q), 2);
    cr_assert_str_eq(get(q, k), "a", "FIFO order by first add");
    cr_assert_str_eq(get(q, k), "b");
    cr_assert_eq(nc_wq_len(q), 0);
    nc_wq_free(q);
}

Test(workqueue, a_key_is_never_in_flight_twice)
{
    struct nc_wq *q = nc_wq_new(10, 1000);
    char k[64];

    cr_assert_eq(nc_wq_add(q, "a"), 0);
    get(q, k);
    /* Added while in flight: held back, not handed to a second worker. */
    cr_assert_eq(nc_wq_add(q, "a"), 0);
    cr_assert_eq(nc_wq_add(q, "a"), 0);
    cr_assert_eq(nc_wq_len(q), 0);
    nc_wq_done(q, "a");
    cr_assert_eq(nc_wq_len(q), 1, "runs once more after done");
    cr_assert_str_eq(get(q, k), "a");
    nc_wq_done(q, "a");
    cr_assert_eq(nc_wq_len(q), 0);
    nc_wq_free(q);
}

Test(workqueue, requeue_after_waits)
{
    struct nc_wq *q = nc_wq_new(10, 1000);
    int64_t t0 = nc_now_ms(), waited;
    char k[64];

    cr_assert_eq(nc_wq_add_after(q, "late", 150), 0);
    cr_assert_eq(nc_wq_add_after(q, "early", 50), 0);
    cr_assert_eq(nc_wq_len(q), 0);
    cr_assert_eq(nc_wq_delayed(q), 2);
    cr_assert_eq(nc_wq_get(q, k, sizeof(k), &waited), 0);
    cr_assert_str_eq(k, "early");
    cr_assert_geq(nc_now_ms() - t0, 50);
    nc_wq_done(q, k);
    cr_assert_str_eq(get(q, k), "late");
    cr_assert_geq(nc_now_ms() - t0, 150);
    nc_wq_done(q, k);
    /* A plain add overrides a pending delay: the key runs now, once. */
    cr_assert_eq(nc_wq_add_after(q, "x", 10000), 0);
    cr_assert_eq(nc_wq_add(q, "x"), 0);
    cr_assert_eq(nc_wq_len(q), 1);
    cr_assert_eq(nc_wq_delayed(q), 0);
    nc_wq_free(q);
}

Test(workqueue, a_stale_delay_outlives_nothing)
{
    struct nc_wq *q = nc_wq_new(10, 1000);
    char k[64];

    /* x's delayed entry goes stale when x runs at once and is dropped,
     * while a's earlier entry keeps it inside the heap; popping it later
     * must not touch freed memory (ASan). */
    cr_assert_eq(nc_wq_add_after(q, "a", 20), 0);
    cr_assert_eq(nc_wq_add_after(q, "x", 40), 0);
    cr_assert_eq(nc_wq_add(q, "x"), 0);
    cr_assert_str_eq(get(q, k), "x");
    nc_wq_done(q, "x");
    cr_assert_str_eq(get(q, k), "a");
    nc_wq_done(q, "a");
    cr_assert_eq(nc_wq_add_after(q, "y", 60), 0);
    cr_assert_str_eq(get(q, k), "y");
    nc_wq_done(q, "y");
    cr_assert_eq(nc_wq_len(q), 0);
    cr_assert_eq(nc_wq_delayed(q), 0);
    nc_wq_free(q);
}

Test(workqueue, backoff_doubles_up_to_the_cap_and_forget_resets)
{
    struct nc_wq *q = nc_wq_new(20, 80);
    static const int64_t want[] = {20, 40, 80, 80, 80};
    char k[64];

    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        int64_t t0 = nc_now_ms();

        cr_assert_eq(nc_wq_next_backoff(q, "f"), want[i], "failure %zu", i);
        cr_assert_eq(nc_wq_add_rate_limited(q, "f"), 0);
        cr_assert_eq(nc_wq_failures(q, "f"), i + 1);
        cr_assert_eq(nc_wq_len(q), 0, "not ready before its backoff");
        get(q, k);
        cr_assert_geq(nc_now_ms() - t0, want[i], "failure %zu came back early", i);
        nc_wq_done(q, k);
    }
    nc_wq_forget(q, "f");
    cr_assert_eq(nc_wq_failures(q, "f"), 0);
    cr_assert_eq(nc_wq_next_backoff(q, "f"), 20);
    cr_assert_eq(nc_wq_next_backoff(q, "other"), 20, "keys back off independently");
    nc_wq_free(q);
}

static void *
blocked_get(void *arg)
{
    char k[64];

    return (void *)(intptr_t)nc_wq_get(arg, k, sizeof(k), NULL);
}

Test(workqueue, shutdown_wakes_blocked_workers)
{
    struct nc_wq *q = nc_wq_new(10, 1000);
    pthread_t t[3];
    void *ret;

    for (int i = 0; i < 3; i++)
        pthread_create(&t[i], NULL, blocked_get, q);
    usleep(50 * 1000);
    nc_wq_shutdown(q);
    for (int i = 0; i < 3; i++) {
        pthread_join(t[i], &ret);
        cr_assert_eq((intptr_t)ret, -ESHUTDOWN);
    }
    cr_assert_eq(nc_wq_add(q, "after"), 0);
    cr_assert_eq(nc_wq_len(q), 0, "no new work after shutdown");
    nc_wq_free(q);
}

struct counter {
    struct nc_wq *q;
    pthread_mutex_t lock;
    int in_flight, max_in_flight, runs;
};

static void *
worker(void *arg)
{
    struct counter *c = arg;
    char k[64];

    while (nc_wq_get(c->q, k, sizeof(k), NULL) == 0) {
        pthread_mutex_lock(&c->lock);
        c->in_flight++;
        if (c->in_flight > c->max_in_flight)
            c->max_in_flight = c->in_flight;
        c->runs++;
        pthread_mutex_unlock(&c->lock);
        usleep(2000);
        pthread_mutex_lock(&c->lock);
        c->in_flight--;
        pthread_mutex_unlock(&c->lock);
        nc_wq_done(c->q, k);
    }
    return NULL;
}

Test(workqueue, one_key_many_workers_never_runs_concurrently)
{
    struct counter c = {.q = nc_wq_new(10, 1000), .lock = PTHREAD_MUTEX_INITIALIZER};
    pthread_t t[4];

    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, worker, &c);
    for (int i = 0; i < 200; i++) {
        cr_assert_eq(nc_wq_add(c.q, "hot"), 0);
        usleep(200);
    }
    usleep(50 * 1000);
    nc_wq_shutdown(c.q);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    cr_assert_eq(c.max_in_flight, 1);
    cr_assert(c.runs >= 2 && c.runs < 200, "adds coalesced into %d runs", c.runs);
    nc_wq_free(c.q);
}

Test(workqueue, keys_too_long_for_any_object_are_refused_whole)
{
    struct nc_wq *q = nc_wq_new(10, 1000);
    char longkey[NC_WQ_KEY_MAX + 2];

    memset(longkey, 'a', sizeof(longkey) - 1);
    longkey[sizeof(longkey) - 1] = '\0';
    cr_assert_eq(nc_wq_add(q, longkey), -ENAMETOOLONG);
    cr_assert_eq(nc_wq_add_after(q, longkey, 10), -ENAMETOOLONG);
    cr_assert_eq(nc_wq_add_rate_limited(q, longkey), -ENAMETOOLONG);
    cr_assert_eq(nc_wq_len(q), 0, "nothing of it was queued, cut short or not");
    longkey[NC_WQ_KEY_MAX] = '\0';
    cr_assert_eq(nc_wq_add(q, longkey), 0, "the longest allowed key is taken");
    cr_assert_eq(nc_wq_add(q, "ns/vm/b"), 0);
    cr_assert_eq(nc_wq_len(q), 2);
    nc_wq_free(q);
}
