/*
 * Every key the queue knows has one item in a hash table. An item is
 * "dirty" when it must run (again), "processing" while a worker has it,
 * and "due" when it waits for a deadline. The ready FIFO holds dirty keys
 * that are not in flight; the delay heap holds (deadline, item) pairs and
 * may hold stale entries, which are skipped when their deadline no longer
 * matches the item's; an item is freed only once no heap entry points to it. Items without any of these states are dropped, except
 * that a failure count keeps an item alive until nc_wq_forget().
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <uthash.h>

#include "core/clock.h"
#include "core/workqueue.h"

struct item {
    char *key;
    bool dirty, processing, queued;
    int64_t due_ms;     /* 0: not waiting for a deadline */
    int64_t queued_ms;  /* when it became dirty, for the wait metric */
    unsigned failures;
    unsigned heap_refs; /* delay-heap entries, stale or not, pointing here */
    UT_hash_handle hh;
};

struct heap_entry {
    int64_t due_ms;
    struct item *it;
};

struct nc_wq {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct item *items;
    size_t n_items;
    /* Ring buffer of ready items. An item is in it at most once, and its
     * room is taken when the item is made, so a push never fails: an
     * item left dirty outside it would never run again. */
    struct item **fifo;
    size_t fifo_head, fifo_len, fifo_cap;
    struct heap_entry *heap;
    size_t heap_len, heap_cap;
    int64_t backoff_base_ms, backoff_max_ms;
    bool shutting_down;
};

struct nc_wq *
nc_wq_new(int64_t backoff_base_ms, int64_t backoff_max_ms)
{
    struct nc_wq *q = calloc(1, sizeof(*q));
    pthread_condattr_t attr;

    if (!q)
        return NULL;
    pthread_mutex_init(&q->lock, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&q->cond, &attr);
    pthread_condattr_destroy(&attr);
    q->backoff_base_ms = backoff_base_ms;
    q->backoff_max_ms = backoff_max_ms;
    return q;
}

struct nc_wq *
nc_wq_free(struct nc_wq *q)
{
    struct item *it, *tmp;

    if (!q)
        return NULL;
    /* cppcheck-suppress uninitvar ; uthash assigns the iterator itself */
    HASH_ITER(hh, q->items, it, tmp) {
        HASH_DEL(q->items, it);
        free(it->key);
        free(it);
    }
    free(q->fifo);
    free(q->heap);
    pthread_cond_destroy(&q->cond);
    pthread_mutex_destroy(&q->lock);
    free(q);
    return NULL;
}

/* Makes room in the FIFO for @n items. Caller holds the lock. */
static int
fifo_reserve(struct nc_wq *q, size_t n)
{
    size_t cap = q->fifo_cap ? q->fifo_cap : 64;
    struct item **f;

    if (n <= q->fifo_cap)
        return 0;
    while (cap < n)
        cap *= 2;
    if (!(f = malloc(cap * sizeof(*f))))
        return -ENOMEM;
    for (size_t i = 0; i < q->fifo_len; i++)
        f[i] = q->fifo[(q->fifo_head + i) % q->fifo_cap];
    free(q->fifo);
    q->fifo = f;
    q->fifo_cap = cap;
    q->fifo_head = 0;
    return 0;
}

static struct item *
item_get(struct nc_wq *q, const char *key, bool create)
{
    struct item *it;

    HASH_FIND_STR(q->items, key, it);
    if (it || !create)
        return it;
    if (fifo_reserve(q, q->n_items + 1) < 0)
        return NULL;
    it = calloc(1, sizeof(*it));
    if (!it || !(it->key = strdup(key))) {
        free(it);
        return NULL;
    }
    HASH_ADD_KEYPTR(hh, q->items, it->key, strlen(it->key), it);
    q->n_items++;
    return it;
}

/* Drops @it when nothing refers to it any more. */
static void
item_maybe_drop(struct nc_wq *q, struct item *it)
{
    if (it->dirty || it->processing || it->queued || it->due_ms || it->failures ||
        it->heap_refs)
        return;
    HASH_DEL(q->items, it);
    q->n_items--;
    free(it->key);
    free(it);
}

/* Appends @it, whose room item_get() reserved. */
static void
fifo_push(struct nc_wq *q, struct item *it)
{
    q->fifo[(q->fifo_head + q->fifo_len++) % q->fifo_cap] = it;
    it->queued = true;
}

