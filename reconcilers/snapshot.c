/*
 * The Snapshot reconciler: a snapshot of every disk of a VM (and of its
 * memory while it runs), taken once, on the node the VM is on, as a
 * libvirt internal snapshot (drivers/snapshot.c) named like our domains
 * (nc-<hash>.<ns>.<snapshot>) and marked in its description. Its status
 * says where it was taken, of which generation of the VM, when, and of
 * which disks. Deleting the spec deletes the libvirt snapshot, then the
 * status. A snapshot is never taken again: one that vanished from libvirt
 * is Failed, since another would be of another moment.
 *
 * kill -9 safety: InProgress (with the node) is written before libvirt is
 * asked, so a restart finds either the snapshot (Ready) or none (taken
 * then); libvirt takes it atomically, all disks or none.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/names.h"
#include "reconcilers/run.h"
#include "reconcilers/snapshot.h"
#include "reconcilers/status.h"
#include "reconcilers/users.h"
#include "schema/snapshot.h"
#include "schema/vm.h"

#define WAIT_MS 2000 /* how often a snapshot waiting for its VM looks again */

struct snap_run {
    struct nc_run o;
    struct nc_snapshot_spec spec;
    char domname[NC_DOMAIN_NAME_MAX];
    char snapname[NC_DOMAIN_NAME_MAX];
    char mark[512];
};

static cJSON *
status_new(struct snap_run *run, const char *phase)
{
    cJSON *s = nc_status_new(run->o.old_status, run->o.generation, phase, run->o.now);
    const char *keep[] = {"vm", "node", "sourceGeneration", "creationTime", "indications",
                          "disks", "readyToUse"};

    if (!s)
        return NULL;
    /* What was taken stays said, whatever happens next. */
    for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
        const cJSON *v = cJSON_GetObjectItem(run->o.old_status, keep[i]);

        if (v)
            cJSON_AddItemToObject(s, keep[i], cJSON_Duplicate(v, true));
    }
    if (!cJSON_GetObjectItem(s, "vm") && run->spec.vm[0])
        cJSON_AddStringToObject(s, "vm", run->spec.vm);
    cJSON_DeleteItemFromObject(s, "readyToUse");
    cJSON_AddBoolToObject(s, "readyToUse", strcmp(phase, "Ready") == 0);
    return s;
}

/* Ready=False in @phase, the message formatted (a Warning when Failed). */
#define not_ready(run, phase, reason, ...)                                                         \
    nc_run_report_not_readyf(&(run)->o, status_new((run), (phase)), (reason), __VA_ARGS__)

/*
 * A libvirt call failed with @r for @why: said in Ready=False, with the
 * phase kept (Deleting once the spec is gone), and by a Warning event; @r
 * returned for a retry with backoff.
 */
static int
libvirt_failed(struct snap_run *run, int r, const char *why)
{
    const char *phase = cJSON_GetStringValue(cJSON_GetObjectItem(run->o.old_status, "phase"));
    char msg[512];

    snprintf(msg, sizeof(msg), "libvirt: %s", why);
    nc_warn(run->o.key, "%s", msg);
    nc_run_event(&run->o, "Warning", "LibvirtError", "%s", msg);
    if (!run->spec.vm[0])
        phase = "Deleting";
    if (not_ready(run, phase ? phase : "Pending", "LibvirtError", "%s", msg) == -ESTALE)
        return -ESTALE;
    return r;
}

/*
 * Why the VM's disks cannot be snapshotted, into @why (empty when they
 * can): internal snapshots live in qcow2 images, so every disk must be a
 * qcow2 Volume, and there must be one. Fills @disks with {volume, size}.
 */
