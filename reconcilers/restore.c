/*
 * The Restore reconciler: brings a VM's disks (and its memory, when its
 * Snapshot kept it) back to a Snapshot, once, on the node the snapshot
 * lives on, which must be the VM's. A snapshot with memory: libvirt
 * reverts the domain and the guest resumes where it was. One without (or
 * of a guest that was off): the guest is stopped gracefully first, the
 * disks reverted, and the VM's reconciler brings it back to its runState,
 * booting afresh from the snapshot's disks.
 *
 * While a Restore is InProgress the VM reconciler leaves the VM alone
 * (nc_vm_in_progress()). InProgress is written before anything is done, and
 * every step can be done again, so a novacrond killed in the middle does
 * it all again when it comes back and then says Complete.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/names.h"
#include "reconcilers/restore.h"
#include "reconcilers/run.h"
#include "reconcilers/status.h"
#include "reconcilers/stop.h"
#include "reconcilers/users.h"
#include "reconcilers/vm.h"
#include "schema/restore.h"
#include "schema/vm.h"

#define WAIT_MS 2000 /* how often a Restore waiting for its snapshot looks again */

struct restore_run {
    struct nc_run o;
    struct nc_restore_spec spec;
};

static cJSON *
status_new(struct restore_run *run, const char *phase)
{
    cJSON *s = nc_status_new(run->o.old_status, run->o.generation, phase, run->o.now);

    if (!s)
        return NULL;
    if (run->spec.vm[0])
        cJSON_AddStringToObject(s, "vm", run->spec.vm);
    if (run->spec.snapshot[0])
        cJSON_AddStringToObject(s, "snapshot", run->spec.snapshot);
    cJSON_AddBoolToObject(s, "complete", strcmp(phase, "Complete") == 0);
    return s;
}

/* Ready=False in @phase, the message formatted (a Warning when Failed). */
#define not_ready(run, phase, reason, ...)                                                         \
    nc_run_report_not_readyf(&(run)->o, status_new((run), (phase)), (reason), __VA_ARGS__)

static bool
has_string(const cJSON *list, const char *s)
{
    const cJSON *e;

    cJSON_ArrayForEach(e, list)
        if (cJSON_IsString(e) && strcmp(e->valuestring, s) == 0)
            return true;
    return false;
}

/* Does it, from the top: InProgress is written already. */
static int
restore(struct restore_run *run, const cJSON *snap, int64_t vm_gen)
{
    struct nc_env *env = run->o.ctx->env;
    char domname[NC_DOMAIN_NAME_MAX], snapname[NC_DOMAIN_NAME_MAX], msg[512];
    bool memory = has_string(cJSON_GetObjectItem(snap, "indications"), "Memory");
    bool online = has_string(cJSON_GetObjectItem(snap, "indications"), "Online");
    int64_t taken_gen = nc_json_i64(cJSON_GetObjectItem(snap, "sourceGeneration"));
    struct nc_dominfo info;
    cJSON *s;
    int r, grace = nc_stop_grace(env, run->o.ns, run->spec.vm);

    nc_domain_name(env->install_hash, run->o.ns, run->spec.vm, domname);
    nc_domain_name(env->install_hash, run->o.ns, run->spec.snapshot, snapname);
    if (memory) {
        /* libvirt reverts the running guest in place. */
        r = nc_hv_snapshot_revert(env->hv, domname, snapname, false);
    } else {
        /* Off first, so that nothing writes to the disks; a snapshot of a
         * running guest holds its memory all the same, so it is reverted
         * paused and switched off: the disks alone come back. */
        r = nc_stop_guest(&run->o, domname, run->spec.vm, grace, NULL, NULL);
        if (r == 0)
            r = nc_hv_snapshot_revert(env->hv, domname, snapname, true);
        if (r == 0 && online && (r = nc_hv_lookup(env->hv, domname, &info)) == 0 &&
            info.state != NC_DOM_SHUTOFF)
            r = nc_hv_destroy(env->hv, domname);
        if (r == 0)
            nc_vm_stopped_by_restore(env, run->o.ns, run->spec.vm);
    }
    if (r < 0) {
        snprintf(msg, sizeof(msg), "libvirt: %s", nc_drv_errmsg());
        nc_run_event(&run->o, "Warning", "LibvirtError", "%s", msg);
        /* Tried again from the top, with backoff. */
        return not_ready(run, "InProgress", "LibvirtError", "%s", msg) == -ESTALE ? -ESTALE : r;
    }
    nc_info(run->o.key, "VM %s restored from snapshot %s", run->spec.vm, run->spec.snapshot);
    snprintf(msg, sizeof(msg), "VM %s restored from Snapshot %s%s", run->spec.vm,
             run->spec.snapshot,
             memory ? ": the guest resumes where it was" : ": the guest boots from its disks");
    if (taken_gen && vm_gen && taken_gen != vm_gen)
        snprintf(msg + strlen(msg), sizeof(msg) - strlen(msg),
                 "; the snapshot is of the VM's spec at generation %lld, the spec is now at "
                 "%lld: its definition is made again from the spec, disks the snapshot does "
                 "not have keep what they hold",
                 (long long)taken_gen, (long long)vm_gen);
    if (!(s = status_new(run, "Complete")))
        return -ENOMEM;
    cJSON_AddStringToObject(s, "restoreTime", run->o.now);
    nc_status_condition(s, run->o.old_status, "Ready", true, "Restored", msg, run->o.generation,
                        run->o.now);
    nc_run_event(&run->o, "Normal", "Restored", "%s", msg);
    r = nc_run_report(&run->o, s);
    cJSON_Delete(s);
    /* Its reconciler takes the VM back from here. */
    nc_run_enqueue(&run->o, "vm", run->spec.vm);
    return r;
}

