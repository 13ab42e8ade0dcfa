/*
 * One reconcile: validate the spec, observe the domain, act on the
 * difference, report status. Each step that takes time (a graceful stop)
 * ends the reconcile with a requeue instead of blocking a worker.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uthash.h>

#include "controller/log.h"
#include "controller/workqueue.h"
#include "reconcilers/status.h"
#include "reconcilers/vm.h"
#include "schema/quantity.h"

#define POLL_MS 1000
#define DEPENDENCY_POLL_MS 10000

/* A graceful stop in progress: ACPI was asked at @since_ms. */
struct stopping {
    char *key;
    int64_t since_ms;
    bool for_update; /* the stop is a restart that applies a new definition */
    UT_hash_handle hh;
};

struct nc_vm_state {
    pthread_mutex_t lock;
    struct stopping *stops;
};

struct nc_vm_state *
nc_vm_state_new(void)
{
    struct nc_vm_state *s = calloc(1, sizeof(*s));

    if (s)
        pthread_mutex_init(&s->lock, NULL);
    return s;
}

struct nc_vm_state *
nc_vm_state_free(struct nc_vm_state *s)
{
    struct stopping *e, *tmp;

    if (!s)
        return NULL;
    /* cppcheck-suppress uninitvar ; uthash assigns the iterator itself */
    HASH_ITER(hh, s->stops, e, tmp) {
        HASH_DEL(s->stops, e);
        free(e->key);
        free(e);
    }
    pthread_mutex_destroy(&s->lock);
    free(s);
    return NULL;
}

/* Returns when the graceful stop of @key began, 0 when none is under way. */
static int64_t
stop_since(struct nc_vm_state *s, const char *key)
{
    struct stopping *e;
    int64_t since;

    pthread_mutex_lock(&s->lock);
    HASH_FIND_STR(s->stops, key, e);
    since = e ? e->since_ms : 0;
    pthread_mutex_unlock(&s->lock);
    return since;
}

/* Records that a graceful stop of @key begins now. Out of memory, nothing
 * is recorded and the next reconcile asks for the shutdown again. */
static void
stop_begin(struct nc_vm_state *s, const char *key, bool for_update)
{
    struct stopping *e = calloc(1, sizeof(*e));

    if (!e || !(e->key = strdup(key))) {
        free(e);
        return;
    }
    e->since_ms = nc_now_ms();
    e->for_update = for_update;
    pthread_mutex_lock(&s->lock);
    HASH_ADD_KEYPTR(hh, s->stops, e->key, strlen(e->key), e);
    pthread_mutex_unlock(&s->lock);
}

static bool
stop_end(struct nc_vm_state *s, const char *key)
{
    struct stopping *e;
    bool for_update = false;

    pthread_mutex_lock(&s->lock);
    HASH_FIND_STR(s->stops, key, e);
    if (e) {
        for_update = e->for_update;
        HASH_DEL(s->stops, e);
        free(e->key);
        free(e);
    }
    pthread_mutex_unlock(&s->lock);
    return for_update;
}

/* Everything one reconcile works with. */
struct vm_run {
    struct nc_ctx *ctx;
    const char *ns, *name;
    char key[160];          /* "ns/vm/name", for logs and the queue */
    char *spec_key, *status_key;
    char domname[NC_DOMAIN_NAME_MAX];
    const char *domtype;    /* libvirt domain type for the spec's accel */
    char console_log[512];  /* "" on the test driver */
    int64_t generation;     /* spec mod_revision, 0 when the spec is gone */
    cJSON *old_status;      /* NULL when there is none */
    char now[32];
    struct nc_events events;
    struct nc_vm_spec spec;
};

static void
event(struct vm_run *run, const char *type, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
event(struct vm_run *run, const char *type, const char *reason, const char *fmt, ...)
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

/* Writes @status (NULL: delete) and the collected events when either has
 * something new. Returns 0, -ESTALE when the spec moved on, or an errno. */
static int
report(struct vm_run *run, cJSON *status)
{
    struct nc_env *env = run->ctx->env;
    bool changed = status ? nc_status_changed(run->old_status, status) : run->old_status != NULL;
    const struct nc_op *ops;
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
    r = nc_status_write(run->ctx->etcd, run->spec_key, run->generation,
                        changed ? run->status_key : NULL, text, ops, (size_t)n, &applied, &rev);
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
        cJSON_Delete(run->old_status);
        run->old_status = status ? cJSON_Duplicate(status, true) : NULL;
    }
    free(text);
    return 0;
}

