#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/node.h"
#include "reconcilers/networkpolicy.h"
#include "reconcilers/run.h"
#include "reconcilers/status.h"

int
nc_run_begin(struct nc_run *run, struct nc_ctx *ctx, const char *ns, const char *kind,
             const char *name)
{
    struct nc_env *env = ctx->env;
    char *value = NULL;
    int64_t rev, known;
    int r;

    memset(run, 0, sizeof(*run));
    run->ctx = ctx;
    run->ns = ns;
    run->kind = kind;
    run->name = name;
    snprintf(run->key, sizeof(run->key), "%s/%s/%s", ns, kind, name);
    nc_rfc3339_now(run->now);
    if (asprintf(&run->spec_key, "%sspec/%s/%s/%s", env->prefix, ns, kind, name) < 0 ||
        asprintf(&run->status_key, "%sstatus/%s/%s/%s", env->prefix, ns, kind, name) < 0) {
        run->spec_key = run->status_key = NULL;
        return -ENOMEM;
    }
    run->status_revision = -1;
    r = nc_informer_get(env->statuses, run->status_key, &value, &rev);
    if (r == 0)
        run->old_status = cJSON_Parse(value);
    run->status_read = r == 0 ? rev : 0;
    free(value);
    if (r < 0 && r != -ENOENT)
        return r;
    known = nc_informer_revision(env->specs);
    if (nc_informer_revision(env->statuses) > known)
        known = nc_informer_revision(env->statuses);
    nc_events_begin(&run->events, &env->events, env->prefix, ns, kind, name, known);
    return 0;
}

void
nc_run_end(struct nc_run *run)
{
    free(run->spec_key);
    free(run->status_key);
    cJSON_Delete(run->old_status);
    nc_events_clear(&run->events);
}

int
nc_run_spec(struct nc_run *run, char **ret_value)
{
    int r = nc_informer_get(run->ctx->env->specs, run->spec_key, ret_value, &run->generation);

    if (r < 0) {
        *ret_value = NULL;
        run->generation = 0;
    }
    return r;
}

void
nc_run_event(struct nc_run *run, const char *type, const char *reason, const char *fmt, ...)
{
    char msg[768];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    nc_log(strcmp(type, "Warning") == 0 ? NC_LOG_WARN : NC_LOG_INFO, run->key, "%s: %s", reason,
           msg);
    nc_events_add(&run->events, type, reason, "%s", msg);
}

void
nc_run_enqueue(struct nc_run *run, const char *kind, const char *name)
{
    struct nc_env *env = run->ctx->env;
    char key[160];

    snprintf(key, sizeof(key), "%s/%s/%s", run->ns, kind, name);
    if (env->enqueue)
        env->enqueue(env->enqueue_data, key);
}

bool
nc_run_ready_changed(const struct nc_run *run, bool ok, const char *message)
{
    const cJSON *ready = nc_status_find_condition(run->old_status, "Ready");
    const char *old = cJSON_GetStringValue(cJSON_GetObjectItem(ready, "message"));

    return !ready || nc_status_condition_true(run->old_status, "Ready") != ok ||
           strcmp(old ? old : "", message ? message : "") != 0;
}

/* Writes @status, or deletes the status key when @status is NULL; see
 * nc_run_report() and nc_run_delete_status(). */