static struct item *
fifo_pop(struct nc_wq *q)
{
    struct item *it = q->fifo[q->fifo_head];

    q->fifo_head = (q->fifo_head + 1) % q->fifo_cap;
    q->fifo_len--;
    it->queued = false;
    return it;
}

static void
heap_swap(struct nc_wq *q, size_t a, size_t b)
{
    struct heap_entry t = q->heap[a];

    q->heap[a] = q->heap[b];
    q->heap[b] = t;
}

static int
heap_push(struct nc_wq *q, int64_t due_ms, struct item *it)
{
    size_t i;

    if (q->heap_len == q->heap_cap) {
        size_t cap = q->heap_cap ? q->heap_cap * 2 : 64;
        struct heap_entry *h = realloc(q->heap, cap * sizeof(*h));

        if (!h)
            return -ENOMEM;
        q->heap = h;
        q->heap_cap = cap;
    }
    i = q->heap_len++;
    q->heap[i] = (struct heap_entry){due_ms, it};
    it->heap_refs++;
    while (i > 0 && q->heap[(i - 1) / 2].due_ms > q->heap[i].due_ms) {
        heap_swap(q, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
    return 0;
}

static void
heap_pop(struct nc_wq *q)
{
    size_t i = 0;

    q->heap[0] = q->heap[--q->heap_len];
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;

        if (l < q->heap_len && q->heap[l].due_ms < q->heap[m].due_ms)
            m = l;
        if (r < q->heap_len && q->heap[r].due_ms < q->heap[m].due_ms)
            m = r;
        if (m == i)
            break;
        heap_swap(q, i, m);
        i = m;
    }
}

/* Marks @it dirty and ready; the caller holds the lock. */
static int
mark_dirty(struct nc_wq *q, struct item *it)
{
    if (it->dirty)
        return 0;
    it->dirty = true;
    it->queued_ms = nc_now_ms();
    /* The item runs now: a pending deadline no longer matters. */
    it->due_ms = 0;
    if (it->processing)
        return 0;
    fifo_push(q, it);
    pthread_cond_signal(&q->cond);
    return 0;
}

int
nc_wq_add(struct nc_wq *q, const char *key)
{
    struct item *it;
    int r = -ENOMEM;

    if (strlen(key) > NC_WQ_KEY_MAX)
        return -ENAMETOOLONG;

    pthread_mutex_lock(&q->lock);
    if (q->shutting_down)
        r = 0;
    else if ((it = item_get(q, key, true)))
        r = mark_dirty(q, it);
    pthread_mutex_unlock(&q->lock);
    return r;
}

int
nc_wq_add_after(struct nc_wq *q, const char *key, int64_t delay_ms)
{
    struct item *it;
    int64_t due;
    int r = 0;

    if (delay_ms <= 0 || strlen(key) > NC_WQ_KEY_MAX)
        return nc_wq_add(q, key);
    pthread_mutex_lock(&q->lock);
    if (q->shutting_down)
        goto out;
    it = item_get(q, key, true);
    if (!it) {
        r = -ENOMEM;
        goto out;
    }
    due = nc_now_ms() + delay_ms;
    /* A dirty item runs soon anyway; an earlier deadline already covers it. */
    if (it->dirty || (it->due_ms && it->due_ms <= due))
        goto out;
    /* The deadline counts only once it is in the heap, or the item would
     * wait for a wake-up that never comes. */
    if ((r = heap_push(q, due, it)) < 0) {
        item_maybe_drop(q, it);
        goto out;
    }
    it->due_ms = due;
    pthread_cond_signal(&q->cond);
out:
    pthread_mutex_unlock(&q->lock);
    return r;
}

/* The delay after @failures earlier failures. Caller holds the lock. */
static int64_t
backoff(const struct nc_wq *q, unsigned failures)
{
    int64_t delay = q->backoff_base_ms;

    for (unsigned i = 0; i < failures && delay < q->backoff_max_ms; i++)
        delay *= 2;
    return delay > q->backoff_max_ms ? q->backoff_max_ms : delay;
}

int64_t
nc_wq_next_backoff(struct nc_wq *q, const char *key)
{
    struct item *it;
    int64_t delay;

    pthread_mutex_lock(&q->lock);
    it = item_get(q, key, false);
    delay = backoff(q, it ? it->failures : 0);
    pthread_mutex_unlock(&q->lock);
    return delay;
}

int
nc_wq_add_rate_limited(struct nc_wq *q, const char *key)
{
    struct item *it;
    int64_t delay;

    if (strlen(key) > NC_WQ_KEY_MAX)
        return -ENAMETOOLONG;

    pthread_mutex_lock(&q->lock);
    it = item_get(q, key, true);
    if (!it) {
        pthread_mutex_unlock(&q->lock);
        return -ENOMEM;
    }
    delay = backoff(q, it->failures);
    it->failures++;
    pthread_mutex_unlock(&q->lock);
    return nc_wq_add_after(q, key, delay);
}

void
nc_wq_forget(struct nc_wq *q, const char *key)
{
    struct item *it;

    pthread_mutex_lock(&q->lock);
    if ((it = item_get(q, key, false))) {
        it->failures = 0;
        item_maybe_drop(q, it);
    }
    pthread_mutex_unlock(&q->lock);
}

unsigned
nc_wq_failures(struct nc_wq *q, const char *key)
{
    struct item *it;
    unsigned n = 0;

    pthread_mutex_lock(&q->lock);
    if ((it = item_get(q, key, false)))
        n = it->failures;
    pthread_mutex_unlock(&q->lock);
    return n;
}

/* Moves every item whose deadline passed to the ready FIFO. Returns the
 * next deadline, or 0 when none is pending. Caller holds the lock. */
static int64_t
promote_due(struct nc_wq *q, int64_t now)
{
    while (q->heap_len) {
        struct heap_entry top = q->heap[0];

        if (top.it->due_ms != top.due_ms) {
            /* Stale: the item was re-added or already ran. It may be
             * waiting only for this entry to go before it can be freed. */
            heap_pop(q);
            top.it->heap_refs--;
            item_maybe_drop(q, top.it);
            continue;
        }
        if (top.due_ms > now)
            return top.due_ms;
        heap_pop(q);
        top.it->heap_refs--;
        top.it->due_ms = 0;
        if (mark_dirty(q, top.it) < 0)
            top.it->due_ms = top.due_ms; /* out of memory: try again later */
    }
    return 0;
}

int
nc_wq_get(struct nc_wq *q, char *buf, size_t bufsz, int64_t *ret_wait_ms)
{
    struct item *it;
    int64_t now, next;

    pthread_mutex_lock(&q->lock);
    for (;;) {
        if (q->shutting_down) {
            pthread_mutex_unlock(&q->lock);
            return -ESHUTDOWN;
        }
        now = nc_now_ms();
        next = promote_due(q, now);
        if (q->fifo_len)
            break;
        if (next) {
            struct timespec ts = {.tv_sec = next / 1000, .tv_nsec = (next % 1000) * 1000000};

            pthread_cond_timedwait(&q->cond, &q->lock, &ts);
        } else {
            pthread_cond_wait(&q->cond, &q->lock);
        }
    }
    it = fifo_pop(q);
    it->dirty = false;
    it->processing = true;
    snprintf(buf, bufsz, "%s", it->key);
    if (ret_wait_ms)
        *ret_wait_ms = now - it->queued_ms;
    pthread_mutex_unlock(&q->lock);
    return 0;
}

void
nc_wq_done(struct nc_wq *q, const char *key)
{
    struct item *it;

    pthread_mutex_lock(&q->lock);
    if ((it = item_get(q, key, false))) {
        it->processing = false;
        if (it->dirty && !q->shutting_down) {
            fifo_push(q, it);
            pthread_cond_signal(&q->cond);
        } else {
            item_maybe_drop(q, it);
        }
    }
    pthread_mutex_unlock(&q->lock);
}

size_t
nc_wq_len(struct nc_wq *q)
{
    size_t n;

    pthread_mutex_lock(&q->lock);
    n = q->fifo_len;
    pthread_mutex_unlock(&q->lock);
    return n;
}

bool
nc_wq_in_flight(struct nc_wq *q, const char *key)
{
    struct item *it;
    bool r;

    pthread_mutex_lock(&q->lock);
    r = (it = item_get(q, key, false)) && it->processing;
    pthread_mutex_unlock(&q->lock);
    return r;
}

size_t
nc_wq_delayed(struct nc_wq *q)
{
    struct item *it, *tmp;
    size_t n = 0;

    pthread_mutex_lock(&q->lock);
    /* cppcheck-suppress uninitvar ; uthash assigns the iterator itself */
    HASH_ITER(hh, q->items, it, tmp)
        n += it->due_ms != 0;
    pthread_mutex_unlock(&q->lock);
    return n;
}

void
nc_wq_shutdown(struct nc_wq *q)
{
    pthread_mutex_lock(&q->lock);
    q->shutting_down = true;
    pthread_cond_broadcast(&q->cond);
    pthread_mutex_unlock(&q->lock);
}
