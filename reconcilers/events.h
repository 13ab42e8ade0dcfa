/*
 * Events (schema/README.md §1): what the controller did or saw and why, stored
 * under events/<ns>/<kind>/<name>/<revision>-<n> on a lease of one hour,
 * so `novactl describe` and `etcdctl watch` show a history that expires by
 * itself. A reconcile collects its events and writes them in the same
 * transaction as its status, so recording them costs no extra write.
 *
 * <revision> is one more than the newest revision known for the object
 * when the reconcile began: the newest the informers saw, or the revision
 * of the object's last event transaction, whichever is newer. Keys of
 * successive reconciles of one object so sort in the order they happened
 * and never collide.
 */
#ifndef NC_EVENTS_H
#define NC_EVENTS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/etcd.h"

#define NC_EVENTS_MAX 8

struct nc_event_seen;

/* Shared by all workers: the event lease and each object's last event
 * revision. The lease is granted on first use and replaced every ten
 * minutes, so every event lives between 50 and 60 minutes. */
struct nc_event_recorder {
    pthread_mutex_t lock;
    pthread_cond_t granted; /* a grant in flight ended */
    bool granting;
    int64_t lease;
    int64_t granted_ms;
    struct nc_event_seen *seen;
    size_t swept_size;      /* entries left by the last sweep */
};

void nc_event_recorder_init(struct nc_event_recorder *rec);
void nc_event_recorder_clear(struct nc_event_recorder *rec);

/* The events of one reconcile of one object. */
struct nc_events {
    char base[256]; /* "<prefix>events/<ns>/<kind>/<name>/" */
    int64_t known;  /* the informers' revision when the reconcile began */
    int64_t revision;
    char *keys[NC_EVENTS_MAX];
    char *values[NC_EVENTS_MAX];
    struct nc_op ops[NC_EVENTS_MAX];
    size_t n;
};

/* Starts collecting events for an object; @known_revision is the newest
 * revision the caller's informers have seen. */
void nc_events_begin(struct nc_events *ev, struct nc_event_recorder *rec, const char *prefix,
                     const char *ns, const char *kind, const char *name, int64_t known_revision);

/* Records an event. @type is "Normal" or "Warning". */
void nc_events_add(struct nc_events *ev, const char *type, const char *reason, const char *fmt,
                   ...) __attribute__((format(printf, 4, 5)));

/* Sets the lease of every recorded event (granting one when needed) and
 * returns the ops to write. Returns the number of ops, or a negative errno. */
int nc_events_ops(struct nc_events *ev, struct nc_etcd *c, struct nc_event_recorder *rec,
                  const struct nc_op **ret_ops) __attribute__((warn_unused_result));

/* After the transaction carrying the events: @ok says whether it was
 * written (at @revision). A failed write forgets the lease, which etcd
 * may no longer know. Clears @ev. */
void nc_events_done(struct nc_events *ev, struct nc_event_recorder *rec, bool ok,
                    int64_t revision);
void nc_events_clear(struct nc_events *ev);

#endif
