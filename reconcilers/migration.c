/*
 * The Migration reconciler: the two nodes' part of a move (the scheduler's
 * leader chose them, controller/leader.c). Who does what, by phase:
 *
 *   Scheduling  the target realises the VM's Networks, makes copies of
 *               its node-local Volumes and says so (condition
 *               TargetReady); the source, once it is, writes Running and
 *               starts the move.
 *   Running     live: the source drives libvirt's peer-to-peer job,
 *               writes its progress at most once a second, aborts it when
 *               the spec is deleted (Cancelled) or its time is up
 *               (Failed), and writes Failed when it failed: the guest runs
 *               on. The target sees the guest run there and writes
 *               Succeeded with the VM's new placement, in one transaction.
 *               Cold: the source stops the guest, sends each disk through
 *               libvirt's storage streams and writes Succeeded with the
 *               placement; the target's VM reconciler then starts it.
 *
 * Every write compares the status it read, so the two nodes and the
 * leader take turns and never undo each other. A live job runs in the
 * libvirtds: a novacrond killed in the middle leaves it running, and when
 * it comes back it reads the outcome from libvirt. A cold move runs here:
 * killed in the middle, it starts over when novacrond comes back.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/names.h"
#include "drivers/storage.h"
#include "reconcilers/cloudinit.h"
#include "reconcilers/ifaces.h"
#include "reconcilers/migration.h"
#include "reconcilers/moves.h"
#include "reconcilers/run.h"
#include "reconcilers/volume.h"
#include "reconcilers/status.h"
#include "reconcilers/stop.h"
#include "schema/migration.h"
#include "schema/vm.h"

#define POLL_MS 1000         /* how often an end is looked for */
#define PROGRESS_MS 1000     /* the least time between two progress writes */
#define TICK_MS 200          /* how often a running job is looked at */
#define MAX_MOVED_VOLUMES NC_VM_MAX_DISKS

struct mig_run {
    struct nc_run o;
    struct nc_migration_spec spec;
    bool have_spec;
    struct nc_move mv;
    char domname[NC_DOMAIN_NAME_MAX];
    int64_t started_ms, last_progress_ms, stopped_ms;
    int ticks_failed;
};

static void
set_string(cJSON *s, const char *member, const char *value)
{
    cJSON_DeleteItemFromObject(s, member);
    cJSON_AddStringToObject(s, member, value);
}

static void
set_number(cJSON *s, const char *member, double value)
{
    cJSON_DeleteItemFromObject(s, member);
    cJSON_AddNumberToObject(s, member, value);
}

/* The status so far with @phase, and Ready=@ok for @reason, @message. */
static cJSON *
next_status(struct mig_run *run, const char *phase, bool ok, const char *reason,
            const char *message)
{
    cJSON *s = cJSON_Duplicate(run->o.old_status, true);
    cJSON *conds = cJSON_CreateArray(), *c;

    if (!s || !conds) {
        cJSON_Delete(s);
        cJSON_Delete(conds);
        return NULL;
    }
    cJSON_ReplaceItemInObject(s, "phase", cJSON_CreateString(phase));
    /* The generation this node acted on: a spec written meanwhile is not
     * a new request once this one ended. */
    if (run->o.generation)
        set_number(s, "observedGeneration", (double)run->o.generation);
    /* Every condition but Ready as it was. */
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(s, "conditions")) {
        const char *type = cJSON_GetStringValue(cJSON_GetObjectItem(c, "type"));

        if (type && strcmp(type, "Ready") != 0)
            cJSON_AddItemToArray(conds, cJSON_Duplicate(c, true));
    }
    cJSON_ReplaceItemInObject(s, "conditions", conds);
    nc_status_condition(s, run->o.old_status, "Ready", ok, reason, message,
                        nc_json_i64(cJSON_GetObjectItem(s, "observedGeneration")), run->o.now);
    return s;
}

static void
set_progress(cJSON *s, const struct nc_job *job)
{
    cJSON *p = cJSON_CreateObject();

    cJSON_AddNumberToObject(p, "dataProcessed", (double)job->data_processed);
    cJSON_AddNumberToObject(p, "dataRemaining", (double)job->data_remaining);
    cJSON_AddNumberToObject(p, "dataTotal", (double)job->data_total);
    cJSON_AddNumberToObject(p, "memoryIterations", (double)job->memory_iterations);
    cJSON_DeleteItemFromObject(s, "progress");
    cJSON_AddItemToObject(s, "progress", p);
}

static bool
ended(const cJSON *status)
{
    const char *phase = cJSON_GetStringValue(cJSON_GetObjectItem(status, "phase"));

    return phase && (strcmp(phase, "Succeeded") == 0 || strcmp(phase, "Failed") == 0 ||
                     strcmp(phase, "Cancelled") == 0);
}