static cJSON *
status_new(struct vm_run *run, const char *phase)
{
    cJSON *s = nc_status_new(run->old_status, run->generation, phase, run->now);

    cJSON_AddStringToObject(s, "node", run->ctx->env->node);
    return s;
}

static void
add_domain(cJSON *status, const char *name, const struct nc_dominfo *info)
{
    cJSON *d = cJSON_AddObjectToObject(status, "domain");

    cJSON_AddStringToObject(d, "name", name);
    cJSON_AddStringToObject(d, "uuid", info ? info->uuid : "");
    cJSON_AddStringToObject(d, "state", info ? nc_dom_state_names[info->state] : "absent");
}

/* Reports a phase with Ready=False and @reason; returns report()'s result. */
static int
report_not_ready(struct vm_run *run, const char *phase, const char *reason, const char *message,
                 const struct nc_dominfo *info)
{
    cJSON *s = status_new(run, phase);
    int r;

    nc_status_condition(s, run->old_status, "Ready", false, reason, message, run->generation,
                        run->now);
    if (info)
        add_domain(s, run->domname, info);
    r = report(run, s);
    cJSON_Delete(s);
    return r;
}

static bool
owned_by_us(const struct vm_run *run, const struct nc_dominfo *info)
{
    const struct nc_env *env = run->ctx->env;

    return info->owned && strcmp(info->owner.kind, "vm") == 0 &&
           strcmp(info->owner.ns, run->ns) == 0 && strcmp(info->owner.name, run->name) == 0 &&
           strcmp(info->owner.cluster, env->cluster) == 0 &&
           strcmp(info->owner.prefix, env->prefix) == 0;
}

/* Destroys and undefines our domain. Returns 0 or a negative errno. */
static int
remove_domain(struct vm_run *run, const struct nc_dominfo *info)
{
    struct nc_hv *hv = run->ctx->env->hv;
    int r;

    if (info->state != NC_DOM_SHUTOFF && (r = nc_hv_destroy(hv, run->domname)) < 0 &&
        r != -EBUSY)
        return r;
    r = nc_hv_undefine(hv, run->domname);
    if (r < 0 && r != -ENOENT)
        return r;
    stop_end(run->ctx->env->vm, run->key);
    /* The serial log was ours too; it goes with the domain. */
    if (run->console_log[0] && unlink(run->console_log) < 0 && errno != ENOENT)
        nc_warn(run->key, "cannot remove %s: %s", run->console_log, strerror(errno));
    return 0;
}

/* The spec is gone: tear down, then delete the status. */
static int
reconcile_deleted(struct vm_run *run)
{
    struct nc_env *env = run->ctx->env;
    struct nc_dominfo info;
    int r;

    if (!nc_is_dns_label(run->ns) || !nc_is_dns_label(run->name))
        return report(run, NULL); /* nothing was ever created for it */

    r = nc_hv_lookup(env->hv, run->domname, &info);
    if (r == 0 && owned_by_us(run, &info)) {
        if (!run->old_status && !env->gc_orphans) {
            nc_warn(run->key,
                    "domain %s is marked as ours but has neither spec nor status: "
                    "left alone as an orphan (--gc-orphans removes such domains)",
                    run->domname);
            return 0;
        }
        if (run->old_status) {
            /* Say what is happening before doing it; report() keeps going
             * when this write fails, since the teardown does not depend on it. */
            cJSON *s = cJSON_Duplicate(run->old_status, true);

            cJSON_ReplaceItemInObject(s, "phase", cJSON_CreateString("Deleting"));
            if (report(run, s) == -ESTALE) {
                cJSON_Delete(s);
                return -ESTALE;
            }
            cJSON_Delete(s);
        }
        r = remove_domain(run, &info);
        if (r < 0) {
            nc_warn(run->key, "deleting domain %s: %s", run->domname, nc_hv_errmsg());
            return r;
        }
        event(run, "Normal", "Deleted", "domain %s destroyed and undefined", run->domname);
    } else if (r < 0 && r != -ENOENT) {
        nc_warn(run->key, "looking up domain %s: %s", run->domname, nc_hv_errmsg());
        return r;
    } else if (r == -ENOENT && run->console_log[0]) {
        /* A crash between undefining the domain and deleting the status
         * can leave the serial log: it carries our name, so it is ours. */
        unlink(run->console_log);
    }
    r = report(run, NULL);
    if (r == 0)
        nc_info(run->key, "deleted");
    return r;
}

