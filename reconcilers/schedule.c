/*
 * Scheduled snapshots of a VM: see schedule.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/log.h"
#include "reconcilers/reconciler.h"
#include "reconcilers/schedule.h"

/* The Snapshot of the period starting at @t: <vm>-YYYYMMDD-hhmmss. */
static void
scheduled_name(const char *vm, time_t t, char name[NC_NAME_MAX + 1])
{
    char stamp[NC_VM_SCHEDULED_SUFFIX + 1];
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(stamp, sizeof(stamp), "-%Y%m%d-%H%M%S", &tm);
    snprintf(name, NC_NAME_MAX + 1, "%s%s", vm, stamp);
}

static char *
snapshot_doc(const struct nc_run *run, const char *name)
{
    cJSON *doc = cJSON_CreateObject(), *meta, *labels, *spec;
    char *text = NULL;

    if (!doc)
        return NULL;
    cJSON_AddStringToObject(doc, "apiVersion", "novacron.io/v1");
    cJSON_AddStringToObject(doc, "kind", "Snapshot");
    meta = cJSON_AddObjectToObject(doc, "metadata");
    cJSON_AddStringToObject(meta, "name", name);
    cJSON_AddStringToObject(meta, "namespace", run->ns);
    labels = cJSON_AddObjectToObject(meta, "labels");
    cJSON_AddStringToObject(labels, NC_SCHEDULED_BY, run->name);
    spec = cJSON_AddObjectToObject(doc, "spec");
    if (spec && cJSON_AddStringToObject(spec, "vm", run->name))
        text = cJSON_PrintUnformatted(doc);
    cJSON_Delete(doc);
    return text;
}

int
nc_schedule_due(struct nc_run *run, const struct nc_vm_spec *spec, cJSON *status,
                struct nc_schedule *sch, int64_t *ret_requeue_ms)
{
    struct nc_env *env = run->ctx->env;
    const cJSON *old = cJSON_GetObjectItem(run->old_status, "snapshotSchedule");
    time_t now = time(NULL), period, last;
    const char *last_name;
    char *value = NULL, at[32];
    int64_t wait_ms, rev;
    cJSON *rec;

    memset(sch, 0, sizeof(*sch));
    cJSON_DeleteItemFromObject(status, "snapshotSchedule");
    if (!spec->snapshot_every)
        return 0;
    period = now - now % (time_t)spec->snapshot_every;
    last = nc_rfc3339_parse(cJSON_GetStringValue(cJSON_GetObjectItem(old, "lastScheduleTime")));
    last_name = cJSON_GetStringValue(cJSON_GetObjectItem(old, "lastSnapshot"));
    if (!(rec = cJSON_AddObjectToObject(status, "snapshotSchedule")))
        return -ENOMEM;
    if (last != (time_t)-1 && last >= period) {
        cJSON_AddStringToObject(rec, "lastScheduleTime", nc_rfc3339_format(last, at));
        if (last_name)
            cJSON_AddStringToObject(rec, "lastSnapshot", last_name);
    } else {
        scheduled_name(run->name, period, sch->name);
        if (asprintf(&sch->key, "%sspec/%s/snapshot/%s", env->prefix, run->ns, sch->name) < 0) {
            sch->key = NULL;
            return -ENOMEM;
        }
        /* A document of that name that is there already (a write whose
         * answer was lost, or a user's) stands for the period. */
        if (nc_informer_get(env->specs, sch->key, &value, &rev) == -ENOENT) {
            if (!(sch->doc = snapshot_doc(run, sch->name)))
                return -ENOMEM;
            sch->op = (struct nc_op){.key = sch->key, .value = sch->doc};
            sch->cmp = (struct nc_cmp){.key = sch->key, .target = NC_CMP_CREATE,
                                       .result = NC_CMP_EQUAL, .number = 0};
            run->extra = &sch->op;
            run->n_extra = 1;
            run->extra_cmp = &sch->cmp;
            run->n_extra_cmp = 1;
        }
        free(value);
        cJSON_AddStringToObject(rec, "lastScheduleTime", nc_rfc3339_format(period, at));
        cJSON_AddStringToObject(rec, "lastSnapshot", sch->name);
    }
    cJSON_AddStringToObject(rec, "nextScheduleTime",
                            nc_rfc3339_format(period + (time_t)spec->snapshot_every, at));
    wait_ms = ((int64_t)period + spec->snapshot_every - (int64_t)now) * 1000;
    if (*ret_requeue_ms == 0 || wait_ms < *ret_requeue_ms)
        *ret_requeue_ms = wait_ms;
    return 0;
}

/* The scheduled Snapshots of one VM, as the cache has them. */
struct owned {
    struct nc_env *env;
    const char *vm;
    size_t skip; /* length of "<prefix>spec/<ns>/snapshot/" */
    struct entry {
        char name[NC_NAME_MAX + 1];
        int64_t rev; /* 0: not in the cache yet */
    } *e;
    size_t n, size;
    bool nomem;
};