static void
check_disks(struct snap_run *run, const struct nc_vm_spec *vm, cJSON *disks, char *why,
            size_t whysz)
{
    why[0] = '\0';
    if (vm->n_disks == 0) {
        snprintf(why, whysz, "VirtualMachine \"%s\" has no disks to snapshot", run->spec.vm);
        return;
    }
    for (unsigned i = 0; i < vm->n_disks && !why[0]; i++) {
        cJSON *st = nc_run_status_of(&run->o, "volume", vm->disks[i].volume);
        const char *format = cJSON_GetStringValue(cJSON_GetObjectItem(st, "format"));
        cJSON *d;

        if (!format)
            snprintf(why, whysz, "disk %s: Volume \"%s\" is not Ready", vm->disks[i].name,
                     vm->disks[i].volume);
        else if (strcmp(format, "qcow2") != 0)
            snprintf(why, whysz,
                     "disk %s: Volume \"%s\" is %s; snapshots are kept inside qcow2 images, "
                     "so every disk must be a qcow2 Volume",
                     vm->disks[i].name, vm->disks[i].volume, format);
        else if ((d = cJSON_CreateObject())) {
            cJSON_AddStringToObject(d, "disk", vm->disks[i].name);
            cJSON_AddStringToObject(d, "volume", vm->disks[i].volume);
            cJSON_AddNumberToObject(d, "size",
                                    (double)nc_json_i64(cJSON_GetObjectItem(st, "capacity")));
            cJSON_AddItemToArray(disks, d);
        }
        cJSON_Delete(st);
    }
}

/* Ready, with what libvirt says of the snapshot. */
static int
report_ready(struct snap_run *run, const struct nc_snapinfo *info)
{
    cJSON *s = status_new(run, "Ready"), *ind;
    char created[32], msg[256];
    bool memory = info->memory && run->spec.memory;
    int r;

    if (!s)
        return -ENOMEM;
    cJSON_DeleteItemFromObject(s, "creationTime");
    cJSON_AddStringToObject(s, "creationTime", nc_rfc3339_format((time_t)info->created, created));
    cJSON_DeleteItemFromObject(s, "indications");
    ind = cJSON_AddArrayToObject(s, "indications");
    cJSON_AddItemToArray(ind, cJSON_CreateString(info->memory ? "Online" : "Offline"));
    if (memory)
        cJSON_AddItemToArray(ind, cJSON_CreateString("Memory"));
    snprintf(msg, sizeof(msg), "%s of VirtualMachine \"%s\"%s",
             memory ? "disks and memory" : "disks", run->spec.vm,
             run->spec.memory && !info->memory ? "; it was not running: no memory to keep" : "");
    nc_status_condition(s, run->o.old_status, "Ready", true, "SnapshotReady", msg,
                        run->o.generation, run->o.now);
    if (!nc_status_condition_true(run->o.old_status, "Ready"))
        nc_run_event(&run->o, "Normal", "SnapshotReady", "%s", msg);
    r = nc_run_report(&run->o, s);
    cJSON_Delete(s);
    return r;
}

/* A retained snapshot whose time is up: its spec is deleted (only as it
 * was read), which deletes it. *ret_requeue_ms: when it is up otherwise. */
static int
expire(struct snap_run *run, const struct nc_snapinfo *info, int64_t *ret_requeue_ms)
{
    int64_t left_ms = ((int64_t)info->created + run->spec.retain_s) * 1000 -
                      (int64_t)time(NULL) * 1000;
    struct nc_cmp cmp = {.key = run->o.spec_key, .target = NC_CMP_MOD,
                         .result = NC_CMP_EQUAL, .number = run->o.generation};
    struct nc_op del = {.del = true, .key = run->o.spec_key};
    bool ok = false;
    int r;

    if (!run->spec.retain_s)
        return 0;
    if (left_ms > 0) {
        *ret_requeue_ms = left_ms;
        return 0;
    }
    r = nc_etcd_txn(run->o.ctx->etcd, &cmp, 1, &del, 1, NULL, 0, &ok, NULL);
    if (r == 0 && ok)
        nc_info(run->o.key, "spec.retainSeconds (%u) passed: spec deleted", run->spec.retain_s);
    return r;
}

/* Ready, and deleted when its time is up. */
static int
ready(struct snap_run *run, const struct nc_snapinfo *info, int64_t *ret_requeue_ms)
{
    int r = report_ready(run, info);

    return r < 0 ? r : expire(run, info, ret_requeue_ms);
}