/* Names the first volume or network the VM needs that is not Ready. */
static int
dependency_missing(struct vm_run *run, char *reason, size_t reason_sz, char *msg, size_t msg_sz)
{
    for (unsigned i = 0; i < run->spec.n_disks + run->spec.n_ifaces; i++) {
        bool disk = i < run->spec.n_disks;
        const char *kind = disk ? "volume" : "network";
        const char *dep = disk ? run->spec.disks[i].volume
                               : run->spec.ifaces[i - run->spec.n_disks].network;
        char *key = NULL, *value = NULL;
        int64_t rev;
        cJSON *st;
        bool ready;
        int r;

        if (asprintf(&key, "%sstatus/%s/%s/%s", run->ctx->env->prefix, run->ns, kind, dep) < 0)
            return -ENOMEM;
        r = nc_informer_get(run->ctx->env->statuses, key, &value, &rev);
        free(key);
        if (r < 0 && r != -ENOENT)
            return r;
        st = value ? cJSON_Parse(value) : NULL;
        ready = nc_status_condition_true(st, "Ready");
        cJSON_Delete(st);
        free(value);
        if (!ready) {
            snprintf(reason, reason_sz, "WaitingFor%s", disk ? "Volume" : "Network");
            snprintf(msg, msg_sz, "waiting for %s \"%s\" (spec.%s[%u]): %s", kind, dep,
                     disk ? "disks" : "interfaces", disk ? i : i - run->spec.n_disks,
                     r == -ENOENT ? "it does not exist" : "it is not Ready");
            return 1;
        }
    }
    return 0;
}

static const char *
phase_of(enum nc_dom_state s)
{
    switch (s) {
    case NC_DOM_RUNNING:
    case NC_DOM_SHUTTING_DOWN:
        return "Running";
    case NC_DOM_PAUSED:
        return "Paused";
    case NC_DOM_SHUTOFF:
        return "Stopped";
    default:
        return "Failed";
    }
}

static bool
state_matches(enum nc_run_state want, enum nc_dom_state have)
{
    return (want == NC_RUN_RUNNING && have == NC_DOM_RUNNING) ||
           (want == NC_RUN_PAUSED && have == NC_DOM_PAUSED) ||
           (want == NC_RUN_STOPPED && have == NC_DOM_SHUTOFF);
}

/*
 * Starts a graceful stop, or finishes one: ACPI first, destroy once the
 * grace period is over. Returns 1 while the domain is still going down.
 */
static int
stop_domain(struct vm_run *run, const struct nc_dominfo *info, bool for_update)
{
    struct nc_env *env = run->ctx->env;
    int64_t since = stop_since(env->vm, run->key);
    int r;

    if (info->state == NC_DOM_SHUTOFF)
        return 0;
    if (info->state == NC_DOM_PAUSED || info->state == NC_DOM_CRASHED) {
        /* A paused guest cannot see ACPI; a crashed one will not answer. */
        r = nc_hv_destroy(env->hv, run->domname);
        return r < 0 ? r : 0;
    }
    if (!since) {
        stop_begin(env->vm, run->key, for_update);
        r = nc_hv_shutdown(env->hv, run->domname);
        if (r < 0 && r != -EBUSY)
            return r;
        nc_info(run->key, "asked domain %s to shut down (grace %ds)", run->domname,
                run->spec.stop_grace_seconds);
        return 1;
    }
    if (nc_now_ms() - since >= (int64_t)run->spec.stop_grace_seconds * 1000) {
        event(run, "Warning", "ForcedStop",
              "domain did not shut down within stopGracePeriodSeconds=%d: destroyed",
              run->spec.stop_grace_seconds);
        r = nc_hv_destroy(env->hv, run->domname);
        return r < 0 && r != -EBUSY ? r : 0;
    }
    return 1;
}

