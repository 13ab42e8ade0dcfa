/*
 * The etcd watch: one long-lived streaming POST to /v3/watch, driven by the
 * libevent loop through curl multi (no thread, no polling). It reconnects
 * by itself, resuming after the last revision it delivered, and tells its
 * owner when etcd compacted that revision away, so the owner can relist.
 * All callbacks run on the loop thread.
 */
#ifndef NC_WATCH_H
#define NC_WATCH_H

#include <stdbool.h>
#include <stdint.h>

#include <event2/event.h>

#include "core/etcd.h"

struct nc_watch_ops {
    /* A key under the prefix was put (@deleted false) or deleted. @kv is
     * borrowed for the call; for a delete, only key and mod_revision are
     * set. */
    void (*event)(void *data, const struct nc_kv *kv, bool deleted);
    /* The watch cannot resume: etcd compacted past its revision. The watch
     * has stopped; the owner relists and calls nc_watch_start() again. */
    void (*compacted)(void *data, int64_t compact_revision);
    /* The watch cannot resume: etcd is not the store it followed (another
     * cluster id, or a revision below one already delivered). The watch
     * has stopped; the owner forgets what it knew, relists and calls
     * nc_watch_start() again. */
    void (*rewound)(void *data);
};

struct nc_watch;

/* Returns a stopped watch of every key under @prefix, NULL on out of
 * memory. @base, @conf and @data must outlive it; @prefix is copied. */
struct nc_watch *nc_watch_new(struct event_base *base, const struct nc_etcd_conf *conf,
                              const char *prefix, const struct nc_watch_ops *ops, void *data);
/* Stops and frees @w (NULL allowed); returns NULL. */
struct nc_watch *nc_watch_free(struct nc_watch *w);

/* (Re)starts the watch at @revision: events from that revision on. */
int nc_watch_start(struct nc_watch *w, int64_t revision) __attribute__((warn_unused_result));
void nc_watch_stop(struct nc_watch *w);

/* True while the stream is established (etcd answered "created"). */
bool nc_watch_established(const struct nc_watch *w);
/* How many times the stream had to be opened again (for /metrics). */
uint64_t nc_watch_restarts(const struct nc_watch *w);

#endif