/* What libvirt's answer @r to taking the snapshot makes of it. */
static int
after_create(struct snap_run *run, int r, int64_t *ret_requeue_ms)
{
    struct nc_env *env = run->o.ctx->env;
    struct nc_snapinfo info;
    char why[512];

    if (r < 0) {
        snprintf(why, sizeof(why), "%s", nc_drv_errmsg());
        /* It may be there all the same: a novacrond killed while libvirt
         * took it asked again, and libvirt took the first one meanwhile. */
        if (nc_hv_snapshot_lookup(env->hv, run->domname, run->snapname, &info) == 0 &&
            strcmp(info.mark, run->mark) == 0)
            return ready(run, &info, ret_requeue_ms);
        if (r == -EINVAL || r == -ENOTSUP)
            return not_ready(run, "Failed", "SnapshotFailed", "%s", why);
        return libvirt_failed(run, r, why);
    }
    if ((r = nc_hv_snapshot_lookup(env->hv, run->domname, run->snapname, &info)) == 0) {
        nc_info(run->o.key, "snapshot %s of domain %s taken", run->snapname, run->domname);
        return ready(run, &info, ret_requeue_ms);
    }
    return libvirt_failed(run, r, nc_drv_errmsg());
}

static int
take(struct snap_run *run, int64_t *ret_requeue_ms)
{
    struct nc_env *env = run->o.ctx->env;
    struct nc_dominfo dom;
    struct nc_verr *errs = nc_verr_new();
    struct nc_vm_spec vm;
    char *value = NULL, why[512];
    int64_t vm_gen = 0;
    cJSON *s, *disks, *vmst;
    const char *vm_phase;
    int r;

    if (!errs)
        return -ENOMEM;
    r = nc_informer_getf(env->specs, &value, &vm_gen, "%sspec/%s/vm/%s", env->prefix, run->o.ns,
                         run->spec.vm);
    if (r == 0)
        r = nc_vm_spec_parse(value, run->o.ns, run->spec.vm, &vm, errs);
    free(value);
    nc_verr_free(errs);
    if (r == -ENOENT)
        return not_ready(run, "Failed", "VMNotFound",
                         "spec.vm: no VirtualMachine \"%s\" in namespace %s", run->spec.vm,
                         run->o.ns);
    if (r < 0)
        return not_ready(run, "Failed", "VMInvalid",
                         "spec.vm: VirtualMachine \"%s\" is invalid (see its status)",
                         run->spec.vm);
    vmst = nc_run_status_of(&run->o, "vm", run->spec.vm);
    vm_phase = cJSON_GetStringValue(cJSON_GetObjectItem(vmst, "phase"));
    if (vm_phase && strcmp(vm_phase, "Failed") == 0) {
        cJSON_Delete(vmst);
        nc_vm_spec_clear(&vm);
        return not_ready(run, "Failed", "VMFailed", "spec.vm: VirtualMachine \"%s\" is Failed",
                         run->spec.vm);
    }
    cJSON_Delete(vmst);
    if (vm.runtime != NC_RUNTIME_VM) {
        const char *rt = nc_runtime_names[vm.runtime];

        nc_vm_spec_clear(&vm);
        return not_ready(run, "Failed", "RuntimeUnsupported",
                         "spec.vm: VirtualMachine \"%s\" runs on the %s runtime, which "
                         "takes no snapshots",
                         run->spec.vm, rt);
    }
    if (run->spec.quiesce) {
        nc_vm_spec_clear(&vm);
        return not_ready(run, "Failed", "QuiesceUnsupported",
                         "spec.quiesce: freezing file systems needs a guest agent, which this "
                         "version gives no guest; leave it false (the snapshot is then "
                         "crash-consistent, or has the memory with spec.memory)");
    }
    if (!(disks = cJSON_CreateArray())) {
        nc_vm_spec_clear(&vm);
        return -ENOMEM;
    }
    check_disks(run, &vm, disks, why, sizeof(why));
    nc_vm_spec_clear(&vm);
    if (why[0]) {
        cJSON_Delete(disks);
        return not_ready(run, "Failed", "DisksUnsupported", "spec.vm: %s", why);
    }
    r = nc_hv_lookup(env->hv, run->domname, &dom);
    if (r == -ENOENT) {
        cJSON_Delete(disks);
        *ret_requeue_ms = WAIT_MS;
        return not_ready(run, "Pending", "WaitingForVM",
                         "waiting for VirtualMachine \"%s\" to be defined on node %s",
                         run->spec.vm, env->node);
    }
    if (r < 0) {
        cJSON_Delete(disks);
        return libvirt_failed(run, r, nc_drv_errmsg());
    }
    /* Said before libvirt is asked: a restart finds the node to look on. */
    if (!(s = status_new(run, "InProgress"))) {
        cJSON_Delete(disks);
        return -ENOMEM;
    }
    cJSON_DeleteItemFromObject(s, "node");
    cJSON_AddStringToObject(s, "node", env->node);
    cJSON_DeleteItemFromObject(s, "sourceGeneration");
    cJSON_AddNumberToObject(s, "sourceGeneration", (double)vm_gen);
    cJSON_DeleteItemFromObject(s, "disks");
    cJSON_AddItemToObject(s, "disks", disks);
    if ((r = nc_run_report_not_ready(&run->o, s, "InProgress", "libvirt takes the snapshot",
                                     false)) < 0)
        return r;
    r = after_create(run, nc_hv_snapshot_create(env->hv, run->domname, run->snapname, run->mark),
                     ret_requeue_ms);
    /* The VM's reconciler left the VM alone meanwhile (a guest paused
     * while its memory is saved): it looks again, once the status says
     * the snapshot is no longer InProgress. */
    nc_run_enqueue(&run->o, "vm", run->spec.vm);
    return r;
}