/* Defines the domain from the spec when it is absent or out of date.
 * @ret_defined says whether it did. */
static int
ensure_defined(struct vm_run *run, const struct nc_dominfo *info, bool exists,
               const char *config_hash, bool *ret_defined)
{
    struct nc_env *env = run->ctx->env;
    struct nc_owner owner = {0};
    struct nc_domain_def def = {
        .name = run->domname,
        .uuid = exists ? info->uuid : NULL,
        .type = run->domtype,
        .console_log = run->console_log[0] ? run->console_log : NULL,
        .acpi = !nc_hv_is_test(env->hv),
        .owner = &owner,
        .spec = &run->spec,
    };
    char *xml = NULL;
    int r;

    *ret_defined = false;
    if (exists && strcmp(info->owner.config, config_hash) == 0)
        return 0;
    snprintf(owner.ns, sizeof(owner.ns), "%s", run->ns);
    snprintf(owner.kind, sizeof(owner.kind), "vm");
    snprintf(owner.name, sizeof(owner.name), "%s", run->name);
    snprintf(owner.cluster, sizeof(owner.cluster), "%s", env->cluster);
    snprintf(owner.prefix, sizeof(owner.prefix), "%s", env->prefix);
    snprintf(owner.config, sizeof(owner.config), "%s", config_hash);
    /* The spec was validated, so this fails only when out of memory or
     * when validation let through what XML cannot carry: not libvirt's
     * fault, and not worth retrying. */
    if (nc_domxml_build(&def, &xml) < 0)
        return -EBADMSG;
    r = nc_hv_define(env->hv, xml);
    free(xml);
    if (r == 0)
        *ret_defined = true;
    return r;
}

/* Brings the domain's power state to the spec's runState. Returns 1 while
 * waiting (requeue), 0 when there is nothing left to do, or an errno. */
static int
drive_state(struct vm_run *run, const struct nc_dominfo *info, const char *config_hash,
            bool was_ours_before, bool *ret_restarted)
{
    struct nc_env *env = run->ctx->env;
    enum nc_run_state want = run->spec.run_state;
    bool stale_live = info->state != NC_DOM_SHUTOFF && info->live_config[0] &&
                      strcmp(info->live_config, config_hash) != 0;
    const char *prev_phase = cJSON_GetStringValue(cJSON_GetObjectItem(run->old_status, "phase"));
    int r;

    /* A running instance of an older definition is restarted to take the
     * new one, unless the spec wants it stopped anyway. */
    if (stale_live && want != NC_RUN_STOPPED) {
        r = stop_domain(run, info, true);
        if (r != 0)
            return r;
        return 1; /* look again once it is off */
    }
    if (want == NC_RUN_STOPPED) {
        r = stop_domain(run, info, false);
        if (r == 0 && info->state != NC_DOM_SHUTOFF)
            event(run, "Normal", "Stopped", "domain stopped (runState Stopped)");
        return r == 0 && info->state != NC_DOM_SHUTOFF ? 1 : r;
    }
    if (info->state == NC_DOM_SHUTTING_DOWN)
        return 1;
    if (info->state == NC_DOM_SHUTOFF || info->state == NC_DOM_CRASHED) {
        bool for_update = stop_end(env->vm, run->key);

        if (info->state == NC_DOM_CRASHED && (r = nc_hv_destroy(env->hv, run->domname)) < 0)
            return r;
        r = nc_hv_start(env->hv, run->domname);
        if (r < 0)
            return r;
        if (for_update) {
            *ret_restarted = true;
            event(run, "Normal", "Restarted",
                  "domain restarted to apply generation %" PRId64, run->generation);
        } else if (was_ours_before && prev_phase &&
                   (strcmp(prev_phase, "Running") == 0 || strcmp(prev_phase, "Paused") == 0)) {
            event(run, "Warning", "DriftCorrected",
                  "domain was %s, expected %s: started again", nc_dom_state_names[info->state],
                  prev_phase);
        } else {
            event(run, "Normal", "Started", "domain started");
        }
        if (want == NC_RUN_PAUSED && (r = nc_hv_suspend(env->hv, run->domname)) < 0)
            return r;
        return 0;
    }
    if (want == NC_RUN_PAUSED && info->state == NC_DOM_RUNNING) {
        r = nc_hv_suspend(env->hv, run->domname);
        if (r == 0)
            event(run, "Normal", "Paused", "domain paused (runState Paused)");
        return r;
    }
    if (want == NC_RUN_RUNNING && info->state == NC_DOM_PAUSED) {
        r = nc_hv_resume(env->hv, run->domname);
        if (r == 0)
            event(run, prev_phase && strcmp(prev_phase, "Running") == 0 ? "Warning" : "Normal",
                  prev_phase && strcmp(prev_phase, "Running") == 0 ? "DriftCorrected" : "Resumed",
                  "domain resumed (runState Running)");
        return r;
    }
    return 0;
}

