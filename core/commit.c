#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "core/commit.h"
#include "core/commitpriv.h"

#define COMMIT_MAX 128

/* A transaction waiting for its answer, on its caller's stack. */
struct member {
    TAILQ_ENTRY(member) link;
    struct nc_txn txn;
    struct nc_etcd *c; /* its caller's client, for the error message */
    bool done, succeeded;
    int r;
    int64_t revision;
};

TAILQ_HEAD(member_list, member);

struct nc_commit {
    pthread_mutex_t lock;
    pthread_cond_t cond; /* a group was answered */
    struct member_list pending;
    size_t n_pending;
    bool sending;
    size_t max;
    uint64_t requests;
};

struct nc_commit *
nc_commit_new(size_t max)
{
    struct nc_commit *g = calloc(1, sizeof(*g));

    if (!g)
        return NULL;
    if (pthread_mutex_init(&g->lock, NULL) != 0) {
        free(g);
        return NULL;
    }
    if (pthread_cond_init(&g->cond, NULL) != 0) {
        pthread_mutex_destroy(&g->lock);
        free(g);
        return NULL;
    }
    TAILQ_INIT(&g->pending);
    g->max = max < 1 ? 1 : max > COMMIT_MAX ? COMMIT_MAX : max;
    return g;
}

struct nc_commit *
nc_commit_free(struct nc_commit *g)
{
    if (!g)
        return NULL;
    pthread_cond_destroy(&g->cond);
    pthread_mutex_destroy(&g->lock);
    free(g);
    return NULL;
}

static bool
ops_name(const struct nc_op *ops, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(ops[i].key, key) == 0)
            return true;
    return false;
}

static bool
writes(const struct nc_txn *t, const char *key)
{
    return ops_name(t->success, t->n_success, key) || ops_name(t->failure, t->n_failure, key);
}

static bool
compares(const struct nc_txn *t, const char *key)
{
    for (size_t i = 0; i < t->n_cmps; i++)
        if (strcmp(t->cmps[i].key, key) == 0)
            return true;
    return false;
}

static bool
ops_touch(const struct nc_op *ops, size_t n, const struct nc_txn *other)
{
    for (size_t i = 0; i < n; i++)
        if (writes(other, ops[i].key) || compares(other, ops[i].key))
            return true;
    return false;
}

/*
 * Whether @a and @b touch a key one of them writes. A nested txn
 * evaluates every compare before it applies any write, so two that did
 * would each be decided as if it ran first; and etcd refuses two writes
 * of one key in one request.
 */
static bool
conflict(const struct nc_txn *a, const struct nc_txn *b)
{
    for (size_t i = 0; i < a->n_cmps; i++)
        if (writes(b, a->cmps[i].key))
            return true;
    return ops_touch(a->success, a->n_success, b) || ops_touch(a->failure, a->n_failure, b);
}

/* Gives @m the result @r of a request sent through @c. A failure's
 * message goes to @m's own client too: its thread is waiting, so nothing
 * else uses that client now. */
static void
answer(struct member *m, struct nc_etcd *c, int r)
{
    m->r = r;
    if (r < 0 && m->c != c)
        nc_etcd_copy_error(m->c, c);
}

/* Sends @m alone through @c. */
static void
send_alone(struct nc_etcd *c, struct member *m)
{
    const struct nc_txn *t = &m->txn;

    answer(m, c,
           nc_etcd_txn(c, t->cmps, t->n_cmps, t->success, t->n_success, t->failure,
                       t->n_failure, &m->succeeded, &m->revision));
}

/*
 * Takes what is pending, up to g->max transactions that do not conflict,
 * and sends it through @c, the calling thread's client. Called with the
 * lock held and g->sending set; drops the lock while etcd answers.
 */
static void
send_group(struct nc_commit *g, struct nc_etcd *c)
{
    struct member *batch[COMMIT_MAX], *m, *next;
    struct nc_txn txns[COMMIT_MAX];
    bool succeeded[COMMIT_MAX];
    uint64_t requests = 1;
    int64_t revision = 0;
    size_t n = 0;
    int r;

    for (m = TAILQ_FIRST(&g->pending); m && n < g->max; m = next) {
        bool ok = true;

        next = TAILQ_NEXT(m, link);
        for (size_t i = 0; i < n && ok; i++)
            ok = !conflict(&m->txn, &batch[i]->txn);
        if (!ok)
            continue;
        TAILQ_REMOVE(&g->pending, m, link);
        g->n_pending--;
        txns[n] = m->txn;
        batch[n++] = m;
    }
    pthread_mutex_unlock(&g->lock);

    if (n == 1) {
        send_alone(c, batch[0]);
    } else if ((r = nc_etcd_txn_batch(c, txns, n, succeeded, &revision)) == -EINVAL ||
               r == -EACCES || r == -EMSGSIZE) {
        /* Refused as a whole, and applied in no part: each alone, so
         * that its answer is its own. */
        for (size_t i = 0; i < n; i++)
            send_alone(c, batch[i]);
        requests += n;
    } else {
        for (size_t i = 0; i < n; i++) {
            answer(batch[i], c, r);
            batch[i]->succeeded = r == 0 && succeeded[i];
            batch[i]->revision = revision;
        }
    }

    pthread_mutex_lock(&g->lock);
    for (size_t i = 0; i < n; i++)
        batch[i]->done = true;
    g->requests += requests;
    g->sending = false;
    pthread_cond_broadcast(&g->cond);
}

int
nc_commit_txn(struct nc_commit *g, struct nc_etcd *c, const struct nc_cmp *cmps, size_t n_cmps,
              const struct nc_op *success, size_t n_success, const struct nc_op *failure,
              size_t n_failure, bool *ret_succeeded, int64_t *ret_revision)
{
    struct member me = {
        .txn = {cmps, n_cmps, success, n_success, failure, n_failure},
        .c = c,
    };

    if (!g)
        return nc_etcd_txn(c, cmps, n_cmps, success, n_success, failure, n_failure,
                           ret_succeeded, ret_revision);
    pthread_mutex_lock(&g->lock);
    TAILQ_INSERT_TAIL(&g->pending, &me, link);
    g->n_pending++;
    while (!me.done) {
        if (g->sending) {
            pthread_cond_wait(&g->cond, &g->lock);
        } else {
            g->sending = true;
            send_group(g, c);
        }
    }
    pthread_mutex_unlock(&g->lock);
    if (me.r < 0)
        return me.r;
    *ret_succeeded = me.succeeded;
    if (ret_revision)
        *ret_revision = me.revision;
    return 0;
}

uint64_t
nc_commit_requests(struct nc_commit *g)
{
    uint64_t n;

    pthread_mutex_lock(&g->lock);
    n = g->requests;
    pthread_mutex_unlock(&g->lock);
    return n;
}

size_t
nc_commit_pending(struct nc_commit *g)
{
    size_t n;

    pthread_mutex_lock(&g->lock);
    n = g->n_pending;
    pthread_mutex_unlock(&g->lock);
    return n;
}
