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

#include "core/etcd.h"

/* @key is the full etcd key, borrowed for the call. */
typedef void (*nc_informer_fn)(void *data, const char *key);

struct nc_informer;

/* @base, @conf and @data must outlive the informer; @prefix is copied.
 * @changed may be NULL for a cache nobody needs to hear about. */
struct nc_informer *nc_informer_new(struct event_base *base, const struct nc_etcd_conf *conf,
                                    const char *prefix, nc_informer_fn changed, void *data);
struct nc_informer *nc_informer_free(struct nc_informer *inf);

/* Values longer than @max bytes, which no reader takes whole (a spec over
 * its size limit), are kept cut to @max + 1 bytes: enough to tell they
 * are too long, so a 50 MB value costs no more than a big valid one.
 * Call before nc_informer_start(); 0 (the default) keeps every value. */
void nc_informer_set_value_max(struct nc_informer *inf, size_t max);

/*
 * Lists the prefix (blocking the caller, which must be the loop thread)
 * and starts the watch. Every listed key is reported as changed. Returns 0
 * or a negative errno; then nc_informer_errmsg() says why.
 */
int nc_informer_start(struct nc_informer *inf) __attribute__((warn_unused_result));
const char *nc_informer_errmsg(const struct nc_informer *inf);
void nc_informer_stop(struct nc_informer *inf);

/* True once etcd was found rewound or replaced (another cluster id, a
 * revision below one seen) while this informer ran. */
bool nc_informer_replaced(const struct nc_informer *inf);

/* True once the first list completed and the watch is established. */
bool nc_informer_synced(const struct nc_informer *inf);

/*
 * Copies the cached value of @key into @ret_value (caller frees) and its
 * mod_revision into @ret_mod_revision. Returns 0, -ENOENT when the key is
 * absent (*@ret_mod_revision is then the revision that deleted it, when
 * the cache still knows it, else 0), -ENOMEM.
 */
int nc_informer_get(struct nc_informer *inf, const char *key, char **ret_value,
                    int64_t *ret_mod_revision) __attribute__((warn_unused_result));

/* nc_informer_get() of the key @fmt formats; @ret_mod_revision may be
 * NULL. -ENOMEM also when the key cannot be made. */
int nc_informer_getf(struct nc_informer *inf, char **ret_value, int64_t *ret_mod_revision,
                     const char *fmt, ...) __attribute__((format(printf, 4, 5)))
    __attribute__((warn_unused_result));

/*
 * Write-through for a key space the caller itself writes: records that
 * @key now holds @value at @revision (or, with @value NULL, was deleted at
 * @revision), unless the cache already knows a newer revision. The watch
 * event of the same write then changes nothing. Thread-safe.
 */
void nc_informer_store(struct nc_informer *inf, const char *key, const char *value,
                       int64_t revision);

/* The newest store revision the informer has seen (list or watch). */
int64_t nc_informer_revision(struct nc_informer *inf);

/* Calls @fn for every cached key (any thread; not under the lock). */
void nc_informer_foreach(struct nc_informer *inf, nc_informer_fn fn, void *data);
/* The same for the keys that start with @prefix only: only those are
 * copied, so a look at one namespace's objects of one kind costs no
 * allocation per key of the others. */
void nc_informer_foreach_prefix(struct nc_informer *inf, const char *prefix, nc_informer_fn fn,
                                void *data);
/* Number of cached keys. */
size_t nc_informer_size(struct nc_informer *inf);
uint64_t nc_informer_watch_restarts(const struct nc_informer *inf);

#endif