/*
 * What this node cannot do for a valid spec: KVM asked for where there is
 * none, boot files that are not here. Fills @msg and returns true then.
 * Also settles the domain type.
 */
static bool
node_problem(struct vm_run *run, char *msg, size_t msgsz)
{
    struct nc_env *env = run->ctx->env;
    const char *files[][2] = {
        {"spec.boot.kernel", run->spec.kernel},
        {"spec.boot.initrd", run->spec.initrd},
    };

    run->domtype = nc_hv_domain_type(env->hv, run->spec.accel);
    if (!run->domtype) {
        snprintf(msg, msgsz, "spec.accel: KVM is not available on node %s", env->node);
        return true;
    }
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        if (files[i][1] && access(files[i][1], R_OK) != 0) {
            snprintf(msg, msgsz, "%s: %s is not a readable file on node %s (%s)", files[i][0],
                     files[i][1], env->node, strerror(errno));
            return true;
        }
    }
    return false;
}

static int
reconcile_spec(struct vm_run *run, const char *value, int64_t *ret_requeue_ms)
{
    struct nc_env *env = run->ctx->env;
    struct nc_verr *errs = nc_verr_new();
    struct nc_dominfo info;
    char config_hash[17], reason[32], msg[512];
    bool exists = false, defined = false, restarted = false, stale;
    cJSON *s;
    int r, driven;

    if (!errs)
        return -ENOMEM;
    if (nc_vm_spec_parse(value, run->ns, run->name, &run->spec, errs) < 0) {
        char *why = nc_verr_join(errs);

        if (!nc_status_find_condition(run->old_status, "Ready") ||
            nc_status_condition_true(run->old_status, "Ready") ||
            strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(
                       nc_status_find_condition(run->old_status, "Ready"), "message")) ?: "",
                   why ? why : "") != 0)
            event(run, "Warning", "InvalidSpec", "%s", why ? why : "invalid spec");
        r = report_not_ready(run, "Failed", "InvalidSpec", why ? why : "invalid spec", NULL);
        free(why);
        nc_verr_free(errs);
        return r == -ESTALE ? 0 : r;
    }
    nc_verr_free(errs);

    if (run->spec.node[0] && strcmp(run->spec.node, env->node) != 0) {
        /* Another node runs it and owns its status; remove a copy of ours. */
        r = nc_hv_lookup(env->hv, run->domname, &info);
        if (r == 0 && owned_by_us(run, &info)) {
            nc_info(run->key, "placed on node %s: removing the local domain", run->spec.node);
            return remove_domain(run, &info);
        }
        return r == -ENOENT ? 0 : r;
    }

    r = dependency_missing(run, reason, sizeof(reason), msg, sizeof(msg));
    if (r < 0)
        return r;
    if (r > 0) {
        r = report_not_ready(run, "Pending", reason, msg, NULL);
        *ret_requeue_ms = DEPENDENCY_POLL_MS;
        return r == -ESTALE ? 0 : r;
    }

    if (node_problem(run, msg, sizeof(msg))) {
        r = report_not_ready(run, "Failed", "NotRunnableHere", msg, NULL);
        return r == -ESTALE ? 0 : r;
    }

    r = nc_hv_lookup(env->hv, run->domname, &info);
    if (r < 0 && r != -ENOENT)
        goto libvirt_error;
    exists = r == 0;
    if (exists && !owned_by_us(run, &info)) {
        snprintf(msg, sizeof(msg),
                 "libvirt domain %s exists but NovaCron did not create it for this object; "
                 "it is left alone",
                 run->domname);
        if (!nc_status_find_condition(run->old_status, "Ready") ||
            nc_status_condition_true(run->old_status, "Ready"))
            event(run, "Warning", "NameConflict", "%s", msg);
        r = report_not_ready(run, "Failed", "NameConflict", msg, NULL);
        return r == -ESTALE ? 0 : r;
    }
    if (!exists) {
        /* Status first: whatever instant a crash hits after this, the
         * domain about to exist has a status key (DESIGN.md §1). */
        r = report_not_ready(run, "Provisioning", "Provisioning", "defining the domain", NULL);
        if (r < 0)
            return r == -ESTALE ? 0 : r;
    }

    nc_vm_config_hash(&run->spec, run->domtype, config_hash);
    r = ensure_defined(run, &info, exists, config_hash, &defined);
    if (r == -EBADMSG) {
        r = report_not_ready(run, "Failed", "InvalidDefinition",
                             "the spec cannot be written as libvirt domain XML", NULL);
        return r == -ESTALE ? 0 : r;
    }
    if (r < 0)
        goto libvirt_error;
    if (defined)
        event(run, "Normal", exists ? "Updated" : "Created", "domain %s %s (%u vCPU, %s)",
              run->domname, exists ? "redefined" : "defined", run->spec.vcpus,
              nc_quantity_format(run->spec.memory, msg, sizeof(msg)));
    if (defined && !exists && (r = nc_hv_lookup(env->hv, run->domname, &info)) < 0)
        goto libvirt_error;

    driven = drive_state(run, &info, config_hash, exists, &restarted);
    if (driven < 0) {
        r = driven;
        goto libvirt_error;
    }
    if ((r = nc_hv_lookup(env->hv, run->domname, &info)) < 0)
        goto libvirt_error;

    stale = info.state != NC_DOM_SHUTOFF && info.live_config[0] &&
            strcmp(info.live_config, config_hash) != 0;
    s = status_new(run, phase_of(info.state));
    if (stale) {
        /* Not converged until the running guest has the new definition. */
        nc_status_condition(s, run->old_status, "Ready", false, "RestartPending",
                            "the running domain has an older definition; restarting it",
                            run->generation, run->now);
    } else if (state_matches(run->spec.run_state, info.state)) {
        snprintf(msg, sizeof(msg), "domain is %s as the spec asks",
                 nc_dom_state_names[info.state]);
        nc_status_condition(s, run->old_status, "Ready", true,
                            info.state == NC_DOM_RUNNING  ? "DomainRunning"
                            : info.state == NC_DOM_PAUSED ? "DomainPaused"
                                                          : "DomainStopped",
                            msg, run->generation, run->now);
    } else {
        snprintf(msg, sizeof(msg), "domain is %s, the spec asks for %s",
                 nc_dom_state_names[info.state], nc_run_state_names[run->spec.run_state]);
        nc_status_condition(s, run->old_status, "Ready", false, "Converging", msg,
                            run->generation, run->now);
    }

    /* ConfigApplied says whether the running domain has the spec's
     * definition, and whether that took a restart. */
    if (stale) {
        nc_status_condition(s, run->old_status, "ConfigApplied", false, "RestartPending",
                            "the running domain has an older definition; it is being restarted",
                            run->generation, run->now);
    } else if (restarted) {
        nc_status_condition(s, run->old_status, "ConfigApplied", true, "Restarted",
                            "the new vcpus/memory needed a restart of the domain, which was done",
                            run->generation, run->now);
    } else if (defined || !nc_status_find_condition(run->old_status, "ConfigApplied")) {
        nc_status_condition(s, run->old_status, "ConfigApplied", true,
                            exists ? "AppliedWithoutRestart" : "Created",
                            exists ? "the definition was updated; no restart was needed"
                                   : "the domain was defined from this spec",
                            run->generation, run->now);
    } else {
        const cJSON *old = nc_status_find_condition(run->old_status, "ConfigApplied");

        nc_status_condition(s, run->old_status, "ConfigApplied",
                            nc_status_condition_true(run->old_status, "ConfigApplied"),
                            cJSON_GetStringValue(cJSON_GetObjectItem(old, "reason")) ?: "Applied",
                            cJSON_GetStringValue(cJSON_GetObjectItem(old, "message")) ?: "",
                            run->generation, run->now);
    }
    add_domain(s, run->domname, &info);
    if (run->console_log[0])
        cJSON_AddStringToObject(s, "consoleLog", run->console_log);
    r = report(run, s);
    cJSON_Delete(s);
    if (r == -ESTALE)
        return 0;
    if (driven > 0 || stale || !state_matches(run->spec.run_state, info.state))
        *ret_requeue_ms = POLL_MS;
    return r;