static int
reconcile_spec(struct snap_run *run, const char *value, int64_t *ret_requeue_ms)
{
    struct nc_env *env = run->o.ctx->env;
    struct nc_verr *errs = nc_verr_new();
    const char *taken_of = cJSON_GetStringValue(cJSON_GetObjectItem(run->o.old_status, "vm"));
    const char *at = cJSON_GetStringValue(cJSON_GetObjectItem(run->o.old_status, "node"));
    struct nc_snapinfo info;
    char where[254];
    int r;

    if (!errs)
        return -ENOMEM;
    if (nc_snapshot_spec_parse(value, run->o.ns, run->o.name, &run->spec, errs) < 0) {
        r = nc_run_report_invalid(&run->o, status_new(run, "Failed"), errs);
        nc_verr_free(errs);
        return r;
    }
    nc_verr_free(errs);
    /* Taken, it lives on the node it was taken on; until then, it is the
     * VM's node's to take. */
    if (!at) {
        if (!nc_vm_node(env, run->o.ns, run->spec.vm, where, sizeof(where)) || !where[0]) {
            if (nc_run_spec_of(&run->o, "vm", run->spec.vm, NULL) == -ENOENT)
                return not_ready(run, "Failed", "VMNotFound",
                                 "spec.vm: no VirtualMachine \"%s\" in namespace %s",
                                 run->spec.vm, run->o.ns);
            *ret_requeue_ms = WAIT_MS;
            return not_ready(run, "Pending", "WaitingForVM",
                             "waiting for VirtualMachine \"%s\" to be placed on a node",
                             run->spec.vm);
        }
        at = where;
    }
    if (strcmp(at, env->node) != 0)
        return 0;
    if (taken_of && strcmp(taken_of, run->spec.vm) != 0 &&
        cJSON_GetObjectItem(run->o.old_status, "creationTime"))
        return not_ready(run, "Failed", "VMChanged",
                         "spec.vm: this snapshot was taken of VirtualMachine \"%s\"; a "
                         "snapshot's VM cannot change (write a new Snapshot)",
                         taken_of);
    nc_domain_name(env->install_hash, run->o.ns, run->spec.vm, run->domname);
    r = nc_hv_snapshot_lookup(env->hv, run->domname, run->snapname, &info);
    if (r == 0) {
        if (strcmp(info.mark, run->mark) != 0)
            return not_ready(run, "Failed", "NameConflict",
                             "libvirt has a snapshot %s that novacron did not take",
                             run->snapname);
        return ready(run, &info, ret_requeue_ms);
    }
    if (r != -ENOENT)
        return libvirt_failed(run, r, nc_drv_errmsg());
    if (cJSON_GetObjectItem(run->o.old_status, "creationTime"))
        return not_ready(run, "Failed", "SnapshotLost",
                         "libvirt has no snapshot %s any more: it was deleted outside novacron "
                         "or went with its VM's domain",
                         run->snapname);
    return take(run, ret_requeue_ms);
}