/* Once it is over, the copies of the VM's Volumes that the move made or
 * left look again (reconcilers/volume.c deletes those not in use). */
static void
enqueue_volumes(struct mig_run *run)
{
    const cJSON *v;

    cJSON_ArrayForEach(v, cJSON_GetObjectItem(run->o.old_status, "targetVolumes")) {
        const char *vol = cJSON_GetStringValue(cJSON_GetObjectItem(v, "volume"));

        if (vol && nc_is_dns_label(vol))
            nc_run_enqueue(&run->o, "volume", vol);
    }
}

/* Writes @s (freed) over the status read; 0, -ESTALE when another wrote
 * first (the change brings the Migration back), or a negative errno. The
 * VM and its Networks look again: where the VM is follows the phase. */
static int
write_status(struct mig_run *run, cJSON *s)
{
    int r;

    if (!s)
        return -ENOMEM;
    r = nc_run_report(&run->o, s);
    cJSON_Delete(s);
    if (r == 0) {
        char *text = cJSON_PrintUnformatted(run->o.old_status);

        nc_moves_note(run->o.ctx->env->moves, run->o.ns, run->o.name, text,
                      run->o.status_revision);
        free(text);
        nc_run_enqueue(&run->o, "vm", run->mv.vm);
        if (ended(run->o.old_status))
            enqueue_volumes(run);
    }
    return r;
}