static int
report(struct nc_run *run, const cJSON *status)
{
    struct nc_env *env = run->ctx->env;
    bool changed = status ? nc_status_changed(run->old_status, status) : run->old_status != NULL;
    const struct nc_op *ops;
    struct nc_op all[48];
    char *text = NULL;
    bool applied = false;
    int64_t rev = 0;
    int n, r;

    if (!changed && run->events.n == 0)
        return 0;
    n = nc_events_ops(&run->events, run->ctx->etcd, &env->events, &ops);
    if (n < 0) {
        nc_warn(run->key, "events not recorded, no lease: %s", nc_etcd_errmsg(run->ctx->etcd));
        nc_events_clear(&run->events);
        if (!changed)
            return 0;
        n = 0;
    }
    if (changed && status && !(text = cJSON_PrintUnformatted(status)))
        return -ENOMEM;
    if (changed && run->n_extra) {
        /* The run's own ops go with the status, and only with it. */
        if ((size_t)n + run->n_extra > sizeof(all) / sizeof(all[0]))
            n = 0;
        memcpy(all, ops, (size_t)n * sizeof(*ops));
        memcpy(all + n, run->extra, run->n_extra * sizeof(*ops));
        ops = all;
        n += (int)run->n_extra;
    }
    r = nc_status_write(env->commit, run->ctx->etcd, run->spec_key, run->generation,
                        changed ? run->status_key : NULL, run->status_revision, text, ops,
                        (size_t)n, changed ? run->extra_cmp : NULL,
                        changed ? run->n_extra_cmp : 0, &applied, &rev);
    if (r < 0) {
        nc_events_done(&run->events, &env->events, false, 0);
        nc_warn(run->key, "status write failed: %s", nc_etcd_errmsg(run->ctx->etcd));
        free(text);
        return r;
    }
    nc_metrics_etcd_write(env->metrics);
    if (!applied) {
        nc_events_clear(&run->events);
        nc_debug(run->key, "spec changed during reconcile; status of generation %" PRId64
                           " dropped", run->generation);
        free(text);
        return -ESTALE;
    }
    nc_events_done(&run->events, &env->events, true, rev);
    if (changed) {
        nc_informer_store(env->statuses, run->status_key, text, rev);
        /* Its own writes come back from the watch as no news: a VM's
         * addresses and node are told to the policies here. */
        if (strcmp(run->kind, "vm") == 0)
            nc_netpol_vm_changed(env);
        if (run->status_revision >= 0)
            run->status_revision = status ? rev : 0;
        cJSON_Delete(run->old_status);
        run->old_status = status ? cJSON_Duplicate(status, true) : NULL;
    }
    free(text);
    return 0;
}

int
nc_run_report(struct nc_run *run, const cJSON *status)
{
    /* A status that could not be built (out of memory) is an error, never
     * a request to delete what is there. */
    return status ? report(run, status) : -ENOMEM;
}

int
nc_run_delete_status(struct nc_run *run)
{
    return report(run, NULL);
}

int
nc_run_warn(struct nc_run *run, int r, const char *reason, const char *fmt, ...)
{
    char msg[768];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    nc_run_event(run, "Warning", reason, "%s", msg);
    /* The status it read, unchanged: the events alone are written. */
    if (report(run, run->old_status) < 0)
        nc_debug(run->key, "event not written");
    return r;
}

int
nc_run_report_not_ready(struct nc_run *run, cJSON *status, const char *reason,
                        const char *message, bool warn)
{
    int r;

    if (!status)
        return -ENOMEM;
    if (warn && nc_run_ready_changed(run, false, message))
        nc_run_event(run, "Warning", reason, "%s", message);
    nc_status_condition(status, run->old_status, "Ready", false, reason, message,
                        run->generation, run->now);
    r = nc_run_report(run, status);
    cJSON_Delete(status);
    return r;
}

int
nc_run_report_not_readyf(struct nc_run *run, cJSON *status, const char *reason, const char *fmt,
                         ...)
{
    const char *phase = cJSON_GetStringValue(cJSON_GetObjectItem(status, "phase"));
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return nc_run_report_not_ready(run, status, reason, msg, phase && strcmp(phase, "Failed") == 0);
}

int
nc_run_report_invalid(struct nc_run *run, cJSON *status, const struct nc_verr *errs)
{
    char *why = nc_verr_join(errs);
    int r = nc_run_report_not_ready(run, status, "InvalidSpec", why ? why : "invalid spec", true);

    free(why);
    return r;
}

int
nc_run_spec_of(const struct nc_run *run, const char *kind, const char *name, int64_t *ret_gen)
{
    struct nc_env *env = run->ctx->env;
    char *text = NULL;
    int r = nc_informer_getf(env->specs, &text, ret_gen, "%sspec/%s/%s/%s", env->prefix, run->ns,
                             kind, name);

    free(text);
    return r;
}

cJSON *
nc_run_status_of(const struct nc_run *run, const char *kind, const char *name)
{
    struct nc_env *env = run->ctx->env;
    char *text = NULL;
    cJSON *st = NULL;

    if (name && nc_is_dns_label(name) &&
        nc_informer_getf(env->statuses, &text, NULL, "%sstatus/%s/%s/%s", env->prefix, run->ns,
                         kind, name) == 0)
        st = cJSON_Parse(text);
    free(text);
    return st;
}

cJSON *
nc_run_node(const struct nc_env *env, const char *node)
{
    char *text = NULL;
    cJSON *reg = NULL;

    if (nc_informer_getf(env->nodes, &text, NULL, "%snodes/%s", env->prefix, node) == 0)
        reg = cJSON_Parse(text);
    free(text);
    return reg;
}

bool
nc_run_may_collect(const struct nc_env *env)
{
    return env->gc_orphans || (nc_node_lease_lost(env->self) &&
                               !nc_informer_replaced(env->specs) &&
                               !nc_informer_replaced(env->statuses));
}
