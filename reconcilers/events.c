#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "controller/workqueue.h"
#include "reconcilers/events.h"
#include "reconcilers/status.h"

#define LEASE_TTL_S 3600
#define LEASE_REUSE_MS (10 * 60 * 1000)

void
nc_events_add(struct nc_events *ev, const char *prefix, const char *ns, const char *kind,
              const char *name, int64_t revision, const char *type, const char *reason,
              const char *fmt, ...)
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
    if (asprintf(&ev->keys[ev->n], "%sevents/%s/%s/%s/%020" PRId64 "-%zu", prefix, ns, kind, name,
                 revision + 1, ev->n) < 0)
        ev->keys[ev->n] = NULL;
    if (!ev->keys[ev->n] || !ev->values[ev->n]) {
        free(ev->keys[ev->n]);
        free(ev->values[ev->n]);
        return;
    }
    ev->n++;
}

static int64_t
lease_get(struct nc_etcd *c, struct nc_event_lease *l)
{
    int64_t now = nc_now_ms(), id = 0;

    pthread_mutex_lock(&l->lock);
    if (!l->id || now - l->granted_ms > LEASE_REUSE_MS) {
        if (nc_etcd_lease_grant(c, LEASE_TTL_S, &id) == 0) {
            l->id = id;
            l->granted_ms = now;
        }
    }
    id = l->id;
    pthread_mutex_unlock(&l->lock);
    return id;
}

int
nc_events_ops(struct nc_events *ev, struct nc_etcd *c, struct nc_event_lease *lease,
              const struct nc_op **ret_ops)
{
    int64_t id;

    *ret_ops = ev->ops;
    if (ev->n == 0)
        return 0;
    id = lease_get(c, lease);
    if (!id)
        return -EIO;
    for (size_t i = 0; i < ev->n; i++)
        ev->ops[i] = (struct nc_op){.key = ev->keys[i], .value = ev->values[i], .lease = id};
    return (int)ev->n;
}

void
nc_events_clear(struct nc_events *ev)
{
    for (size_t i = 0; i < ev->n; i++) {
        free(ev->keys[i]);
        free(ev->values[i]);
    }
    memset(ev, 0, sizeof(*ev));
}

void
nc_event_lease_reset(struct nc_event_lease *l)
{
    pthread_mutex_lock(&l->lock);
    l->id = 0;
    pthread_mutex_unlock(&l->lock);
}
