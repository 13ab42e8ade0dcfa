/*
 * The informer keeps the latest value of every key under a prefix: it lists
 * (paginated, at one revision), then watches from that revision + 1, and
 * relists and diffs when etcd compacted the watch's revision away. It calls
 * its owner once for every key whose value changed or that disappeared, so
 * no change is lost and none is reported twice. Changes run on the loop
 * thread; lookups are thread-safe.
 */
#ifndef NC_INFORMER_H
#define NC_INFORMER_H

#include <stdbool.h>
#include <stdint.h>

#include <event2/event.h>

#include "controller/etcd.h"

/* @key is the full etcd key, borrowed for the call. */
typedef void (*nc_informer_fn)(void *data, const char *key);

struct nc_informer;

/* @base, @conf and @data must outlive the informer; @prefix is copied. */
struct nc_informer *nc_informer_new(struct event_base *base, const struct nc_etcd_conf *conf,
                                    const char *prefix, nc_informer_fn changed, void *data);
struct nc_informer *nc_informer_free(struct nc_informer *inf);

/*
 * Lists the prefix (blocking the caller, which must be the loop thread)
 * and starts the watch. Every listed key is reported as changed. Returns 0
 * or a negative errno; then nc_informer_errmsg() says why.
 */
int nc_informer_start(struct nc_informer *inf) __attribute__((warn_unused_result));
const char *nc_informer_errmsg(const struct nc_informer *inf);
void nc_informer_stop(struct nc_informer *inf);

/* True once the first list completed and the watch is established. */
bool nc_informer_synced(const struct nc_informer *inf);

/*
 * Copies the cached value of @key into @ret_value (caller frees) and its
 * mod_revision into @ret_mod_revision. Returns 0, -ENOENT when the key is
 * absent, -ENOMEM.
 */
int nc_informer_get(struct nc_informer *inf, const char *key, char **ret_value,
                    int64_t *ret_mod_revision) __attribute__((warn_unused_result));

/* Calls @fn for every cached key (loop thread only). */
void nc_informer_foreach(struct nc_informer *inf, nc_informer_fn fn, void *data);
/* Number of cached keys. */
size_t nc_informer_size(struct nc_informer *inf);
uint64_t nc_informer_watch_restarts(const struct nc_informer *inf);

#endif
