/*
 * The work queue, after client-go's: a key is queued at
 * most once (repeated adds coalesce), is handed to at most one worker at a
 * time (a key added while in flight runs again after nc_wq_done()), can be
 * added after a delay, and retried with per-key exponential backoff.
 * Thread-safe: producers are the event loop, consumers are the workers.
 */
#ifndef NC_WORKQUEUE_H
#define NC_WORKQUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nc_wq;

/* The longest key the queue takes: "<ns>/<kind>/<name>" is at most 63 +
 * 1 + 15 + 1 + 63 bytes, so anything longer is no object's key. */
#define NC_WQ_KEY_MAX 255

/* Backoff of the n-th consecutive failure: base * 2^(n-1), at most max. */
struct nc_wq *nc_wq_new(int64_t backoff_base_ms, int64_t backoff_max_ms);
/* Frees @q (NULL allowed); the caller makes sure no thread uses it. */
struct nc_wq *nc_wq_free(struct nc_wq *q);

/* Queues @key (copied) unless it is already queued. The adds return 0,
 * -ENAMETOOLONG for a key over NC_WQ_KEY_MAX bytes, or -ENOMEM. */
int nc_wq_add(struct nc_wq *q, const char *key) __attribute__((warn_unused_result));
/* Queues @key after @delay_ms; an earlier pending deadline wins. */
int nc_wq_add_after(struct nc_wq *q, const char *key, int64_t delay_ms)
    __attribute__((warn_unused_result));
/* Queues @key after its backoff, and counts one more failure for it. */
int nc_wq_add_rate_limited(struct nc_wq *q, const char *key) __attribute__((warn_unused_result));
/* Clears @key's failure count (call after a success). */
void nc_wq_forget(struct nc_wq *q, const char *key);
/* The delay nc_wq_add_rate_limited() would use for @key now. */
int64_t nc_wq_next_backoff(struct nc_wq *q, const char *key);
/* How many failures @key has had in a row. */
unsigned nc_wq_failures(struct nc_wq *q, const char *key);

/*
 * Blocks until a key is ready, then marks it in flight and returns it in
 * @buf (size @bufsz). @ret_wait_ms, when not NULL, receives how long the key
 * waited since it was first queued. Returns 0, or -ESHUTDOWN once
 * nc_wq_shutdown() was called: queued keys are then left alone.
 */
int nc_wq_get(struct nc_wq *q, char *buf, size_t bufsz, int64_t *ret_wait_ms)
    __attribute__((warn_unused_result));
/* Marks @key no longer in flight; queues it again if added meanwhile. */
void nc_wq_done(struct nc_wq *q, const char *key);

/* Keys queued and ready now (not in flight, not delayed). */
size_t nc_wq_len(struct nc_wq *q);
/* Keys waiting for a delay or a backoff. */
size_t nc_wq_delayed(struct nc_wq *q);
/* True while a worker reconciles @key. */
bool nc_wq_in_flight(struct nc_wq *q, const char *key);
/* Wakes every blocked nc_wq_get(); later calls return -ESHUTDOWN. */
void nc_wq_shutdown(struct nc_wq *q);

#endif
