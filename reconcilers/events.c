#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <uthash.h>

#include "core/clock.h"
#include "core/workqueue.h"
#include "reconcilers/events.h"
#include "reconcilers/status.h"

#define LEASE_TTL_S 3600
#define LEASE_REUSE_MS (10 * 60 * 1000)
#define SWEEP_MIN 1024

/* An object's last event transaction, newer than the informers knew when
 * it was written. Once the informers have seen that revision the entry
 * says nothing more, and a sweep drops it (nc_events_done()), so the map
 * holds about as many entries as objects whose events are recent. */
struct nc_event_seen {
    char *base;
    int64_t revision;
    UT_hash_handle hh;
};

void
nc_event_recorder_init(struct nc_event_recorder *rec)
{
    memset(rec, 0, sizeof(*rec));
    pthread_mutex_init(&rec->lock, NULL);
    pthread_cond_init(&rec->granted, NULL);
}

void
nc_event_recorder_clear(struct nc_event_recorder *rec)
{
    struct nc_event_seen *s, *tmp;

    /* cppcheck-suppress uninitvar ; uthash assigns the iterator itself */
    HASH_ITER(hh, rec->seen, s, tmp) {
        HASH_DEL(rec->seen, s);
        free(s->base);
        free(s);
    }
    pthread_cond_destroy(&rec->granted);
    pthread_mutex_destroy(&rec->lock);
}

void
nc_events_begin(struct nc_events *ev, struct nc_event_recorder *rec, const char *prefix,
                const char *ns, const char *kind, const char *name, int64_t known_revision)
{
    struct nc_event_seen *s;

    memset(ev, 0, sizeof(*ev));
    snprintf(ev->base, sizeof(ev->base), "%sevents/%s/%s/%s/", prefix, ns, kind, name);
    ev->known = known_revision;
    pthread_mutex_lock(&rec->lock);
    HASH_FIND_STR(rec->seen, ev->base, s);
    if (s && s->revision > known_revision)
        known_revision = s->revision;
    pthread_mutex_unlock(&rec->lock);
    ev->revision = known_revision + 1;
}

void
nc_events_add(struct nc_events *ev, const char *type, const char *reason, const char *fmt, ...)
{
    char msg[1024], now[32];
    cJSON *doc;
    va_list ap;

    if (ev->n == NC_EVENTS_MAX)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "type", type);
    cJSON_AddStringToObject(doc, "reason", reason);
    cJSON_AddStringToObject(doc, "message", msg);
    cJSON_AddStringToObject(doc, "time", nc_rfc3339_now(now));
    ev->values[ev->n] = cJSON_PrintUnformatted(doc);
    cJSON_Delete(doc);
    if (asprintf(&ev->keys[ev->n], "%s%020" PRId64 "-%zu", ev->base, ev->revision, ev->n) < 0)
        ev->keys[ev->n] = NULL;
    if (!ev->keys[ev->n] || !ev->values[ev->n]) {
        free(ev->keys[ev->n]);
        free(ev->values[ev->n]);
        return;
    }
    ev->n++;
}

int
nc_events_ops(struct nc_events *ev, struct nc_etcd *c, struct nc_event_recorder *rec,
              const struct nc_op **ret_ops)
{
    int64_t now = nc_now_ms(), id = 0;

    *ret_ops = ev->ops;
    if (ev->n == 0)
        return 0;
    /* One worker grants a new lease, without the lock: a grant is a round
     * trip to etcd. The others go on with the old lease, which has most of
     * an hour left, or wait for the first one. */
    pthread_mutex_lock(&rec->lock);
    while (!rec->lease && rec->granting)
        pthread_cond_wait(&rec->granted, &rec->lock);
    if ((!rec->lease || now - rec->granted_ms > LEASE_REUSE_MS) && !rec->granting) {
        int r;

        rec->granting = true;
        pthread_mutex_unlock(&rec->lock);
        r = nc_etcd_lease_grant(c, LEASE_TTL_S, &id);
        pthread_mutex_lock(&rec->lock);
        rec->granting = false;
        if (r == 0) {
            rec->lease = id;
            rec->granted_ms = now;
        }
        pthread_cond_broadcast(&rec->granted);
    }
    id = rec->lease;
    pthread_mutex_unlock(&rec->lock);
    if (!id)
        return -EIO;
    for (size_t i = 0; i < ev->n; i++)
        ev->ops[i] = (struct nc_op){.key = ev->keys[i], .value = ev->values[i], .lease = id};
    return (int)ev->n;
}

/* Drops the entries the informers have caught up with (@known), once the
 * map has doubled since the last sweep: amortised O(1) per event write.
 * Caller holds the lock. */
static void
sweep(struct nc_event_recorder *rec, int64_t known)
{
    struct nc_event_seen *s, *tmp;

    if (HASH_COUNT(rec->seen) < 2 * rec->swept_size + SWEEP_MIN)
        return;
    /* cppcheck-suppress uninitvar ; uthash assigns the iterator itself */
    HASH_ITER(hh, rec->seen, s, tmp) {
        if (s->revision <= known) {
            HASH_DEL(rec->seen, s);
            free(s->base);
            free(s);
        }
    }
    rec->swept_size = HASH_COUNT(rec->seen);
}

void
nc_events_done(struct nc_events *ev, struct nc_event_recorder *rec, bool ok, int64_t revision)
{
    struct nc_event_seen *s;

    if (ev->n == 0)
        return;
    pthread_mutex_lock(&rec->lock);
    if (!ok) {
        rec->lease = 0;
    } else {
        HASH_FIND_STR(rec->seen, ev->base, s);
        if (!s && (s = calloc(1, sizeof(*s)))) {
            if ((s->base = strdup(ev->base))) {
                HASH_ADD_KEYPTR(hh, rec->seen, s->base, strlen(s->base), s);
            } else {
                free(s);
                s = NULL;
            }
        }
        if (s && revision > s->revision)
            s->revision = revision;
        /* A reconcile that writes again (a migration's progress) names
         * its next events after this transaction, not over these. */
        if (revision >= ev->revision)
            ev->revision = revision + 1;
        sweep(rec, ev->known);
    }
    pthread_mutex_unlock(&rec->lock);
    nc_events_clear(ev);
}

void
nc_events_clear(struct nc_events *ev)
{
    for (size_t i = 0; i < ev->n; i++) {
        free(ev->keys[i]);
        free(ev->values[i]);
    }
    ev->n = 0;
}