static int
reconcile_spec(struct restore_run *run, const char *value, int64_t *ret_requeue_ms)
{
    struct nc_env *env = run->o.ctx->env;
    struct nc_verr *errs = nc_verr_new();
    const char *phase = cJSON_GetStringValue(cJSON_GetObjectItem(run->o.old_status, "phase"));
    const char *taken_of, *at, *snap_phase;
    char where[254];
    int64_t vm_gen = 0;
    cJSON *snap, *s;
    int r;

    if (!errs)
        return -ENOMEM;
    if (nc_restore_spec_parse(value, run->o.ns, run->o.name, &run->spec, errs) < 0) {
        r = nc_run_report_invalid(&run->o, status_new(run, "Failed"), errs);
        nc_verr_free(errs);
        return r;
    }
    nc_verr_free(errs);
    /* Done once: a Restore is a request, not a state to hold. */
    if (phase && strcmp(phase, "Complete") == 0)
        return 0;
    snap = nc_run_status_of(&run->o, "snapshot", run->spec.snapshot);
    snap_phase = cJSON_GetStringValue(cJSON_GetObjectItem(snap, "phase"));
    taken_of = cJSON_GetStringValue(cJSON_GetObjectItem(snap, "vm"));
    at = cJSON_GetStringValue(cJSON_GetObjectItem(snap, "node"));
    if (nc_run_spec_of(&run->o, "snapshot", run->spec.snapshot, NULL) < 0) {
        r = not_ready(run, "Failed", "SnapshotNotFound",
                      "spec.snapshot: no Snapshot \"%s\" in namespace %s", run->spec.snapshot,
                      run->o.ns);
    } else if (taken_of && strcmp(taken_of, run->spec.vm) != 0) {
        r = not_ready(run, "Failed", "SnapshotOfAnotherVM",
                      "spec.snapshot: Snapshot \"%s\" is of VirtualMachine \"%s\", not \"%s\"",
                      run->spec.snapshot, taken_of, run->spec.vm);
    } else if (!snap_phase || strcmp(snap_phase, "Ready") != 0 || !at) {
        *ret_requeue_ms = WAIT_MS;
        r = not_ready(run, "Pending", "WaitingForSnapshot",
                      "waiting for Snapshot \"%s\" to be Ready", run->spec.snapshot);
    } else if (nc_run_spec_of(&run->o, "vm", run->spec.vm, &vm_gen) < 0) {
        r = not_ready(run, "Failed", "VMNotFound",
                      "spec.vm: no VirtualMachine \"%s\" in namespace %s", run->spec.vm,
                      run->o.ns);
    } else if (strcmp(at, env->node) != 0) {
        r = 0; /* the snapshot's node's to do */
    } else if (!nc_vm_node(env, run->o.ns, run->spec.vm, where, sizeof(where)) ||
               strcmp(where, env->node) != 0) {
        r = not_ready(run, "Failed", "VMMoved",
                      "spec.vm: VirtualMachine \"%s\" is on node %s, its Snapshot \"%s\" on "
                      "node %s",
                      run->spec.vm, where[0] ? where : "(none)", run->spec.snapshot, at);
    } else if (!(s = status_new(run, "InProgress"))) {
        r = -ENOMEM;
    } else {
        cJSON_AddStringToObject(s, "node", env->node);
        if ((r = nc_run_report_not_ready(&run->o, s, "InProgress",
                                         "the VM's disks go back to the snapshot", false)) == 0)
            r = restore(run, snap, vm_gen);
    }
    cJSON_Delete(snap);
    return r;
}

static int
reconcile(struct nc_ctx *ctx, const char *ns, const char *name, int64_t *ret_requeue_ms)
{
    struct restore_run run = {0};
    char *value = NULL;
    int r;

    *ret_requeue_ms = 0;
    if ((r = nc_run_begin(&run.o, ctx, ns, "restore", name)) < 0)
        goto out;
    r = nc_run_spec(&run.o, &value);
    if (r == 0)
        r = reconcile_spec(&run, value, ret_requeue_ms);
    else if (r == -ENOENT)
        r = run.o.old_status ? nc_run_delete_status(&run.o) : 0; /* it made nothing */
    if (r == -ESTALE)
        r = 0;
out:
    free(value);
    nc_run_end(&run.o);
    return r;
}

const struct nc_reconciler nc_restore_reconciler = {
    .kind = "restore",
    .reconcile = reconcile,
};