/* Ends the migration as @phase (Failed or Cancelled) for @reason. */
static int
end(struct mig_run *run, const char *phase, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
end(struct mig_run *run, const char *phase, const char *reason, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    cJSON *s;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    nc_run_event(&run->o, "Warning", reason, "%s", msg);
    s = next_status(run, phase, false, reason, msg);
    if (s)
        set_string(s, "endTime", run->o.now);
    return write_status(run, s);
}

/* A libvirt call that looks at the move failed with @r, for a look again
 * with backoff: the move itself runs on in the libvirtds. */
#define look_failed(run, r)                                                                      \
    nc_run_warn(&(run)->o, (r), "LibvirtError", "libvirt: %s; looking again", nc_drv_errmsg())

/*
 * The cloud-init seed of VM @vm made here, as its node makes it (the same
 * files, so the same name): the guest's CD-ROM, which a live move does not
 * copy, is this file on this node. Added to @list as {"seed": path}. 0, 1
 * with @why when it cannot be made, or a negative errno.
 */
static int
target_seed(struct mig_run *run, const struct nc_vm_spec *vm, cJSON *list, char *why,
            size_t whysz)
{
    struct nc_env *env = run->o.ctx->env;
    struct nc_iface ifs[NC_VM_MAX_IFACES] = {0};
    char path[1024], id[NC_INSTANCE_ID_MAX];
    struct nc_run vr;
    cJSON *e;
    int r;

    /* The VM's own run: its spec key and name make the instance-id, its
     * status holds its addresses. */
    if ((r = nc_run_begin(&vr, run->o.ctx, run->o.ns, "vm", run->mv.vm)) < 0) {
        nc_run_end(&vr);
        return r;
    }
    nc_ifaces_begin(&vr, vm, vr.old_status, ifs);
    for (unsigned i = 0; i < vm->n_ifaces && r == 0; i++) {
        if (!ifs[i].ip[0] ||
            !nc_iface_from_network(&ifs[i], env, run->o.ns, vm->ifaces[i].network)) {
            snprintf(why, whysz, "VM %s: spec.interfaces[%u] has no address yet", run->mv.vm, i);
            r = 1;
        }
    }
    if (r == 0 && nc_cloudinit_seed(&vr, vm, ifs, run->domname, path, sizeof(path), id) < 0) {
        snprintf(why, whysz, "VM %s: spec.cloudInit: cannot make the seed here: %s", run->mv.vm,
                 nc_drv_errmsg());
        r = 1;
    }
    nc_run_end(&vr);
    if (r != 0)
        return r;
    if (!(e = cJSON_CreateObject()) || !cJSON_AddStringToObject(e, "seed", path)) {
        cJSON_Delete(e);
        return -ENOMEM;
    }
    cJSON_AddItemToArray(list, e);
    return 0;
}

/*
 * The target's copies of the VM's Volumes on node-local pools: each made
 * here empty, with the same name, pool, format and size, for libvirt to
 * copy the disk into while the guest runs, and its cloud-init seed. Returns
 * them as [{"volume","from","path"}, {"seed"}] (NULL on out of memory); 1 in
 * *@ret_err with the reason in @why when one cannot be made, or a negative
 * errno.
 */
static cJSON *
target_volumes(struct mig_run *run, char *why, size_t whysz, int *ret_err)
{
    struct nc_env *env = run->o.ctx->env;
    struct nc_verr *errs = nc_verr_new();
    struct nc_vm_spec vm;
    cJSON *list = cJSON_CreateArray();
    char *value = NULL;
    int r = 0;

    *ret_err = 0;
    if (!errs || !list ||
        nc_informer_getf(env->specs, &value, NULL, "%sspec/%s/vm/%s", env->prefix, run->o.ns,
                         run->mv.vm) < 0 ||
        nc_vm_spec_parse(value, run->o.ns, run->mv.vm, &vm, errs) < 0) {
        free(value);
        nc_verr_free(errs);
        snprintf(why, whysz, "the spec of VM %s is gone or invalid", run->mv.vm);
        *ret_err = 1;
        return list;
    }
    free(value);
    nc_verr_free(errs);
    /* The leader refused other runtimes at admission; the spec may have
     * changed since. */
    if (vm.runtime != NC_RUNTIME_VM) {
        snprintf(why, whysz, "VM %s runs on the %s runtime, which cannot migrate", run->mv.vm,
                 nc_runtime_names[vm.runtime]);
        r = 1;
    } else if (vm.cloud_init) {
        r = target_seed(run, &vm, list, why, whysz);
    }
    for (unsigned i = 0; i < vm.n_disks && r == 0; i++) {
        const char *pool, *volname, *from, *format;
        struct nc_volinfo info;
        cJSON *st = NULL, *e;
        double capacity;

        value = NULL;
        if (nc_informer_getf(env->statuses, &value, NULL, "%sstatus/%s/volume/%s", env->prefix,
                             run->o.ns, vm.disks[i].volume) == 0)
            st = cJSON_Parse(value);
        free(value);
        pool = cJSON_GetStringValue(cJSON_GetObjectItem(st, "pool"));
        volname = cJSON_GetStringValue(cJSON_GetObjectItem(st, "volume"));
        from = cJSON_GetStringValue(cJSON_GetObjectItem(st, "path"));
        format = cJSON_GetStringValue(cJSON_GetObjectItem(st, "format"));
        capacity = cJSON_GetNumberValue(cJSON_GetObjectItem(st, "capacity"));
        if (!pool || !volname || !from || !format || !(capacity > 0)) {
            snprintf(why, whysz, "Volume %s (spec.disks[%u] of VM %s) has no volume yet",
                     vm.disks[i].volume, i, run->mv.vm);
            r = 1;
        } else if (!nc_pool_shared_here(env, pool)) {
            r = nc_st_lookup(env->st, pool, volname, &info);
            if (r == -ENOENT &&
                (r = nc_st_create(env->st, pool, volname, format, (uint64_t)capacity, NULL,
                                  NULL)) == 0) {
                nc_run_event(&run->o, "Normal", "VolumeCopy",
                             "volume %s made in pool %s to take the disk of Volume %s", volname,
                             pool, vm.disks[i].volume);
                r = nc_st_lookup(env->st, pool, volname, &info);
            }
            if (r == 0 && (e = cJSON_CreateObject())) {
                cJSON_AddStringToObject(e, "volume", vm.disks[i].volume);
                cJSON_AddStringToObject(e, "from", from);
                cJSON_AddStringToObject(e, "path", info.path);
                cJSON_AddItemToArray(list, e);
            } else if (r < 0) {
                snprintf(why, whysz, "making a copy of Volume %s here: %s",
                         vm.disks[i].volume, nc_drv_errmsg());
                r = 1;
            }
        }
        cJSON_Delete(st);
    }
    nc_vm_spec_clear(&vm);
    *ret_err = r;
    return list;
}

/* The target: the VM's Networks realised here and its node-local
 * Volumes made here, then TargetReady. */
static int
prepare_target(struct mig_run *run, int64_t *ret_requeue_ms)
{
    char why[512];
    cJSON *s, *vols;
    int err;

    if (nc_status_condition_true(run->o.old_status, "TargetReady"))
        return 0;
    vols = target_volumes(run, why, sizeof(why), &err);
    if (!vols)
        return -ENOMEM;
    if (err) {
        cJSON_Delete(vols);
        return end(run, "Failed", "TargetNotReady", "%s; VM %s runs on node %s", why,
                   run->mv.vm, run->mv.source);
    }
    /* The Network reconciler realises a moving VM's Networks on its
     * target (reconcilers/network.c); the VM's node-side checks of them
     * run when it starts here. */
    nc_info(run->o.key, "node %s is ready to take VM %s", run->mv.target, run->mv.vm);
    if (!(s = next_status(run, "Scheduling", false, "Scheduling",
                          "the target node is ready; waiting for the source node to start")))
        return -ENOMEM;
    nc_status_condition(s, run->o.old_status, "TargetReady", true, "TargetReady",
                        run->mv.target, run->o.generation, run->o.now);
    cJSON_DeleteItemFromObject(s, "targetVolumes");
    if (cJSON_GetArraySize(vols) > 0)
        cJSON_AddItemToObject(s, "targetVolumes", vols);
    else
        cJSON_Delete(vols);
    *ret_requeue_ms = POLL_MS;
    return write_status(run, s);
}

struct tick {
    struct mig_run *run;
    struct nc_job last; /* as last told, written or not */
    bool cancelled, timed_out;
};

/* Called by the driver while the job runs: writes the progress at most
 * once a second; false to abort. */
static bool
on_tick(void *data, const struct nc_job *job)
{
    struct tick *t = data;
    struct mig_run *run = t->run;
    struct nc_env *env = run->o.ctx->env;
    int64_t now = nc_now_ms(), rev;
    char *value = NULL;
    cJSON *s;

    t->last = *job;
    if (nc_informer_get(env->specs, run->o.spec_key, &value, &rev) == -ENOENT)
        t->cancelled = true;
    free(value);
    if (run->spec.timeout_s && now - run->started_ms > (int64_t)run->spec.timeout_s * 1000)
        t->timed_out = true;
    if (t->cancelled || t->timed_out)
        return false;
    if (now - run->last_progress_ms < PROGRESS_MS)
        return true;
    run->last_progress_ms = now;
    nc_rfc3339_now(run->o.now);
    if ((s = cJSON_Duplicate(run->o.old_status, true))) {
        set_progress(s, job);
        if (nc_run_report(&run->o, s) < 0)
            nc_debug(run->o.key, "progress not written");
        cJSON_Delete(s);
    }
    return true;
}

/*
 * Ends the migration as Succeeded (@s, freed), with the VM's placement on
 * the target and each copied Volume's status naming the target and its
 * path there, all in one transaction: from then on the target runs the VM
 * and owns its Volumes.
 */
static int
succeed(struct mig_run *run, cJSON *s)
{
    struct nc_env *env = run->o.ctx->env;
    struct nc_op ops[1 + MAX_MOVED_VOLUMES];
    char *keys[1 + MAX_MOVED_VOLUMES] = {0}, *texts[1 + MAX_MOVED_VOLUMES] = {0};
    size_t n_ops = 0;
    cJSON *v;
    int r;

    if (!s)
        return -ENOMEM;
    set_string(s, "endTime", run->o.now);
    if (asprintf(&keys[0], "%splacement/%s/%s", env->prefix, run->o.ns, run->mv.vm) < 0) {
        cJSON_Delete(s);
        return -ENOMEM;
    }
    ops[n_ops++] = (struct nc_op){.key = keys[0], .value = run->mv.target};
    cJSON_ArrayForEach(v, cJSON_GetObjectItem(run->o.old_status, "targetVolumes")) {
        const char *vol = cJSON_GetStringValue(cJSON_GetObjectItem(v, "volume"));
        const char *path = cJSON_GetStringValue(cJSON_GetObjectItem(v, "path"));
        cJSON *vs;

        if (!path || n_ops == MAX_MOVED_VOLUMES + 1 ||
            !(vs = nc_run_status_of(&run->o, "volume", vol)))
            continue;
        set_string(vs, "node", run->mv.target);
        set_string(vs, "path", path);
        if (asprintf(&keys[n_ops], "%sstatus/%s/volume/%s", env->prefix, run->o.ns, vol) >= 0 &&
            (texts[n_ops] = cJSON_PrintUnformatted(vs))) {
            ops[n_ops] = (struct nc_op){.key = keys[n_ops], .value = texts[n_ops]};
            n_ops++;
        }
        cJSON_Delete(vs);
    }
    run->o.extra = ops;
    run->o.n_extra = n_ops;
    r = write_status(run, s);
    run->o.extra = NULL;
    run->o.n_extra = 0;
    /* The Volumes' statuses are this node's to know at once; the
     * placement comes back through the watch, which tells the scheduler
     * here too (the VM reconciler learns it from the index of moves). */
    for (size_t i = 1; r == 0 && i < n_ops; i++)
        nc_informer_store(env->statuses, keys[i], texts[i], run->o.status_revision);
    for (size_t i = 0; i < n_ops; i++) {
        free(keys[i]);
        free(texts[i]);
    }
    return r;
}

static bool
cold(const struct mig_run *run)
{
    const char *mode = cJSON_GetStringValue(cJSON_GetObjectItem(run->o.old_status, "mode"));

    return mode && strcmp(mode, "cold") == 0;
}

/* Progress of a cold move's copy, and its cancel and timeout. */
struct cold_tick {
    struct tick *t;
    uint64_t done, total; /* of the volumes before this one; of all */
};

static bool
on_sent(void *data, uint64_t sent, uint64_t total)
{
    struct cold_tick *c = data;
    struct nc_job job = {.active = true, .data_processed = c->done + sent,
                         .data_total = c->total ? c->total : total};

    job.data_remaining =
        job.data_total > job.data_processed ? job.data_total - job.data_processed : 0;
    return on_tick(c->t, &job);
}

static bool
still_wanted(void *data)
{
    return on_sent(data, 0, 0);
}

/*
 * A cold move: the guest stopped gracefully (forced after the VM's
 * stopGracePeriodSeconds), then each node-local Volume sent to the copy
 * the target made, through libvirt's storage streams. 0 when the target
 * may start it, or a negative errno (-ECANCELED: spec deleted or time up);
 * when it fails, the VM's reconciler here starts the guest again.
 */
static int
move_cold(struct mig_run *run, const char *peer, struct tick *t)
{
    struct nc_env *env = run->o.ctx->env;
    struct cold_tick ct = {.t = t};
    int grace = nc_stop_grace(env, run->o.ns, run->mv.vm), r;
    int64_t sent_ms;
    cJSON *vols, *v;

    /* Stopped first: nothing writes to its disks while they are sent. */
    run->stopped_ms = nc_now_ms(); /* the guest's service ends here */
    if ((r = nc_stop_guest(&run->o, run->domname, run->mv.vm, grace, still_wanted, &ct)) < 0)
        return r;
    /* A copy: each progress write replaces the status read. */
    vols = cJSON_Duplicate(cJSON_GetObjectItem(run->o.old_status, "targetVolumes"), true);
    cJSON_ArrayForEach(v, vols) {
        const char *vol = cJSON_GetStringValue(cJSON_GetObjectItem(v, "volume"));
        cJSON *vs = vol ? nc_run_status_of(&run->o, "volume", vol) : NULL;

        ct.total += (uint64_t)nc_json_i64(cJSON_GetObjectItem(vs, "allocation"));
        cJSON_Delete(vs);
    }
    r = 0;
    cJSON_ArrayForEach(v, vols) {
        const char *vol = cJSON_GetStringValue(cJSON_GetObjectItem(v, "volume"));
        const char *pool, *volname;
        cJSON *vs;

        if (!vol)
            continue; /* the seed: the target's VM reconciler makes its own */
        vs = nc_run_status_of(&run->o, "volume", vol);
        pool = cJSON_GetStringValue(cJSON_GetObjectItem(vs, "pool"));
        volname = cJSON_GetStringValue(cJSON_GetObjectItem(vs, "volume"));
        sent_ms = nc_now_ms();
        r = pool && volname ? nc_st_send(env->st, pool, volname, peer, env->netns, pool, volname,
                                         on_sent, &ct)
                            : nc_drv_fail(-ENOENT, "Volume %s has no volume here", vol);
        if (r == 0)
            nc_info(run->o.key, "Volume %s sent to node %s in %" PRId64 " ms", vol,
                    run->mv.target, nc_now_ms() - sent_ms);
        ct.done = t->last.data_processed; /* its last tick: all it sent */
        cJSON_Delete(vs);
        if (r < 0)
            break;
    }
    cJSON_Delete(vols);
    return r;
}

/* The libvirt URI of the target node for peers, into @buf; "" if none. */
static void
peer_uri(const struct mig_run *run, char *buf, size_t size)
{
    cJSON *node = nc_run_node(run->o.ctx->env, run->mv.target);
    const char *uri = cJSON_GetStringValue(cJSON_GetObjectItem(node, "peerLibvirt"));

    snprintf(buf, size, "%s", uri ? uri : "");
    cJSON_Delete(node);
}

/*
 * The target's seed, which the target made (target_seed()), and into
 * @from this node's of the same name: the guest's CD-ROM here. NULL when
 * the VM has none, or the name is not a seed's (16 hex digits, ".iso").
 */
static const char *
seed_of(struct mig_run *run, char *from, size_t fromsz)
{
    const cJSON *v;

    cJSON_ArrayForEach(v, cJSON_GetObjectItem(run->o.old_status, "targetVolumes")) {
        const char *to = cJSON_GetStringValue(cJSON_GetObjectItem(v, "seed"));
        const char *name = to ? strrchr(to, '/') : NULL;

        if (!name || strlen(name + 1) != 20 || strspn(name + 1, "0123456789abcdef") != 16 ||
            strcmp(name + 17, ".iso") != 0)
            continue;
        snprintf(from, fromsz, "%s/%s%s", run->o.ctx->env->seed_dir, run->domname, name);
        return to;
    }
    return NULL;
}

/* The source, Running: drives the move to @peer and writes how it ended
 * (a live move's success is the target's to write). */
static int
drive(struct mig_run *run, const char *peer, int64_t *ret_requeue_ms)
{
    struct nc_env *env = run->o.ctx->env;
    struct nc_migrate_params p = {.dest_uri = peer,
                                  .max_downtime_ms = run->spec.max_downtime_ms,
                                  .bandwidth_mibps = run->spec.bandwidth_mibps};
    struct tick t = {.run = run};
    const char *after = cold(run) ? "is started again" : "runs", *seed_to;
    char msg[512], seed[1024];
    cJSON *s, *v;
    int r;

    run->started_ms = nc_now_ms();
    if (cold(run)) {
        r = move_cold(run, peer, &t);
    } else {
        cJSON_ArrayForEach(v, cJSON_GetObjectItem(run->o.old_status, "targetVolumes")) {
            const char *from = cJSON_GetStringValue(cJSON_GetObjectItem(v, "from"));
            const char *to = cJSON_GetStringValue(cJSON_GetObjectItem(v, "path"));

            if (from && to && p.n_disks < NC_MIGRATE_MAX_DISKS) {
                p.disk_from[p.n_disks] = from;
                p.disk_to[p.n_disks++] = to;
            }
        }
        /* Only the disks copy: the seed is read-only, made on both. */
        p.copy_storage = p.n_disks > 0;
        if ((seed_to = seed_of(run, seed, sizeof(seed))) && p.n_disks < NC_MIGRATE_MAX_DISKS) {
            p.disk_from[p.n_disks] = seed;
            p.disk_to[p.n_disks++] = seed_to;
        }
        r = nc_hv_migrate(env->hv, run->domname, &p, TICK_MS, on_tick, &t);
    }
    nc_rfc3339_now(run->o.now);
    if (r == 0 && cold(run)) {
        snprintf(msg, sizeof(msg), "VM %s moved to node %s, which starts it", run->mv.vm,
                 run->mv.target);
        if (!(s = next_status(run, "Succeeded", true, "Succeeded", msg)))
            return -ENOMEM;
        set_number(s, "downtimeMs", (double)(nc_now_ms() - run->stopped_ms));
        if (t.last.active) {
            /* The copy's end, which no tick wrote: all of it sent. */
            t.last.data_total = t.last.data_processed;
            t.last.data_remaining = 0;
            set_progress(s, &t.last);
        }
        nc_run_event(&run->o, "Normal", "Succeeded", "%s", msg);
        return succeed(run, s);
    }
    if (r == 0) {
        /* The guest runs on the target, which says so with libvirt's
         * figures, told by this write rather than at its next look. */
        nc_info(run->o.key, "VM %s moved to node %s", run->mv.vm, run->mv.target);
        if ((s = cJSON_Duplicate(run->o.old_status, true))) {
            nc_status_condition(s, run->o.old_status, "Transferred", true, "Transferred",
                                "libvirt moved the guest", run->o.generation, run->o.now);
            if (nc_run_report(&run->o, s) < 0)
                nc_debug(run->o.key, "Transferred not written");
            cJSON_Delete(s);
        }
        *ret_requeue_ms = POLL_MS;
        return 0;
    }
    snprintf(msg, sizeof(msg), "%s", nc_drv_errmsg());
    if (t.cancelled) {
        run->o.generation = 0; /* the spec is gone now */
        return end(run, "Cancelled", "Cancelled",
                   "the spec was deleted: migration aborted; VM %s %s on node %s", run->mv.vm,
                   after, run->mv.source);
    }
    if (t.timed_out)
        return end(run, "Failed", "Timeout",
                   "not done within spec.timeoutSeconds (%u): aborted; VM %s %s on node %s",
                   run->spec.timeout_s, run->mv.vm, after, run->mv.source);
    return end(run, "Failed", "MigrationFailed", "%s; VM %s %s on node %s", msg, run->mv.vm,
               after, run->mv.source);
}

/* The source, Scheduling: starts the move once the target is ready. */
static int
run_source(struct mig_run *run, int64_t *ret_requeue_ms)
{
    char peer[512];
    cJSON *s;
    int r;

    if (!nc_status_condition_true(run->o.old_status, "TargetReady")) {
        *ret_requeue_ms = POLL_MS;
        return 0;
    }
    peer_uri(run, peer, sizeof(peer));
    if (!peer[0])
        return end(run, "Failed", "TargetUnreachable",
                   "node %s has no libvirt address for peers (its --peer-libvirt, or an "
                   "--underlay with an address)",
                   run->mv.target);
    if (!(s = next_status(run, "Running", false, "Running",
                          cold(run) ? "the guest stops and its disks are sent"
                                    : "the hypervisor moves the guest")))
        return -ENOMEM;
    set_string(s, "startTime", run->o.now);
    if ((r = write_status(run, s)) < 0)
        return r == -ESTALE ? 0 : r;
    nc_run_event(&run->o, "Normal", "Started", "%s migration of VM %s to node %s started",
                 cold(run) ? "cold" : "live", run->mv.vm, run->mv.target);
    return drive(run, peer, ret_requeue_ms);
}

/*
 * The source, Running, after novacrond here restarted in a cold move:
 * nothing of it ran in libvirt meanwhile, so it starts over (the guest is
 * stopped already or again, each disk sent whole), or, when the spec went
 * meanwhile, ends as Cancelled and the guest starts here again.
 */
static int
resume_cold(struct mig_run *run, int64_t *ret_requeue_ms)
{
    char peer[512];

    if (!run->o.generation)
        return end(run, "Cancelled", "Cancelled",
                   "the spec was deleted while novacrond on node %s was down; VM %s is "
                   "started again on node %s",
                   run->mv.source, run->mv.vm, run->mv.source);
    peer_uri(run, peer, sizeof(peer));
    nc_info(run->o.key, "the cold move of VM %s to node %s starts over", run->mv.vm,
            run->mv.target);
    return drive(run, peer, ret_requeue_ms);
}

/* The source, while Running and not driving the job itself (it came back
 * after a restart): what libvirt says of the guest here. */
static int
watch_source(struct mig_run *run, int64_t *ret_requeue_ms)
{
    struct nc_env *env = run->o.ctx->env;
    struct nc_dominfo info;
    struct nc_job job;
    int r = nc_hv_lookup(env->hv, run->domname, &info);

    *ret_requeue_ms = POLL_MS;
    if (r == -ENOENT)
        return 0; /* gone from here: the target says how it ended */
    if (r < 0 || (r = nc_hv_job(env->hv, run->domname, false, &job)) < 0)
        return look_failed(run, r);
    /* libvirt still moves it, or moved it and has yet to let the paused
     * copy here go. */
    if (job.active || info.state != NC_DOM_RUNNING)
        return 0;
    return end(run, "Failed", "Interrupted",
               "the migration ended while novacrond on node %s was down and the guest is "
               "still here; VM %s runs on node %s",
               run->mv.source, run->mv.vm, run->mv.source);
}

/*
 * When this process first saw each incoming guest run before libvirt had
 * recorded its job's figures, by migration key: a guest looked at between
 * two steps of libvirt's end gets a moment for them (FIGURES_WAIT_MS).
 */
#define FIGURES_WAIT_MS 2000
static struct {
    char key[160];
    int64_t since_ms;
} arrivals[32];
static pthread_mutex_t arrivals_lock = PTHREAD_MUTEX_INITIALIZER;

/* How long ago the guest of migration @key was first seen without
 * figures (now when it was not; long ago when nothing more fits). */
static int64_t
waited_ms(const char *key)
{
    int64_t now = nc_now_ms(), since = 0;
    size_t i, free_slot = sizeof(arrivals) / sizeof(arrivals[0]);

    pthread_mutex_lock(&arrivals_lock);
    for (i = 0; i < sizeof(arrivals) / sizeof(arrivals[0]); i++) {
        if (strcmp(arrivals[i].key, key) == 0)
            break;
        if (!arrivals[i].key[0] && free_slot == sizeof(arrivals) / sizeof(arrivals[0]))
            free_slot = i;
    }
    if (i < sizeof(arrivals) / sizeof(arrivals[0])) {
        since = arrivals[i].since_ms;
    } else if (free_slot < sizeof(arrivals) / sizeof(arrivals[0])) {
        snprintf(arrivals[free_slot].key, sizeof(arrivals[free_slot].key), "%s", key);
        since = arrivals[free_slot].since_ms = now;
    }
    pthread_mutex_unlock(&arrivals_lock);
    return now - since;
}

static void
arrived(const char *key)
{
    pthread_mutex_lock(&arrivals_lock);
    for (size_t i = 0; i < sizeof(arrivals) / sizeof(arrivals[0]); i++)
        if (strcmp(arrivals[i].key, key) == 0)
            arrivals[i].key[0] = '\0';
    pthread_mutex_unlock(&arrivals_lock);
}

/* The target, while a live migration runs: once the guest runs here,
 * Succeeded, with the figures of libvirt's completed job. It looks every
 * TICK_MS: a lookup is cheap, and the guest's end of the move is the
 * moment its users wait for. */
static int
finish_target(struct mig_run *run, int64_t *ret_requeue_ms)
{
    struct nc_env *env = run->o.ctx->env;
    struct nc_dominfo info;
    struct nc_job job = {0};
    char msg[512];
    cJSON *s;
    int r = nc_hv_lookup(env->hv, run->domname, &info), jr;

    *ret_requeue_ms = TICK_MS;
    if (r == -ENOENT || (r == 0 && info.state != NC_DOM_RUNNING))
        return 0; /* not yet (an incoming guest is paused until the end) */
    if (r < 0)
        return look_failed(run, r);
    if ((jr = nc_hv_job(env->hv, run->domname, true, &job)) < 0)
        nc_debug(run->o.key, "no figures of the completed job: %s", nc_drv_errmsg());
    if (!job.data_total && !job.downtime_ms &&
        !nc_status_condition_true(run->o.old_status, "Transferred") &&
        waited_ms(run->o.key) < FIGURES_WAIT_MS)
        return 0;
    snprintf(msg, sizeof(msg), "VM %s runs on node %s", run->mv.vm, run->mv.target);
    if (!(s = next_status(run, "Succeeded", true, "Succeeded", msg)))
        return -ENOMEM;
    /* Without libvirt's figures (its libvirtd restarted since), none
     * rather than a made-up 0. */
    if (job.data_total || job.downtime_ms) {
        set_number(s, "downtimeMs", (double)job.downtime_ms);
        set_progress(s, &job);
        nc_run_event(&run->o, "Normal", "Succeeded", "%s (downtime %llu ms)", msg,
                     (unsigned long long)job.downtime_ms);
    } else {
        nc_run_event(&run->o, "Normal", "Succeeded", "%s", msg);
        if (jr != -ENOENT) /* not a libvirtd that forgot them: say why */
            nc_run_event(&run->o, "Warning", "LibvirtError",
                         "libvirt: %s: the move's downtime and figures are not known",
                         nc_drv_errmsg());
    }
    if ((r = succeed(run, s)) == 0) {
        arrived(run->o.key);
        *ret_requeue_ms = 0;
    }
    return r;
}

/* Whether the spec is gone, as etcd says: the status watch may bring the
 * leader's Scheduling before the spec watch brings the spec itself. */
static bool
spec_gone(struct mig_run *run)
{
    struct nc_kv kv;
    int r = nc_etcd_get(run->o.ctx->etcd, run->o.spec_key, &kv, NULL);

    if (r == 0)
        nc_kv_clear(&kv);
    return r == -ENOENT;
}

static int
reconcile(struct nc_ctx *ctx, const char *ns, const char *name, int64_t *ret_requeue_ms)
{
    struct nc_env *env = ctx->env;
    struct mig_run run = {0};
    struct nc_verr *errs = NULL;
    char *value = NULL;
    const char *phase;
    int r;

    *ret_requeue_ms = 0;
    if ((r = nc_run_begin(&run.o, ctx, ns, "migration", name)) < 0)
        goto out;
    /* The leader's, before Scheduling and after the end. */
    phase = cJSON_GetStringValue(cJSON_GetObjectItem(run.o.old_status, "phase"));
    if (ended(run.o.old_status)) {
        enqueue_volumes(&run);
        goto out;
    }
    if (!phase || (strcmp(phase, "Scheduling") != 0 && strcmp(phase, "Running") != 0))
        goto out;
    {
        char *text = cJSON_PrintUnformatted(run.o.old_status);
        struct nc_move mv;

        nc_moves_note(env->moves, ns, name, text, run.o.status_read);
        free(text);
        if (!nc_moves_of_vm(env->moves, ns,
                            cJSON_GetStringValue(cJSON_GetObjectItem(run.o.old_status, "vm")),
                            &mv) ||
            strcmp(mv.migration, name) != 0)
            goto out;
        run.mv = mv;
    }
    if (strcmp(run.mv.source, env->node) != 0 && strcmp(run.mv.target, env->node) != 0)
        goto out;
    r = nc_run_spec(&run.o, &value);
    if (r < 0 && r != -ENOENT)
        goto out;
    if (r == 0 && (errs = nc_verr_new()))
        run.have_spec = nc_migration_spec_parse(value, ns, name, &run.spec, errs) == 0;
    run.o.status_revision = run.o.status_read;
    nc_domain_name(env->install_hash, ns, run.mv.vm, run.domname);
    r = 0;
    if (strcmp(phase, "Scheduling") == 0) {
        if (!run.o.generation && strcmp(run.mv.source, env->node) == 0 && spec_gone(&run))
            r = end(&run, "Cancelled", "Cancelled",
                    "the spec was deleted before the move started; VM %s runs on node %s",
                    run.mv.vm, run.mv.source);
        else if (strcmp(run.mv.target, env->node) == 0)
            r = prepare_target(&run, ret_requeue_ms);
        else if (run.o.generation)
            r = run_source(&run, ret_requeue_ms);
    } else if (strcmp(run.mv.target, env->node) == 0) {
        /* A cold move's end is the source's to say. */
        r = cold(&run) ? 0 : finish_target(&run, ret_requeue_ms);
    } else {
        r = cold(&run) ? resume_cold(&run, ret_requeue_ms) : watch_source(&run, ret_requeue_ms);
    }
    if (r == -ESTALE)
        r = 0;
out:
    nc_verr_free(errs);
    free(value);
    nc_run_end(&run.o);
    return r;
}

const struct nc_reconciler nc_migration_reconciler = {
    .kind = "migration",
    .reconcile = reconcile,
};
