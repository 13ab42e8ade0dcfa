/*
 * Group commit of etcd transactions. Workers that write at the same time
 * share one request: the first to find none in flight sends its own
 * transaction together with every one queued behind it, nested in one
 * txn (nc_etcd_txn_batch()), while the others wait for their answer. A
 * busy controller so sends etcd one request where it had several, and
 * etcd pays once for what it pays per request (the gateway, a Raft entry,
 * a WAL write, and in etcd 3.4 a copy of its write buffer for every txn);
 * an idle one sends each transaction alone, at once, as before.
 */
#ifndef NC_COMMIT_H
#define NC_COMMIT_H

#include "core/etcd.h"

struct nc_commit;

/* A group of at most @max transactions per request (at least 1, and at
 * most 128, etcd's default --max-txn-ops). NULL on out of memory. */
struct nc_commit *nc_commit_new(size_t max);
/* Frees @g (NULL allowed); no thread may be inside it. Returns NULL. */
struct nc_commit *nc_commit_free(struct nc_commit *g);

/*
 * nc_etcd_txn() through group @g (NULL: alone, through @c). Thread-safe;
 * @c is the calling thread's own client, which sends the group when this
 * thread does, and which holds the error message when the call fails.
 * The arrays must live until it returns. Two transactions that touch one
 * key go in different requests, so each is decided as if it ran alone.
 * When etcd refuses a group as a whole, each of its transactions is sent
 * again alone, so that one's error is not another's.
 */
int nc_commit_txn(struct nc_commit *g, struct nc_etcd *c, const struct nc_cmp *cmps,
                  size_t n_cmps, const struct nc_op *success, size_t n_success,
                  const struct nc_op *failure, size_t n_failure, bool *ret_succeeded,
                  int64_t *ret_revision) __attribute__((warn_unused_result));

/* Requests sent through @g since it was made. */
uint64_t nc_commit_requests(struct nc_commit *g);

#endif