/* The status goes; the VM and the Volumes whose deletion waited for the
 * snapshot look again. */
static int
delete_status(struct snap_run *run)
{
    cJSON *st = cJSON_Duplicate(run->o.old_status, true);
    const char *vm = cJSON_GetStringValue(cJSON_GetObjectItem(st, "vm"));
    const cJSON *d, *disks = cJSON_GetObjectItem(st, "disks");
    int r = nc_run_delete_status(&run->o);

    if (r < 0) {
        cJSON_Delete(st);
        return r;
    }
    if (vm && nc_is_dns_label(vm))
        nc_run_enqueue(&run->o, "vm", vm);
    cJSON_ArrayForEach(d, disks) {
        const char *v = cJSON_GetStringValue(cJSON_GetObjectItem(d, "volume"));

        if (v && nc_is_dns_label(v))
            nc_run_enqueue(&run->o, "volume", v);
    }
    cJSON_Delete(st);
    return 0;
}

/* The spec is gone: the snapshot goes from libvirt, then the status. */
static int
reconcile_delete(struct snap_run *run)
{
    struct nc_env *env = run->o.ctx->env;
    const char *at = cJSON_GetStringValue(cJSON_GetObjectItem(run->o.old_status, "node"));
    const char *vm = cJSON_GetStringValue(cJSON_GetObjectItem(run->o.old_status, "vm"));
    struct nc_snapinfo info;
    int r;

    if (!run->o.old_status)
        return 0;
    if (at && strcmp(at, env->node) != 0)
        return 0;
    if (at && vm && nc_is_dns_label(vm)) {
        nc_domain_name(env->install_hash, run->o.ns, vm, run->domname);
        r = nc_hv_snapshot_lookup(env->hv, run->domname, run->snapname, &info);
        if (r == 0 && strcmp(info.mark, run->mark) == 0) {
            cJSON *s = status_new(run, "Deleting");

            if ((r = nc_run_report_not_ready(&run->o, s, "Deleting",
                                             "libvirt deletes the snapshot", false)) < 0)
                return r;
            if ((r = nc_hv_snapshot_delete(env->hv, run->domname, run->snapname)) < 0 &&
                r != -ENOENT)
                return libvirt_failed(run, r, nc_drv_errmsg());
            nc_info(run->o.key, "snapshot %s of domain %s deleted", run->snapname,
                    run->domname);
        } else if (r < 0 && r != -ENOENT) {
            return libvirt_failed(run, r, nc_drv_errmsg());
        }
    }
    return delete_status(run);
}

/* The owner mark a snapshot carries in its description. */
static void
make_mark(const struct nc_env *env, const char *ns, const char *name, char *buf, size_t size)
{
    snprintf(buf, size, "novacron owner: %s/snapshot/%s, cluster %s, prefix %s", ns, name,
             env->cluster, env->prefix);
}

/* Which taken Snapshots of a namespace hold a VM or a Volume. */
struct holders {
    struct nc_env *env;
    char prefix[256];
    const char *ns, *vm, *volume; /* one of vm, volume */
    char *names;
    size_t size;
    int n;
};