/* Room for one more entry in @o. */
static bool
grow(struct owned *o)
{
    struct entry *e;

    if (o->n < o->size)
        return true;
    if (!(e = realloc(o->e, (o->size * 2 + 8) * sizeof(*e)))) {
        o->nomem = true;
        return false;
    }
    o->e = e;
    o->size = o->size * 2 + 8;
    return true;
}

static void
on_key(void *data, const char *key)
{
    struct owned *o = data;
    const char *name = key + o->skip;
    char *value = NULL;
    int64_t rev = 0;
    cJSON *doc = NULL;
    const char *by, *vm;

    if (strlen(name) != strlen(o->vm) + NC_VM_SCHEDULED_SUFFIX ||
        nc_informer_get(o->env->specs, key, &value, &rev) < 0)
        return;
    doc = cJSON_Parse(value);
    free(value);
    by = cJSON_GetStringValue(cJSON_GetObjectItem(
        cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "metadata"), "labels"), NC_SCHEDULED_BY));
    vm = cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "spec"), "vm"));
    if (by && vm && strcmp(by, o->vm) == 0 && strcmp(vm, o->vm) == 0 && grow(o)) {
        snprintf(o->e[o->n].name, sizeof(o->e[o->n].name), "%s", name);
        o->e[o->n++].rev = rev;
    }
    cJSON_Delete(doc);
}

static int
by_name(const void *a, const void *b)
{
    return strcmp(((const struct entry *)a)->name, ((const struct entry *)b)->name);
}

/* Fills @o with the cached scheduled Snapshots of @run's VM, oldest first
 * (their names sort as their times). 0 or -ENOMEM. */
static int
list_owned(struct nc_run *run, struct owned *o)
{
    struct nc_env *env = run->ctx->env;
    char prefix[256];

    *o = (struct owned){.env = env, .vm = run->name};
    o->skip = (size_t)snprintf(prefix, sizeof(prefix), "%sspec/%s/snapshot/", env->prefix,
                               run->ns);
    snprintf(prefix + o->skip, sizeof(prefix) - o->skip, "%s-", run->name);
    nc_informer_foreach_prefix(env->specs, prefix, on_key, o);
    if (o->nomem) {
        free(o->e);
        o->e = NULL;
        o->n = 0;
        return -ENOMEM;
    }
    if (o->n)
        qsort(o->e, o->n, sizeof(o->e[0]), by_name);
    return 0;
}

/* Deletes Snapshot @name's spec, as it was read (revision @rev). */
static int
delete_spec(struct nc_run *run, const char *name, int64_t rev, const char *why)
{
    struct nc_env *env = run->ctx->env;
    char key[256];
    struct nc_cmp cmp = {.key = key, .target = NC_CMP_MOD, .result = NC_CMP_EQUAL, .number = rev};
    struct nc_op del = {.del = true, .key = key};
    bool ok = false;
    int r;

    snprintf(key, sizeof(key), "%sspec/%s/snapshot/%s", env->prefix, run->ns, name);
    r = nc_etcd_txn(run->ctx->etcd, &cmp, 1, &del, 1, NULL, 0, &ok, NULL);
    if (r == 0 && ok)
        nc_info(run->key, "scheduled Snapshot %s deleted: %s", name, why);
    return r;
}

int
nc_schedule_prune(struct nc_run *run, const struct nc_vm_spec *spec, struct nc_schedule *sch)
{
    struct owned o;
    bool listed = !sch->doc;
    int r = spec->snapshot_every ? list_owned(run, &o) : 0;

    if (!spec->snapshot_every || r < 0) {
        nc_schedule_clear(sch);
        return r;
    }
    for (size_t i = 0; i < o.n && !listed; i++)
        listed = strcmp(o.e[i].name, sch->name) == 0;
    /* Just written, so not cached yet: the newest, never deleted here. */
    for (size_t i = 0; i + spec->snapshot_keep + !listed < o.n && r == 0; i++)
        r = delete_spec(run, o.e[i].name, o.e[i].rev, "spec.snapshotSchedule.keep is exceeded");
    free(o.e);
    nc_schedule_clear(sch);
    return r;
}

void
nc_schedule_clear(struct nc_schedule *sch)
{
    free(sch->key);
    free(sch->doc);
    memset(sch, 0, sizeof(*sch));
}

int
nc_schedule_drop(struct nc_run *run)
{
    struct owned o;
    int r = list_owned(run, &o);

    for (size_t i = 0; r == 0 && i < o.n; i++)
        r = delete_spec(run, o.e[i].name, o.e[i].rev, "its VirtualMachine is deleted");
    free(o.e);
    return r;
}
