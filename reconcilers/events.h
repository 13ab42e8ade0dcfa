/*
 * Events (DESIGN.md §1): what the controller did or saw and why, stored
 * under events/<ns>/<kind>/<name>/<revision> on a lease of one hour, so
 * `novactl describe` and `etcdctl watch` show a history that expires by
 * itself. A reconcile collects its events and writes them in the same
 * transaction as its status, so recording them costs no extra write.
 */
#ifndef NC_EVENTS_H
#define NC_EVENTS_H

#include <pthread.h>
#include <stdint.h>

#include "controller/etcd.h"

#define NC_EVENTS_MAX 8

/* The shared event lease: granted on first use and replaced every ten
 * minutes, so every event lives between 50 and 60 minutes. */
struct nc_event_lease {
    pthread_mutex_t lock;
    int64_t id;
    int64_t granted_ms;
};

struct nc_events {
    char *keys[NC_EVENTS_MAX];
    char *values[NC_EVENTS_MAX];
    struct nc_op ops[NC_EVENTS_MAX];
    size_t n;
};

/*
 * Records an event for the object under "<prefix>events/<ns>/<kind>/<name>/".
 * @revision is the store revision the reconcile read: the event key is that
 * revision + 1 with a sequence number, which sorts after every event of an
 * earlier reconcile of the same object. @type is "Normal" or "Warning".
 */
void nc_events_add(struct nc_events *ev, const char *prefix, const char *ns, const char *kind,
                   const char *name, int64_t revision, const char *type, const char *reason,
                   const char *fmt, ...) __attribute__((format(printf, 9, 10)));

/* Sets the lease of every recorded event (granting one when needed) and
 * returns the ops to write. Returns the number of ops, or a negative errno. */
int nc_events_ops(struct nc_events *ev, struct nc_etcd *c, struct nc_event_lease *lease,
                  const struct nc_op **ret_ops) __attribute__((warn_unused_result));
void nc_events_clear(struct nc_events *ev);



/* Forgets the shared lease, so the next event gets a fresh one (after a
 * write failed because etcd no longer knows it). */
void nc_event_lease_reset(struct nc_event_lease *lease);
#endif