static void
on_snapshot_key(void *data, const char *key)
{
    struct holders *h = data;
    const char *name = key + strlen(h->prefix);
    struct nc_snapshot_spec spec;
    struct nc_verr *errs;
    char *value = NULL, *text = NULL;
    cJSON *st = NULL;
    int64_t rev;
    bool holds = false;

    if (!(errs = nc_verr_new()))
        return;
    if (nc_informer_get(h->env->specs, key, &value, &rev) == 0 &&
        nc_snapshot_spec_parse(value, h->ns, name, &spec, errs) == 0 &&
        (!h->vm || strcmp(spec.vm, h->vm) == 0) &&
        nc_informer_getf(h->env->statuses, &text, NULL, "%sstatus/%s/snapshot/%s",
                         h->env->prefix, h->ns, name) == 0 &&
        (st = cJSON_Parse(text))) {
        /* Taken, or being taken: its status names the node it lives on
         * (one that Failed before, or waits, holds nothing). */
        holds = cJSON_GetStringValue(cJSON_GetObjectItem(st, "node")) != NULL &&
                (!h->volume || nc_lists(cJSON_GetObjectItem(st, "disks"), "volume", h->volume));
    }
    if (holds) {
        size_t used = strlen(h->names);

        snprintf(h->names + used, h->size - used, "%s%s", h->n ? ", " : "", name);
        h->n++;
    }
    cJSON_Delete(st);
    free(text);
    free(value);
    nc_verr_free(errs);
}

static int
holders(struct nc_env *env, const char *ns, const char *vm, const char *volume, char *names,
        size_t size)
{
    struct holders h = {.env = env, .ns = ns, .vm = vm, .volume = volume, .names = names,
                        .size = size};

    names[0] = '\0';
    snprintf(h.prefix, sizeof(h.prefix), "%sspec/%s/snapshot/", env->prefix, ns);
    nc_informer_foreach_prefix(env->specs, h.prefix, on_snapshot_key, &h);
    return h.n;
}

int
nc_snapshots_of_vm(struct nc_env *env, const char *ns, const char *vm, char *names, size_t size)
{
    return holders(env, ns, vm, NULL, names, size);
}

int
nc_snapshots_of_volume(struct nc_env *env, const char *ns, const char *volume, char *names,
                       size_t size)
{
    return holders(env, ns, NULL, volume, names, size);
}

struct drop {
    struct nc_env *env;
    const char *ns, *domname;
    int r;
};

static void
drop_one(const char *snap, void *data)
{
    struct drop *d = data;
    char ns[NC_NAME_MAX + 1], name[NC_NAME_MAX + 1], mark[512];
    struct nc_snapinfo info;
    int r;

    if (!nc_domain_name_parse(d->env->install_hash, snap, ns, name) || strcmp(ns, d->ns) != 0)
        return;
    make_mark(d->env, ns, name, mark, sizeof(mark));
    if (nc_hv_snapshot_lookup(d->env->hv, d->domname, snap, &info) < 0 ||
        strcmp(info.mark, mark) != 0)
        return;
    if ((r = nc_hv_snapshot_delete(d->env->hv, d->domname, snap)) < 0 && r != -ENOENT)
        d->r = r;
}

int
nc_snapshots_drop(struct nc_env *env, const char *ns, const char *domname)
{
    struct drop d = {.env = env, .ns = ns, .domname = domname};
    int r = nc_hv_snapshot_list(env->hv, domname, drop_one, &d);

    if (r == -ENOTSUP || r == -ENOENT)
        return 0;
    return r < 0 ? r : d.r;
}

static int
reconcile(struct nc_ctx *ctx, const char *ns, const char *name, int64_t *ret_requeue_ms)
{
    struct nc_env *env = ctx->env;
    struct snap_run run = {0};
    char *value = NULL;
    int r;

    *ret_requeue_ms = 0;
    if ((r = nc_run_begin(&run.o, ctx, ns, "snapshot", name)) < 0)
        goto out;
    nc_domain_name(env->install_hash, ns, name, run.snapname);
    make_mark(env, ns, name, run.mark, sizeof(run.mark));
    r = nc_run_spec(&run.o, &value);
    if (r == 0)
        r = reconcile_spec(&run, value, ret_requeue_ms);
    else if (r == -ENOENT)
        r = reconcile_delete(&run);
out:
    free(value);
    nc_run_end(&run.o);
    return r;
}

const struct nc_reconciler nc_snapshot_reconciler = {
    .kind = "snapshot",
    .reconcile = reconcile,
};
