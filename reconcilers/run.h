/*
 * What every reconcile of one object shares, whatever its kind: its keys,
 * the status it last reported, the events it collects, and the guarded
 * write of both (schema/README.md §3). Each reconciler embeds a struct nc_run.
 */
#ifndef NC_RUN_H
#define NC_RUN_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "reconcilers/events.h"
#include "reconcilers/reconciler.h"
#include "schema/validate.h"

struct nc_run {
    struct nc_ctx *ctx;
    const char *ns, *kind, *name;
    char key[160];          /* "ns/kind/name", for logs and the queue */
    char *spec_key, *status_key;
    int64_t generation;     /* spec mod_revision, 0 when the spec is gone */
    cJSON *old_status;      /* as last written, NULL when there is none */
    int64_t status_read;    /* its mod_revision in the cache, 0 when there is none */
    /* A status that more than one node writes in turn is written only
     * over the one read: set to status_read to guard (-1: unguarded). */
    int64_t status_revision;
    /* Ops written with the next status change, and only with it, and
     * what that write then also requires. */
    const struct nc_op *extra;
    size_t n_extra;
    const struct nc_cmp *extra_cmp;
    size_t n_extra_cmp;
    char now[32];
    struct nc_events events;
};

/*
 * Starts a reconcile of @kind @ns/@name: builds the keys and reads the last
 * status from the statuses cache (which every status is written through,
 * and whose watch brings anybody else's). The spec is read by the caller,
 * with nc_run_spec(). 0 or a negative errno; call nc_run_end() either way.
 */
int nc_run_begin(struct nc_run *run, struct nc_ctx *ctx, const char *ns, const char *kind,
                 const char *name) __attribute__((warn_unused_result));
void nc_run_end(struct nc_run *run);

/* The spec's value (caller frees) and generation; -ENOENT when it is gone
 * (generation 0). */
int nc_run_spec(struct nc_run *run, char **ret_value) __attribute__((warn_unused_result));

/* The status of @kind @name of the run's namespace, as the cache has it,
 * parsed (cJSON_Delete() it), or NULL. */
cJSON *nc_run_status_of(const struct nc_run *run, const char *kind, const char *name);

/* Node @node's registration (nodes/<node>: its pools, its peerLibvirt...),
 * as the cache has it, parsed (cJSON_Delete() it), or NULL: the node is
 * not registered, gone or never there. */
cJSON *nc_run_node(const struct nc_env *env, const char *node);

/* Whether @kind @name of the run's namespace has a spec in the cache: 0
 * and its generation in @ret_gen (may be NULL), -ENOENT, or -ENOMEM. */
int nc_run_spec_of(const struct nc_run *run, const char *kind, const char *name,
                   int64_t *ret_gen) __attribute__((warn_unused_result));

/* Records an event and logs it. */
void nc_run_event(struct nc_run *run, const char *type, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Queues @kind/@name of the run's namespace for reconcile: an object that
 * depends on what this run changed. */
void nc_run_enqueue(struct nc_run *run, const char *kind, const char *name);

/*
 * Writes @status and the collected events when either has something new,
 * only if the spec still has the generation this run saw. Returns 0,
 * -ESTALE when the spec moved on, -ENOMEM when @status is NULL (a status
 * that could not be built), or a negative errno.
 */
int nc_run_report(struct nc_run *run, const cJSON *status) __attribute__((warn_unused_result));

/* Deletes the status key (with the events), once whatever the object had
 * is gone, guarded as nc_run_report() is. */
int nc_run_delete_status(struct nc_run *run) __attribute__((warn_unused_result));

/*
 * A failure that leaves the status as it is (or that is another node's to
 * write): recorded as a Warning event with @reason and the message
 * formatted, written at once with the events collected so far. Returns
 * @r, for a retry with backoff.
 */
int nc_run_warn(struct nc_run *run, int r, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* True when Ready=@ok with @message is not what the last status says, so
 * an event about it is news, not a repeat. */
bool nc_run_ready_changed(const struct nc_run *run, bool ok, const char *message);

/* Adds Ready=False with @reason and @message to @status, records a
 * Warning event @reason when @warn and that is news, then writes @status
 * (nc_run_report()) and frees it. -ENOMEM when @status is NULL. */
int nc_run_report_not_ready(struct nc_run *run, cJSON *status, const char *reason,
                            const char *message, bool warn) __attribute__((warn_unused_result));

/* nc_run_report_not_ready() with the message formatted, a Warning event
 * when @status's phase is Failed: a request's end (Snapshot, Restore). */
int nc_run_report_not_readyf(struct nc_run *run, cJSON *status, const char *reason,
                             const char *fmt, ...) __attribute__((format(printf, 4, 5)))
    __attribute__((warn_unused_result));

/* An invalid spec, the same for every kind: phase Failed (in @status, which
 * it frees), Ready=False with reason InvalidSpec and the validators'
 * message naming each field, a Warning event when that is news. */
int nc_run_report_invalid(struct nc_run *run, cJSON *status, const struct nc_verr *errs)
    __attribute__((warn_unused_result));

/*
 * Whether a resource this node made and marked, with neither spec nor
 * status, may be deleted: with --gc-orphans; or when the cluster deleted it
 * while this node was away: the node's lease expired while it ran (it was
 * taken for dead, and the leader removed the statuses of what was deleted
 * meanwhile) and etcd is still the store it was (not restored or replaced,
 * which forgets what it never deleted).
 */
bool nc_run_may_collect(const struct nc_env *env);

#endif