libvirt_error:
    snprintf(msg, sizeof(msg), "%s", nc_hv_errmsg());
    nc_warn(run->key, "libvirt: %s", msg);
    if (report_not_ready(run, exists ? phase_of(info.state) : "Provisioning", "LibvirtError", msg,
                         NULL) == -ESTALE)
        return 0;
    return r;
}

int
nc_vm_reconcile(struct nc_ctx *ctx, const char *ns, const char *name, int64_t *ret_requeue_ms)
{
    struct nc_env *env = ctx->env;
    struct vm_run run = {.ctx = ctx, .ns = ns, .name = name};
    char *value = NULL;
    int64_t rev, known;
    int r;

    *ret_requeue_ms = 0;
    snprintf(run.key, sizeof(run.key), "%s/vm/%s", ns, name);
    nc_rfc3339_now(run.now);
    nc_domain_name(env->install_hash, ns, name, run.domname);
    if (!nc_hv_is_test(env->hv))
        snprintf(run.console_log, sizeof(run.console_log), "%s/%s.log", env->console_dir,
                 run.domname);
    if (asprintf(&run.spec_key, "%sspec/%s/vm/%s", env->prefix, ns, name) < 0 ||
        asprintf(&run.status_key, "%sstatus/%s/vm/%s", env->prefix, ns, name) < 0) {
        r = -ENOMEM;
        goto out;
    }

    /* The status is read from the cache: the controller writes every
     * status through it, and its watch brings in anybody else's. */
    r = nc_informer_get(env->statuses, run.status_key, &value, &rev);
    if (r == 0)
        run.old_status = cJSON_Parse(value);
    else if (r != -ENOENT)
        goto out;
    free(value);
    value = NULL;
    known = nc_informer_revision(env->specs);
    if (nc_informer_revision(env->statuses) > known)
        known = nc_informer_revision(env->statuses);
    nc_events_begin(&run.events, &env->events, env->prefix, ns, "vm", name, known);

    r = nc_informer_get(env->specs, run.spec_key, &value, &run.generation);
    if (r == -ENOENT) {
        run.generation = 0;
        r = reconcile_deleted(&run);
    } else if (r == 0) {
        r = reconcile_spec(&run, value, ret_requeue_ms);
    }
    if (r == -ESTALE)
        r = 0; /* the newer spec is queued already */

out:
    free(value);
    free(run.spec_key);
    free(run.status_key);
    cJSON_Delete(run.old_status);
    nc_events_clear(&run.events);
    nc_vm_spec_clear(&run.spec);
    return r;
}

struct list_ctx {
    struct nc_env *env;
    void (*fn)(void *data, const char *key);
    void *data;
};

static void
on_owned(const char *domname, const struct nc_owner *o, void *data)
{
    struct list_ctx *lc = data;
    char key[160];

    (void)domname;
    if (strcmp(o->kind, "vm") != 0 || strcmp(o->cluster, lc->env->cluster) != 0 ||
        strcmp(o->prefix, lc->env->prefix) != 0 || !nc_is_dns_label(o->ns) ||
        !nc_is_dns_label(o->name))
        return;
    snprintf(key, sizeof(key), "%s/vm/%s", o->ns, o->name);
    lc->fn(lc->data, key);
}

int
nc_vm_list_actual(struct nc_env *env, void (*fn)(void *data, const char *key), void *data)
{
    struct list_ctx lc = {env, fn, data};

    return nc_hv_list_owned(env->hv, on_owned, &lc);
}
