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

#include "core/clock.h"
#include "core/log.h"
#include "core/node.h"
#include "core/workqueue.h"
#include "drivers/files.h"
#include "drivers/overlay.h"
#include "reconcilers/cloudinit.h"
#include "reconcilers/hostpath.h"
#include "reconcilers/hotplug.h"
#include "reconcilers/ifaces.h"
#include "reconcilers/instancetype.h"
#include "reconcilers/moves.h"
#include "reconcilers/process.h"
#include "reconcilers/run.h"
#include "reconcilers/schedule.h"
#include "reconcilers/snapshot.h"
#include "reconcilers/status.h"
#include "reconcilers/tuning.h"
#include "reconcilers/users.h"
#include "reconcilers/vm.h"
#include "reconcilers/volume.h"
#include "schema/quantity.h"

#define POLL_MS 1000
#define DEPENDENCY_POLL_MS 10000
/* A process's end comes as a libvirt lifecycle event. Should one be lost,
 * a running process is looked at again this often, as the kubelet relists
 * its containers, rather than at the next resync. */
#define PROCESS_RELIST_MS 10000
#define STATUS_CATCH_UP_MS 50 /* a look again once the statuses' watch has caught up */

/* Why a domain was stopped, so that starting it again says so. */
enum stop_cause {
    STOP_FOR_SPEC,    /* runState Stopped, or drift: nothing to say */
    STOP_FOR_UPDATE,  /* a restart that applies a new definition */
    STOP_FOR_RESTORE, /* a Restore of its disks left it off */
    STOP_FOR_RESTART, /* a restart asked for (novacron.io/restartedAt) */
};

/* A graceful stop in progress: ACPI was asked at @since_ms. */
struct stopping {
    char *key;
    int64_t since_ms;
    enum stop_cause cause;
    UT_hash_handle hh;
};

struct nc_vm_state {
    pthread_mutex_t lock;
    struct stopping *stops;
};

static int
state_init(struct nc_env *env)
{
    struct nc_vm_state *s = calloc(1, sizeof(*s));

    if (!s)
        return -ENOMEM;
    pthread_mutex_init(&s->lock, NULL);
    env->vm = s;
    return 0;
}

static struct nc_vm_state *
state_free(struct nc_vm_state *s)
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
stop_begin(struct nc_vm_state *s, const char *key, enum stop_cause cause)
{
    struct stopping *e = calloc(1, sizeof(*e));

    if (!e || !(e->key = strdup(key))) {
        free(e);
        return;
    }
    e->since_ms = nc_now_ms();
    e->cause = cause;
    pthread_mutex_lock(&s->lock);
    HASH_ADD_KEYPTR(hh, s->stops, e->key, strlen(e->key), e);
    pthread_mutex_unlock(&s->lock);
}

static enum stop_cause
stop_end(struct nc_vm_state *s, const char *key)
{
    struct stopping *e;
    enum stop_cause cause = STOP_FOR_SPEC;

    pthread_mutex_lock(&s->lock);
    HASH_FIND_STR(s->stops, key, e);
    if (e) {
        cause = e->cause;
        HASH_DEL(s->stops, e);
        free(e->key);
        free(e);
    }
    pthread_mutex_unlock(&s->lock);
    return cause;
}

void
nc_vm_stopped_by_restore(struct nc_env *env, const char *ns, const char *vm)
{
    char key[160];

    snprintf(key, sizeof(key), "%s/vm/%s", ns, vm);
    stop_end(env->vm, key);
    stop_begin(env->vm, key, STOP_FOR_RESTORE);
}

/* Everything one reconcile works with. */
struct vm_run {
    struct nc_run o;        /* keys, last status, events */
    struct nc_hv *hv;       /* the spec's runtime's; NULL when this node has none */
    char domname[NC_DOMAIN_NAME_MAX];
    const char *domtype;    /* libvirt domain type for the spec's accel */
    char console_log[512];  /* "" on the test driver */
    char seed[1024];        /* the cloud-init seed image, "" for none */
    char instance_id[NC_INSTANCE_ID_MAX]; /* the seed's, "" for none */
    struct nc_vm_spec spec;
    struct nc_disk_src disks[NC_VM_MAX_DISKS]; /* from the Volumes' statuses */
    struct nc_iface ifs[NC_VM_MAX_IFACES];     /* from the Networks' statuses */
    struct nc_nic_src nics[NC_VM_MAX_IFACES];  /* ifs[]' MAC, tap, MTU */
    bool ifs_known;       /* nc_ifaces_begin() ran: status lists ifs[] */
    bool keep_old_ifaces; /* ...and the last status' entries of interfaces gone */
    cJSON *restart;       /* the status' restart record, when this run changes it */
    bool restart_now;     /* the running instance is to be restarted (asked for) */
    bool restarting;      /* ...or was stopped for that: a start is its second half */
    bool status_behind;   /* placed here by a scheduler write the status cache lacks */
    cJSON *instancetype;  /* the status' record of what the domain is made from */
    char update_pending[384]; /* why a changed InstanceType waits, "" when none */
    struct nc_tuning tuning; /* what of spec.resources this run set live */
    unsigned pins[NC_VM_MAX_VCPUS]; /* vCPU i's host CPU, from spec.resources.pinning */
    /* A process's: its folder, its environment as NAME=value, how its
     * last run ended, and whether that ends it (restartPolicy). */
    char proc_dir[700];
    char *environ[NC_VM_MAX_ENV];
    struct nc_process_exit exit;
    bool completed;
    bool restarted_process; /* this run started it again after an exit */
    bool started;           /* this run started the domain */
};

/* The status' interfaces[]: what this run holds once it knows it, until
 * then what the last status said, so that nothing held is forgotten. */
static void
add_interfaces(struct vm_run *run, cJSON *s)
{
    const cJSON *old = cJSON_GetObjectItem(run->o.old_status, "interfaces"), *e;
    const cJSON *gone = run->keep_old_ifaces ? old : NULL;
    cJSON *list;

    if (!run->ifs_known) {
        if (old)
            cJSON_AddItemToObject(s, "interfaces", cJSON_Duplicate(old, true));
        return;
    }
    if (!run->spec.n_ifaces && !gone)
        return;
    list = nc_ifaces_status(&run->spec, run->ifs);
    cJSON_ArrayForEach(e, gone) {
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(e, "name"));
        bool in_spec = false;

        for (unsigned i = 0; name && i < run->spec.n_ifaces; i++)
            in_spec = in_spec || strcmp(run->spec.ifaces[i].name, name) == 0;
        if (!in_spec)
            cJSON_AddItemToArray(list, cJSON_Duplicate(e, true));
    }
    cJSON_AddItemToObject(s, "interfaces", list);
}

/* Member @member of a new status: what this run set (@mine), else what
 * the last status said. These record what was applied, until it changes. */
static void
carry(const struct vm_run *run, cJSON *s, const char *member, const cJSON *mine)
{
    const cJSON *v = mine ? mine : cJSON_GetObjectItem(run->o.old_status, member);

    if (v)
        cJSON_AddItemToObject(s, member, cJSON_Duplicate(v, true));
}

static cJSON *
status_new(struct vm_run *run, const char *phase)
{
    cJSON *s = nc_status_new(run->o.old_status, run->o.generation, phase, run->o.now);
    cJSON *disks = run->spec.n_disks ? cJSON_AddArrayToObject(s, "disks") : NULL;

    cJSON_AddStringToObject(s, "node", run->o.ctx->env->node);
    /* The Volumes it uses, so that a Volume's deletion waits for them even
     * while this VM is torn down and its spec is gone. */
    for (unsigned i = 0; disks && i < run->spec.n_disks; i++) {
        cJSON *d = cJSON_CreateObject();

        cJSON_AddStringToObject(d, "name", run->spec.disks[i].name);
        cJSON_AddStringToObject(d, "volume", run->spec.disks[i].volume);
        if (run->disks[i].path[0])
            cJSON_AddStringToObject(d, "path", run->disks[i].path);
        cJSON_AddItemToArray(disks, d);
    }
    add_interfaces(run, s);
    if (run->instancetype)
        cJSON_AddItemToObject(s, "instancetype", cJSON_Duplicate(run->instancetype, true));
    carry(run, s, "diskLimits", run->tuning.disk_limits);
    carry(run, s, "cpuTune", run->tuning.cputune);
    carry(run, s, "memoryBalloon", run->tuning.balloon);
    /* The last restart asked for, and the schedule's record until
     * report_domain() looks at it again. */
    carry(run, s, "restart", run->restart);
    carry(run, s, "snapshotSchedule", NULL);
    if (run->instance_id[0])
        cJSON_AddStringToObject(cJSON_AddObjectToObject(s, "cloudInit"), "instanceId",
                                run->instance_id);
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

/* Writes @s (nc_run_report()) and frees it. Where the scheduler put the
 * VM stays said, as Kubernetes keeps PodScheduled: its condition
 * Scheduled is carried over, after the node's own. */
static __attribute__((warn_unused_result)) int
report(struct vm_run *run, cJSON *s)
{
    const cJSON *sched = nc_status_find_condition(run->o.old_status, "Scheduled");
    int r;

    if (s && sched && !run->spec.node[0])
        cJSON_AddItemToArray(cJSON_GetObjectItem(s, "conditions"), cJSON_Duplicate(sched, true));
    r = nc_run_report(&run->o, s);
    cJSON_Delete(s);
    return r;
}

/* Reports a phase with Ready=False and @reason; returns report()'s result. */
static __attribute__((warn_unused_result)) int
report_not_ready(struct vm_run *run, const char *phase, const char *reason, const char *message,
                 const struct nc_dominfo *info)
{
    cJSON *s = status_new(run, phase);

    if (!s)
        return -ENOMEM;
    if (info)
        add_domain(s, run->domname, info);
    nc_status_condition(s, run->o.old_status, "Ready", false, reason, message,
                        run->o.generation, run->o.now);
    return report(run, s);
}

static bool
owned_by_us(const struct vm_run *run, const struct nc_dominfo *info)
{
    const struct nc_env *env = run->o.ctx->env;

    return info->owned && strcmp(info->owner.kind, "vm") == 0 &&
           strcmp(info->owner.ns, run->o.ns) == 0 && strcmp(info->owner.name, run->o.name) == 0 &&
           strcmp(info->owner.cluster, env->cluster) == 0 &&
           strcmp(info->owner.prefix, env->prefix) == 0;
}

/* A process's folder, with its log; its name is the domain's, so it is ours. */
static int
process_folder_remove(const struct vm_run *run)
{
    char dir[sizeof(run->proc_dir)];

    snprintf(dir, sizeof(dir), "%s/%s", run->o.ctx->env->process_dir, run->domname);
    return nc_process_remove(dir);
}

/* Destroys and undefines our domain. Returns 0 or a negative errno. */
static int
remove_domain(struct vm_run *run, const struct nc_dominfo *info)
{
    struct nc_hv *hv = run->hv;
    int r;

    if (info->state != NC_DOM_SHUTOFF && (r = nc_hv_destroy(hv, run->domname)) < 0 &&
        r != -EBUSY)
        return r;
    r = nc_hv_undefine(hv, run->domname);
    if (r < 0 && r != -ENOENT)
        return r;
    stop_end(run->o.ctx->env->vm, run->o.key);
    /* The serial log was ours too; it goes with the domain. */
    if (run->console_log[0] && unlink(run->console_log) < 0 && errno != ENOENT)
        nc_warn(run->o.key, "cannot remove %s: %s", run->console_log, strerror(errno));
    if (nc_cloudinit_prune(run->o.ctx->env, run->domname, NULL) < 0)
        nc_warn(run->o.key, "%s", nc_drv_errmsg());
    if (hv == run->o.ctx->env->process_hv && process_folder_remove(run) < 0)
        nc_warn(run->o.key, "%s", nc_drv_errmsg());
    return 0;
}

/*
 * Where the VM runs (schema/README.md §8): spec.node when set; else the
 * node the scheduler placed it on, placement/<ns>/<name>. 0 with @where
 * set; 1 when it is not placed yet (the scheduler says why in its
 * status); or a negative errno.
 */
static int
placement(struct vm_run *run, char *where, size_t wheresz)
{
    struct nc_env *env = run->o.ctx->env;
    char *key = NULL, *value = NULL, landed[254];
    int64_t rev, known;
    int r;

    if (run->spec.node[0]) {
        snprintf(where, wheresz, "%s", run->spec.node);
        return 0;
    }
    if (asprintf(&key, "%splacement/%s/%s", env->prefix, run->o.ns, run->o.name) < 0)
        return -ENOMEM;
    r = nc_informer_get(env->placements, key, &value, &rev);
    free(key);
    if (r < 0 && r != -ENOENT)
        return r;
    /* A migration that moved it, which the placements' watch has not
     * brought yet: its status came first. */
    known = r == 0 ? rev : 0;
    if (nc_moves_landed(env->moves, run->o.ns, run->o.name, landed, &known)) {
        free(value);
        value = strdup(landed);
        rev = known;
        r = value ? 0 : -ENOMEM;
    }
    if (r == 0) {
        snprintf(where, wheresz, "%s", value);
        /* The scheduler wrote the VM's status in the same transaction; a
         * status cache whose watch has not brought it yet would make this
         * node write a status of its own first. Its watch brings it in a
         * moment: look again then. (Reading it from etcd instead costs
         * etcd a copy of its whole write buffer per read, which is what
         * bounds convergence at scale.) */
        if (strcmp(value, env->node) == 0 && !run->o.old_status &&
            nc_informer_revision(env->statuses) < rev) {
            run->status_behind = true;
            r = -ENOENT;
        }
    }
    free(value);
    return r == -ENOENT ? 1 : r;
}

/* Deletes the VM's placement once its domain is gone from this node,
 * the one it names: the scheduler counts the VM there until then. */
static int
release_placement(struct vm_run *run)
{
    struct nc_env *env = run->o.ctx->env;
    char *key = NULL;
    int64_t rev;
    bool done;
    int r;

    if (asprintf(&key, "%splacement/%s/%s", env->prefix, run->o.ns, run->o.name) < 0)
        return -ENOMEM;
    r = nc_etcd_delete_if(run->o.ctx->etcd, key, env->node, &done, &rev);
    if (r == 0 && done)
        nc_informer_store(env->placements, key, NULL, rev);
    free(key);
    return r;
}

/*
 * A VM that moves is the Migration's until the move ended (reconcilers/
 * migration.c): its node neither starts nor stops it and says it moves
 * (condition Migrating); the target leaves the incoming guest alone.
 * True when @mv is such a move.
 */
static bool
moving(struct vm_run *run, struct nc_move *mv)
{
    return nc_moves_of_vm(run->o.ctx->env->moves, run->o.ns, run->o.name, mv);
}

/* A teardown that failed with @r @doing ("deleting") the domain: said in
 * the status (when it is this node's) and by a Warning event, and @r
 * returned for a retry with backoff. */
static int
delete_failed(struct vm_run *run, bool mine, const char *doing, int r)
{
    char msg[512];
    cJSON *s;

    snprintf(msg, sizeof(msg), "%s domain %s: %s", doing, run->domname, nc_drv_errmsg());
    nc_warn(run->o.key, "%s", msg);
    if (run->o.old_status && mine && (s = cJSON_Duplicate(run->o.old_status, true))) {
        cJSON_ReplaceItemInObject(s, "phase", cJSON_CreateString("Deleting"));
        /* The spec came back meanwhile: that is queued. */
        if (nc_run_report_not_ready(&run->o, s, "DeleteFailed", msg, true) == -ESTALE)
            return -ESTALE;
    }
    return r;
}

/* The spec is gone: tear down, then delete the status. */
static int
reconcile_deleted(struct vm_run *run, int64_t *ret_requeue_ms)
{
    struct nc_env *env = run->o.ctx->env;
    struct nc_dominfo info;
    struct nc_move mv;
    int r;

    if (moving(run, &mv)) {
        /* Torn down once the move ended, wherever it ended. */
        *ret_requeue_ms = POLL_MS;
        return 0;
    }

    const char *status_node = cJSON_GetStringValue(cJSON_GetObjectItem(run->o.old_status, "node"));
    /* The status belongs to the node the VM ran on; another node's is left
     * to it, which deletes it once its own domain is gone. */
    bool mine = !status_node || strcmp(status_node, env->node) == 0;

    if (!nc_is_dns_label(run->o.ns) || !nc_is_dns_label(run->o.name))
        return nc_run_delete_status(&run->o); /* nothing was ever created for it */

    /* Without the spec, its runtime is where its domain is. */
    r = -ENOENT;
    for (int rt = 0; rt < NC_RUNTIME_COUNT && r == -ENOENT; rt++)
        if ((run->hv = nc_env_runtime(env, rt)))
            r = nc_hv_lookup(run->hv, run->domname, &info);
    if (r == -ENOENT)
        run->hv = env->hv;
    if (r == 0 && owned_by_us(run, &info)) {
        if (!run->o.old_status && !nc_run_may_collect(env)) {
            nc_warn(run->o.key,
                    "domain %s is marked as ours but has neither spec nor status: "
                    "left alone as an orphan (--gc-orphans removes such domains)",
                    run->domname);
            return 0;
        }
        char snaps[256];

        /* The Snapshots its schedule wrote are its own: they go with it. */
        if ((r = nc_schedule_drop(&run->o)) < 0)
            return r;
        if (nc_snapshots_of_vm(env, run->o.ns, run->o.name, snaps, sizeof(snaps)) > 0) {
            /* Not under its snapshots: deleting them too lets it go. */
            char msg[384];
            cJSON *s;

            *ret_requeue_ms = POLL_MS;
            if (!run->o.old_status || !mine)
                return 0;
            if (!(s = cJSON_Duplicate(run->o.old_status, true)))
                return -ENOMEM;
            snprintf(msg, sizeof(msg), "waiting for its Snapshots to be deleted: %s", snaps);
            cJSON_ReplaceItemInObject(s, "phase", cJSON_CreateString("Deleting"));
            return nc_run_report_not_ready(&run->o, s, "WaitingForSnapshots", msg, false);
        }
        if (run->o.old_status && mine) {
            /* Say what is happening before doing it; report() keeps going
             * when this write fails, since the teardown does not depend on it. */
            cJSON *s = cJSON_Duplicate(run->o.old_status, true);

            cJSON_ReplaceItemInObject(s, "phase", cJSON_CreateString("Deleting"));
            if (nc_run_report(&run->o, s) == -ESTALE) {
                cJSON_Delete(s);
                return -ESTALE;
            }
            cJSON_Delete(s);
        }
        if ((r = run->hv == env->hv ? nc_snapshots_drop(env, run->o.ns, run->domname) : 0) == 0)
            r = remove_domain(run, &info);
        if (r < 0)
            return delete_failed(run, mine, "deleting", r);
        nc_run_event(&run->o, "Normal", "Deleted", "domain %s destroyed and undefined", run->domname);
    } else if (r < 0 && r != -ENOENT) {
        return delete_failed(run, mine, "looking up", r);
    } else if (r == -ENOENT && run->console_log[0]) {
        /* A crash between undefining the domain and deleting the status
         * can leave the serial log: it carries our name, so it is ours. */
        unlink(run->console_log);
    }
    if ((r = release_placement(run)) < 0 || !mine)
        return r;
    r = nc_ifaces_release(&run->o, cJSON_GetObjectItem(run->o.old_status, "interfaces"), NULL,
                          NULL);
    if (r < 0)
        return r;
    r = nc_run_delete_status(&run->o);
    if (r == 0)
        nc_info(run->o.key, "deleted");
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

        if (asprintf(&key, "%sstatus/%s/%s/%s", run->o.ctx->env->prefix, run->o.ns, kind, dep) < 0)
            return -ENOMEM;
        r = nc_informer_get(run->o.ctx->env->statuses, key, &value, &rev);
        free(key);
        if (r < 0 && r != -ENOENT)
            return r;
        st = value ? cJSON_Parse(value) : NULL;
        /* The status says when; what the domain uses comes from the real
         * world: libvirt's volume of our name, the Network's own devices. */
        ready = nc_status_condition_true(st, "Ready");
        if (disk) {
            struct nc_volinfo info;
            char pool[NC_NAME_MAX + 1];

            int lr = ready ? nc_volume_actual(run->o.ctx->env, run->o.ns, dep, pool, &info)
                           : -ENOENT;

            if (lr < 0 && lr != -ENOENT && lr != -ENOMEM) {
                /* Ready, but libvirt did not answer: retried with backoff. */
                snprintf(reason, reason_sz, "LibvirtError");
                snprintf(msg, msg_sz,
                         "spec.disks[%u]: cannot look up the volume of Volume \"%s\": %s", i, dep,
                         nc_drv_errmsg());
                cJSON_Delete(st);
                free(value);
                return lr;
            }
            ready = lr == 0;
            if (ready) {
                struct nc_disk_src *d = &run->disks[i];

                _Static_assert(sizeof(d->name) == sizeof(run->spec.disks[i].name),
                               "a disk's name fits as it is");
                memcpy(d->name, run->spec.disks[i].name, sizeof(d->name));
                snprintf(d->path, sizeof(d->path), "%s", info.path);
                snprintf(d->format, sizeof(d->format), "%s", info.format);
                d->read_only = run->spec.disks[i].read_only;
                d->iops = run->spec.disks[i].iops;
                d->bps = run->spec.disks[i].bps;
            }
        } else {
            ready = ready && nc_iface_from_network(&run->ifs[i - run->spec.n_disks],
                                                   run->o.ctx->env, run->o.ns, dep);
        }
        cJSON_Delete(st);
        free(value);
        if (!ready) {
            /* It may be waiting for this VM: a Volume is made on the node
             * of its first VM. */
            nc_run_enqueue(&run->o, kind, dep);
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
stop_domain(struct vm_run *run, const struct nc_dominfo *info, enum stop_cause cause)
{
    struct nc_env *env = run->o.ctx->env;
    int64_t since = stop_since(env->vm, run->o.key);
    int r;

    if (info->state == NC_DOM_SHUTOFF)
        return 0;
    if (info->state == NC_DOM_PAUSED || info->state == NC_DOM_CRASHED) {
        /* A paused guest cannot see ACPI; a crashed one will not answer. */
        if (!since)
            stop_begin(env->vm, run->o.key, cause);
        r = nc_hv_destroy(run->hv, run->domname);
        return r < 0 ? r : 0;
    }
    if (!since) {
        stop_begin(env->vm, run->o.key, cause);
        r = nc_hv_shutdown(run->hv, run->domname);
        if (r < 0 && r != -EBUSY)
            return r;
        nc_info(run->o.key, "asked domain %s to shut down (grace %ds)", run->domname,
                run->spec.stop_grace_seconds);
        return 1;
    }
    if (nc_now_ms() - since >= (int64_t)run->spec.stop_grace_seconds * 1000) {
        nc_run_event(&run->o, "Warning", "ForcedStop",
              "domain did not shut down within stopGracePeriodSeconds=%d: destroyed",
              run->spec.stop_grace_seconds);
        r = nc_hv_destroy(run->hv, run->domname);
        return r < 0 && r != -EBUSY ? r : 0;
    }
    return 1;
}

/* Defines the domain from the spec when it is absent or out of date.
 * @ret_defined says whether it did. */
static void
fill_owner(const struct vm_run *run, const char *config, const char *base, struct nc_owner *o)
{
    struct nc_env *env = run->o.ctx->env;

    memset(o, 0, sizeof(*o));
    snprintf(o->ns, sizeof(o->ns), "%s", run->o.ns);
    snprintf(o->kind, sizeof(o->kind), "vm");
    snprintf(o->name, sizeof(o->name), "%s", run->o.name);
    snprintf(o->cluster, sizeof(o->cluster), "%s", env->cluster);
    snprintf(o->prefix, sizeof(o->prefix), "%s", env->prefix);
    snprintf(o->config, sizeof(o->config), "%s", config);
    snprintf(o->base, sizeof(o->base), "%s", base);
}

/* What the domain is made of, from the spec and what the run resolved
 * (the domain type, each disk's file, each interface's MAC and tap): the
 * driver's terms, for the XML and for the hash of the definition. */
static struct nc_domain_def
machine(const struct vm_run *run)
{
    return (struct nc_domain_def){
        .type = run->domtype,
        .vcpus = run->spec.vcpus,
        .memory = run->spec.memory,
        .current_memory = run->spec.memory_balloon,
        .cpu_shares = run->spec.cpu_shares,
        .cpu_quota = run->spec.cpu_quota,
        .pins = run->pins,
        .n_pins = run->spec.n_pinned,
        .accel = run->spec.accel,
        .kernel = run->spec.kernel,
        .initrd = run->spec.initrd,
        .cmdline = run->spec.cmdline,
        .disks = run->disks,
        .n_disks = run->spec.n_disks,
        .nics = run->nics,
        .n_nics = run->spec.n_ifaces,
        .seed = run->seed[0] ? run->seed : NULL,
        .command = (const char *const *)run->spec.command,
        .env = (const char *const *)run->environ,
        .n_env = run->spec.n_env,
        .run_dir = run->proc_dir[0] ? run->proc_dir : NULL,
        .image = run->spec.image[0] ? run->spec.image : NULL,
    };
}

static int
ensure_defined(struct vm_run *run, const struct nc_dominfo *info, bool exists,
               const char *config_hash, const char *base_hash, bool *ret_defined)
{
    struct nc_owner owner;
    struct nc_domain_def def = machine(run);
    int r;

    def.name = run->domname;
    def.uuid = exists ? info->uuid : NULL;
    def.console_log = run->console_log[0] ? run->console_log : NULL;
    def.acpi = run->hv->caps.acpi;
    def.owner = &owner;

    *ret_defined = false;
    if (exists && strcmp(info->owner.config, config_hash) == 0)
        return 0;
    fill_owner(run, config_hash, base_hash, &owner);
    r = nc_hv_define(run->hv, &def);
    if (r == 0)
        *ret_defined = true;
    return r;
}

/*
 * The running instance differs from the new definition in its disks and
 * interfaces alone: hot-plug them (reconcilers/hotplug.h), then mark the
 * instance as of the new definition.
 */
static int
hotplug(struct vm_run *run, const char *config_hash, const char *base_hash, char *why,
        size_t whysz)
{
    struct nc_owner owner;

    fill_owner(run, config_hash, base_hash, &owner);
    return nc_hotplug(&run->o, run->domname, &run->spec, run->disks, run->nics, &owner, why,
                      whysz);
}

/* The restarts of a process so far, as its last status counts them. */
static unsigned
process_restarts(const struct vm_run *run)
{
    const cJSON *p = cJSON_GetObjectItem(run->o.old_status, "process");

    return (unsigned)nc_json_i64(cJSON_GetObjectItem(p, "restarts"));
}

/*
 * A process that is off and that we did not stop: it ended by itself (its
 * init wrote the exit code), or its init was killed while it ran (virsh
 * destroy, the OOM killer), which counts as an exit with
 * NC_PROCESS_KILLED. An end its restartPolicy keeps is the process's
 * completion (1); one it restarts waits out the back-off first (1, with
 * the wait in *@ret_requeue_ms). 0 when it is to be started now.
 */
static int
process_exited(struct vm_run *run, const char *prev_phase, int64_t *ret_requeue_ms)
{
    const cJSON *p = cJSON_GetObjectItem(run->o.old_status, "process");
    time_t started = nc_rfc3339_parse(cJSON_GetStringValue(cJSON_GetObjectItem(p, "startedAt")));
    unsigned n = process_restarts(run);
    int64_t due;
    int r;

    nc_process_exit_read(run->proc_dir, &run->exit);
    if (!run->exit.exited && prev_phase &&
        (strcmp(prev_phase, "Running") == 0 || strcmp(prev_phase, "Paused") == 0)) {
        if ((r = nc_process_exit_write(run->proc_dir, NC_PROCESS_KILLED)) < 0)
            return r;
        nc_process_exit_read(run->proc_dir, &run->exit);
    }
    if (!run->exit.exited)
        return 0;
    if (!nc_process_restarts(run->spec.restart_policy, run->exit.code)) {
        if (!run->completed)
            nc_info(run->o.key, "process exited with code %d; restartPolicy %s keeps it off",
                    run->exit.code, nc_restart_policy_names[run->spec.restart_policy]);
        run->completed = true;
        return 1;
    }
    /* A run of ten minutes or more starts the back-off over. */
    if (started > 0 && run->exit.at_ms / 1000 - started >= NC_PROCESS_BACKOFF_RESET_S)
        n = 0;
    due = run->exit.at_ms + nc_process_backoff_ms(n);
    if (nc_process_wall_ms() < due) {
        *ret_requeue_ms = due - nc_process_wall_ms();
        return 1;
    }
    return 0;
}

static int
drive_state(struct vm_run *run, const struct nc_dominfo *info, const char *config_hash,
            const char *base_hash, bool was_ours_before, bool *ret_restarted,
            bool *ret_hotplugged, int64_t *ret_requeue_ms)
{
    struct nc_env *env = run->o.ctx->env;
    enum nc_run_state want = run->spec.run_state;
    bool stale_live = info->state != NC_DOM_SHUTOFF && info->live_config[0] &&
                      strcmp(info->live_config, config_hash) != 0;
    const char *prev_phase = cJSON_GetStringValue(cJSON_GetObjectItem(run->o.old_status, "phase"));
    int r;

    /* Only disks and interfaces changed: hot-plug them where the guest
     * lets us. */
    if (stale_live && want != NC_RUN_STOPPED && run->hv->caps.hotplug && info->live_base[0] &&
        strcmp(info->live_base, base_hash) == 0 && !stop_since(env->vm, run->o.key)) {
        char why[512];

        r = hotplug(run, config_hash, base_hash, why, sizeof(why));
        if (r == 0) {
            *ret_hotplugged = true;
            stale_live = false;
        } else {
            nc_run_event(&run->o, "Warning", "HotPlugFailed", "%s; restarting the domain instead",
                         why);
        }
    }
    /* A running instance of an older definition is restarted to take the
     * new one, as is one whose restart was asked for, unless the spec
     * wants it stopped anyway. */
    if ((stale_live || run->restart_now) && want != NC_RUN_STOPPED) {
        r = stop_domain(run, info, stale_live ? STOP_FOR_UPDATE : STOP_FOR_RESTART);
        if (r != 0)
            return r;
        return 1; /* look again once it is off */
    }
    if (want == NC_RUN_STOPPED) {
        r = stop_domain(run, info, STOP_FOR_SPEC);
        /* Its exit was our stop: leaving Stopped starts it afresh. */
        if (r == 0 && info->state == NC_DOM_SHUTOFF && run->proc_dir[0])
            nc_process_exit_forget(run->proc_dir);
        if (r == 0 && info->state != NC_DOM_SHUTOFF)
            nc_run_event(&run->o, "Normal", "Stopped", "domain stopped (runState Stopped)");
        return r == 0 && info->state != NC_DOM_SHUTOFF ? 1 : r;
    }
    if (info->state == NC_DOM_SHUTTING_DOWN)
        return 1;
    if (info->state == NC_DOM_SHUTOFF && run->spec.runtime == NC_RUNTIME_PROCESS &&
        !stop_since(env->vm, run->o.key) && !run->restarting &&
        (r = process_exited(run, prev_phase, ret_requeue_ms)) != 0)
        return r < 0 ? r : 0;
    if (info->state == NC_DOM_SHUTOFF || info->state == NC_DOM_CRASHED) {
        enum stop_cause cause = stop_end(env->vm, run->o.key);

        /* Known from the status too, when the stop was another process'. */
        if (cause == STOP_FOR_SPEC && run->restarting)
            cause = STOP_FOR_RESTART;

        if (info->state == NC_DOM_CRASHED && (r = nc_hv_destroy(run->hv, run->domname)) < 0)
            return r;
        r = nc_hv_start(run->hv, run->domname);
        if (r < 0)
            return r;
        run->started = true;
        if (run->exit.exited) {
            nc_run_event(&run->o, "Normal", "Restarted",
                         "process exited with code %d: started again (restartPolicy %s)",
                         run->exit.code, nc_restart_policy_names[run->spec.restart_policy]);
            run->restarted_process = true;
        } else if (cause == STOP_FOR_UPDATE) {
            *ret_restarted = true;
            nc_run_event(&run->o, "Normal", "Restarted",
                  "domain restarted to apply generation %" PRId64, run->o.generation);
        } else if (cause == STOP_FOR_RESTART) {
            nc_run_event(&run->o, "Normal", "Restarted", "domain restarted as asked (%s %s)",
                         NC_VM_RESTART_AT, run->spec.restart_at);
        } else if (cause == STOP_FOR_RESTORE) {
            nc_run_event(&run->o, "Normal", "Started",
                         "domain started from the disks a Restore brought back");
        } else if (was_ours_before && prev_phase &&
                   (strcmp(prev_phase, "Running") == 0 || strcmp(prev_phase, "Paused") == 0)) {
            nc_run_event(&run->o, "Warning", "DriftCorrected",
                  "domain was %s, expected %s: started again", nc_dom_state_names[info->state],
                  prev_phase);
        } else {
            nc_run_event(&run->o, "Normal", "Started", "domain started");
        }
        if (want == NC_RUN_PAUSED && (r = nc_hv_suspend(run->hv, run->domname)) < 0)
            return r;
        return 0;
    }
    if (want == NC_RUN_PAUSED && info->state == NC_DOM_RUNNING) {
        r = nc_hv_suspend(run->hv, run->domname);
        if (r == 0)
            nc_run_event(&run->o, "Normal", "Paused", "domain paused (runState Paused)");
        return r;
    }
    if (want == NC_RUN_RUNNING && info->state == NC_DOM_PAUSED) {
        struct nc_dominfo now;

        r = nc_hv_resume(run->hv, run->domname);
        /* Paused for a while by libvirt itself (a snapshot a novacrond
         * killed before us asked for), the guest may run again already. */
        if (r < 0 && nc_hv_lookup(run->hv, run->domname, &now) == 0 &&
            now.state == NC_DOM_RUNNING)
            return 0;
        if (r == 0)
            nc_run_event(&run->o, prev_phase && strcmp(prev_phase, "Running") == 0 ? "Warning" : "Normal",
                  prev_phase && strcmp(prev_phase, "Running") == 0 ? "DriftCorrected" : "Resumed",
                  "domain resumed (runState Running)");
        return r;
    }
    return 0;
}

/* spec.env as the NAME=value strings of the definition. */
static bool
process_environ(struct vm_run *run, char *msg, size_t msgsz)
{
    for (unsigned i = 0; i < run->spec.n_env; i++) {
        const struct nc_vm_env *e = &run->spec.env[i];

        if (asprintf(&run->environ[i], "%s=%s", e->name, e->value) < 0) {
            run->environ[i] = NULL;
            snprintf(msg, msgsz, "node %s: out of memory", run->o.ctx->env->node);
            return true;
        }
    }
    return false;
}

/*
 * What this node cannot do for a valid spec: KVM asked for where there is
 * none, boot files that are not here. Fills @msg and returns true then.
 * Also settles the domain type, and replaces the boot files' paths by
 * what they resolve to inside --boot-dir, which is what the domain uses:
 * a tenant names a kernel, never any host file (reconcilers/hostpath.h).
 */
static bool
node_problem(struct vm_run *run, char *msg, size_t msgsz)
{
    struct nc_env *env = run->o.ctx->env;
    struct {
        const char *field;
        char **path;
    } files[] = {
        {"spec.boot.kernel", &run->spec.kernel},
        {"spec.boot.initrd", &run->spec.initrd},
    };
    char resolved[PATH_MAX], why[160], *copy;

    if (!run->hv) {
        snprintf(msg, msgsz, "spec.runtime: node %s has no %s runtime (%s)", env->node,
                 nc_runtime_names[run->spec.runtime],
                 run->spec.runtime == NC_RUNTIME_PROCESS ? "libvirt's LXC driver" : "Podman");
        return true;
    }
    run->domtype = nc_hv_domain_type(run->hv, run->spec.accel);
    if (run->spec.runtime == NC_RUNTIME_CONTAINER)
        return process_environ(run, msg, msgsz);
    if (run->spec.runtime == NC_RUNTIME_PROCESS)
        return nc_process_prepare(env, &run->spec, run->domname, run->proc_dir,
                                  sizeof(run->proc_dir), msg, msgsz) ||
               process_environ(run, msg, msgsz);
    if (!run->domtype) {
        snprintf(msg, msgsz, "spec.accel: KVM is not available on node %s", env->node);
        return true;
    }
    for (unsigned c = 0, i = 0; c < NC_VM_MAX_CPU && i < run->spec.n_pinned; c++) {
        if (!nc_cpuset_has(&run->spec.pinning, c))
            continue;
        if (c >= env->host_cpus) {
            snprintf(msg, msgsz, "spec.resources.pinning: node %s has no CPU %u (it has 0-%u)",
                     env->node, c, env->host_cpus - 1);
            return true;
        }
        run->pins[i++] = c;
    }
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        if (!*files[i].path)
            continue;
        if (nc_hostpath_resolve(env->boot_dir, "boot folder (--boot-dir)", *files[i].path,
                                resolved, why, sizeof(why))) {
            snprintf(msg, msgsz, "%s: %s", files[i].field, why);
            return true;
        }
        if (strcmp(resolved, *files[i].path) != 0 && (copy = strdup(resolved))) {
            free(*files[i].path);
            *files[i].path = copy;
        }
    }
    return false;
}

/*
 * The MAC and IP of every interface: listed in the status before a first
 * allocation, held, then what the interfaces gone held is given back.
 * 0; 1 with @msg when the spec asks for what cannot be had; or an errno.
 */
static int
hold_addresses(struct vm_run *run, char *msg, size_t msgsz)
{
    const cJSON *old = cJSON_GetObjectItem(run->o.old_status, "interfaces");
    int r;

    nc_ifaces_begin(&run->o, &run->spec, run->o.old_status, run->ifs);
    run->ifs_known = true;
    if (!nc_ifaces_listed(&run->spec, run->ifs)) {
        run->keep_old_ifaces = true;
        r = report_not_ready(run, "Provisioning", "Provisioning", "allocating addresses", NULL);
        run->keep_old_ifaces = false;
        if (r < 0)
            return r;
        old = cJSON_GetObjectItem(run->o.old_status, "interfaces");
    }
    if ((r = nc_ifaces_hold(&run->o, &run->spec, run->ifs, msg, msgsz)) != 0)
        return r;
    for (unsigned i = 0; i < run->spec.n_ifaces; i++) {
        run->nics[i] = run->ifs[i].nic;
        _Static_assert(sizeof(run->nics[i].ip) == sizeof(run->ifs[i].ip), "ip buffers");
        memcpy(run->nics[i].ip, run->ifs[i].ip, sizeof(run->nics[i].ip));
        run->nics[i].prefix = run->ifs[i].prefix;
    }
    return nc_ifaces_release(&run->o, old, &run->spec, run->ifs);
}

/* Puts each running guest's taps on their Networks' bridges. 0, or a
 * negative errno with @msg. */
static int
attach_taps(struct vm_run *run, char *msg, size_t msgsz)
{
    struct nc_ctx *ctx = run->o.ctx;

    for (unsigned i = 0; i < run->spec.n_ifaces; i++) {
        char alias[256];
        int r;

        if (!ctx->ov) {
            snprintf(msg, msgsz, "node %s: no netlink socket in its network namespace",
                     ctx->env->node);
            return -ENOTCONN;
        }
        if ((r = nc_iface_port_set(&run->o, &run->spec, run->ifs, i, msg, msgsz)) < 0)
            return r;
        nc_iface_alias(&run->o, &run->spec, i, alias, sizeof(alias));
        r = nc_overlay_attach(ctx->ov, run->ifs[i].nic.tap, run->ifs[i].bridge,
                              run->ifs[i].bridge_alias, alias, run->ifs[i].nic.mtu);
        if (r < 0) {
            snprintf(msg, msgsz, "spec.interfaces[%u]: cannot attach %s to %s: %s", i,
                     run->ifs[i].nic.tap, run->ifs[i].bridge, nc_drv_errmsg());
            return r;
        }
    }
    return 0;
}

/*
 * Whether this node runs the VM: 0 when it does; 1 when another node does
 * (a copy of ours, from before a move, is removed) or none does yet; or a
 * negative errno.
 */
static int
placed_here(struct vm_run *run)
{
    struct nc_env *env = run->o.ctx->env;
    struct nc_dominfo info;
    char where[254];
    int r;

    if ((r = placement(run, where, sizeof(where))) != 0)
        return r < 0 ? r : 1;
    if (strcmp(where, env->node) == 0)
        return 0;
    /* Another node runs it and owns its status. */
    if (!run->hv)
        return 1;
    r = nc_hv_lookup(run->hv, run->domname, &info);
    if (r == 0 && owned_by_us(run, &info)) {
        nc_info(run->o.key, "placed on node %s: removing the local domain", where);
        r = remove_domain(run, &info);
    } else if (r == -ENOENT && run->spec.cloud_init &&
               nc_cloudinit_prune(env, run->domname, NULL) < 0) {
        /* A seed without its domain: the source's after a live move, or
         * one a target made for a move that failed. */
        nc_warn(run->o.key, "%s", nc_drv_errmsg());
    }
    if (r < 0 && r != -ENOENT) /* the status is the other node's; an event anyone's */
        return nc_run_warn(&run->o, r, "LibvirtError",
                           "node %s: libvirt: %s; the domain it may keep of this VM, which "
                           "runs on node %s, is looked at again",
                           env->node, nc_drv_errmsg(), where);
    return 1;
}

/*
 * What must hold before a domain is defined: its Volumes and Networks
 * Ready, a node that can run it, its addresses held. 0 when all do; 1
 * after reporting which does not; or a negative errno.
 */
static int
prerequisites(struct vm_run *run, int64_t *ret_requeue_ms)
{
    char reason[32], msg[512];
    int r;

    reason[0] = '\0';
    if ((r = dependency_missing(run, reason, sizeof(reason), msg, sizeof(msg))) > 0) {
        *ret_requeue_ms = DEPENDENCY_POLL_MS;
        r = report_not_ready(run, "Pending", reason, msg, NULL);
    } else if (r < 0 && reason[0]) {
        nc_warn(run->o.key, "%s", msg);
        return report_not_ready(run, "Pending", reason, msg, NULL) == -ESTALE ? -ESTALE : r;
    } else if (r == 0 && node_problem(run, msg, sizeof(msg))) {
        r = report_not_ready(run, "Failed", "NotRunnableHere", msg, NULL);
    } else if (r == 0 && (r = hold_addresses(run, msg, sizeof(msg))) > 0) {
        r = report_not_ready(run, "Failed", "AddressConflict", msg, NULL);
    } else {
        return r;
    }
    return r < 0 ? r : 1;
}

/* True when the status says the scheduler placed this generation here. */
static bool
scheduled_here(const struct vm_run *run)
{
    const cJSON *st = run->o.old_status;
    const char *node = cJSON_GetStringValue(cJSON_GetObjectItem(st, "node"));

    return node && strcmp(node, run->o.ctx->env->node) == 0 &&
           nc_json_i64(cJSON_GetObjectItem(st, "observedGeneration")) == run->o.generation &&
           nc_status_condition_true(st, "Scheduled");
}

/*
 * Defines the domain from the spec when it does not exist or has another
 * definition, reporting Provisioning first when it is new. Fills @info,
 * *@exists and *@defined. 0; 1 when the reconcile ends here, with what
 * it must return in *@ret (after reporting why the domain cannot be
 * defined: one of that name that is not ours, a definition libvirt
 * cannot take; or a status that could not be written); or a negative
 * errno from libvirt, with the reason in nc_drv_errmsg().
 */
static int
define(struct vm_run *run, struct nc_dominfo *info, const char *config_hash,
       const char *base_hash, bool *exists, bool *defined, int *ret)
{
    char msg[512], size[32];
    int r;

    *exists = *defined = false;
    r = nc_hv_lookup(run->hv, run->domname, info);
    if (r < 0 && r != -ENOENT)
        return r;
    *exists = r == 0;
    if (*exists && !owned_by_us(run, info)) {
        snprintf(msg, sizeof(msg),
                 "libvirt domain %s exists but NovaCron did not create it for this object; "
                 "it is left alone",
                 run->domname);
        if (nc_run_ready_changed(&run->o, false, msg))
            nc_run_event(&run->o, "Warning", "NameConflict", "%s", msg);
        *ret = report_not_ready(run, "Failed", "NameConflict", msg, NULL);
        return 1;
    }
    /* Status first: whatever instant a crash hits after this, the domain
     * about to exist has a status key (schema/README.md §4). The one the
     * scheduler wrote with the placement, for this generation and this
     * node, is such a key already: no write of its own needed. */
    if (!*exists && !scheduled_here(run) &&
        (*ret = report_not_ready(run, "Provisioning", "Provisioning", "defining the domain",
                                 NULL)) < 0)
        return 1;
    r = ensure_defined(run, info, *exists, config_hash, base_hash, defined);
    if (r == -EBADMSG) {
        *ret = report_not_ready(run, "Failed", "InvalidDefinition",
                                "the spec cannot be written as a definition for its runtime", NULL);
        return 1;
    }
    if (r == -ENOMEDIUM) {
        snprintf(msg, sizeof(msg), "spec.image: not on node %s: %s", run->o.ctx->env->node,
                 nc_drv_errmsg());
        if (nc_run_ready_changed(&run->o, false, msg))
            nc_run_event(&run->o, "Warning", "ImageMissing", "%s", msg);
        *ret = report_not_ready(run, "Failed", "ImageMissing", msg, NULL);
        return 1;
    }
    if (r < 0)
        return r;
    if (*defined)
        nc_run_event(&run->o, "Normal", *exists ? "Updated" : "Created",
                     "domain %s %s (%u vCPU, %s)", run->domname,
                     *exists ? "redefined" : "defined", run->spec.vcpus,
                     nc_quantity_format(run->spec.memory, size, sizeof(size)));
    return *defined && !*exists ? nc_hv_lookup(run->hv, run->domname, info) : 0;
}

/* Ready: whether the domain is in the state the spec asks for, with the
 * definition it asks for. */
static void
ready_condition(struct vm_run *run, cJSON *s, const struct nc_dominfo *info, bool stale)
{
    char msg[256];

    if (run->completed) {
        snprintf(msg, sizeof(msg), "the process exited with code %d; restartPolicy %s keeps it off",
                 run->exit.code, nc_restart_policy_names[run->spec.restart_policy]);
        nc_status_condition(s, run->o.old_status, "Ready", false,
                            run->exit.code ? "Error" : "Completed", msg, run->o.generation,
                            run->o.now);
    } else if (stale) {
        /* Not converged until the running guest has the new definition. */
        nc_status_condition(s, run->o.old_status, "Ready", false, "RestartPending",
                            "the running domain has an older definition; restarting it",
                            run->o.generation, run->o.now);
    } else if (state_matches(run->spec.run_state, info->state)) {
        snprintf(msg, sizeof(msg), "domain is %s as the spec asks",
                 nc_dom_state_names[info->state]);
        nc_status_condition(s, run->o.old_status, "Ready", true,
                            info->state == NC_DOM_RUNNING  ? "DomainRunning"
                            : info->state == NC_DOM_PAUSED ? "DomainPaused"
                                                           : "DomainStopped",
                            msg, run->o.generation, run->o.now);
    } else {
        snprintf(msg, sizeof(msg), "domain is %s, the spec asks for %s",
                 nc_dom_state_names[info->state], nc_run_state_names[run->spec.run_state]);
        nc_status_condition(s, run->o.old_status, "Ready", false, "Converging", msg,
                            run->o.generation, run->o.now);
    }
}

/* status.process: its restarts, when it last started, its last exit and
 * its log file. */
static int
add_process(const struct vm_run *run, cJSON *s)
{
    const cJSON *old = cJSON_GetObjectItem(run->o.old_status, "process");
    const cJSON *started = cJSON_GetObjectItem(old, "startedAt");
    cJSON *p = cJSON_AddObjectToObject(s, "process");
    char now[32], log[sizeof(run->proc_dir) + 8];

    if (!p)
        return -ENOMEM;
    cJSON_AddNumberToObject(p, "restarts", process_restarts(run) + run->restarted_process);
    if (run->started)
        cJSON_AddStringToObject(p, "startedAt", nc_rfc3339_now(now));
    else if (cJSON_IsString(started))
        cJSON_AddStringToObject(p, "startedAt", started->valuestring);
    if (run->exit.exited) {
        cJSON_AddNumberToObject(p, "exitCode", run->exit.code);
        cJSON_AddStringToObject(p, "exitedAt",
                                nc_rfc3339_format((time_t)(run->exit.at_ms / 1000), now));
    } else if (cJSON_IsNumber(cJSON_GetObjectItem(old, "exitCode")) &&
               cJSON_IsString(cJSON_GetObjectItem(old, "exitedAt"))) {
        /* Running again: the last exit stays on record. */
        cJSON_AddNumberToObject(p, "exitCode", nc_json_i64(cJSON_GetObjectItem(old, "exitCode")));
        cJSON_AddStringToObject(p, "exitedAt",
                                cJSON_GetObjectItem(old, "exitedAt")->valuestring);
    }
    snprintf(log, sizeof(log), "%s/" NC_PROCESS_LOG, run->proc_dir);
    cJSON_AddStringToObject(p, "log", log);
    return 0;
}

/* How this reconcile brought the domain to its definition. */
struct applied {
    bool exists, defined, restarted, hotplugged, stale;
};

/* ConfigApplied: whether the running domain has the spec's definition,
 * and whether that took a restart. */
static void
config_condition(struct vm_run *run, cJSON *s, const struct applied *a)
{
    const cJSON *old = nc_status_find_condition(run->o.old_status, "ConfigApplied");

    if (a->stale)
        nc_status_condition(s, run->o.old_status, "ConfigApplied", false, "RestartPending",
                            "the running domain has an older definition; it is being restarted",
                            run->o.generation, run->o.now);
    else if (a->hotplugged)
        nc_status_condition(s, run->o.old_status, "ConfigApplied", true, "HotPlugged",
                            "the disks changed and were attached and detached live, without a "
                            "restart",
                            run->o.generation, run->o.now);
    else if (a->restarted)
        nc_status_condition(s, run->o.old_status, "ConfigApplied", true, "Restarted",
                            "the new vcpus/memory needed a restart of the domain, which was done",
                            run->o.generation, run->o.now);
    else if (a->defined || !old)
        nc_status_condition(s, run->o.old_status, "ConfigApplied", true,
                            a->exists ? "AppliedWithoutRestart" : "Created",
                            a->exists ? "the definition was updated; no restart was needed"
                                      : "the domain was defined from this spec",
                            run->o.generation, run->o.now);
    else
        nc_status_condition(s, run->o.old_status, "ConfigApplied",
                            nc_status_condition_true(run->o.old_status, "ConfigApplied"),
                            cJSON_GetStringValue(cJSON_GetObjectItem(old, "reason")) ?: "Applied",
                            cJSON_GetStringValue(cJSON_GetObjectItem(old, "message")) ?: "",
                            run->o.generation, run->o.now);
}

/* The status of a domain that exists: its phase, Ready, ConfigApplied,
 * and the snapshot schedule, whose due Snapshot it writes. */
static int
report_domain(struct vm_run *run, const struct nc_dominfo *info, const struct applied *a,
              int64_t *ret_requeue_ms)
{
    cJSON *s = status_new(run, run->completed ? (run->exit.code ? "Failed" : "Succeeded")
                                              : phase_of(info->state));
    struct nc_schedule sch;
    int r;

    if (!s)
        return -ENOMEM;
    if (run->spec.runtime == NC_RUNTIME_PROCESS && add_process(run, s) < 0) {
        cJSON_Delete(s);
        return -ENOMEM;
    }
    ready_condition(run, s, info, a->stale);
    config_condition(run, s, a);
    if (run->update_pending[0])
        nc_status_condition(s, run->o.old_status, "UpdatePending", true, "InstanceTypeChanged",
                            run->update_pending, run->o.generation, run->o.now);
    add_domain(s, run->domname, info);
    if (run->console_log[0])
        cJSON_AddStringToObject(s, "consoleLog", run->console_log);
    if ((r = nc_schedule_due(&run->o, &run->spec, s, &sch, ret_requeue_ms)) < 0) {
        cJSON_Delete(s);
        nc_schedule_clear(&sch);
        return r;
    }
    if (sch.doc)
        nc_run_event(&run->o, "Normal", "SnapshotScheduled", "Snapshot %s written",
                     sch.name);
    r = report(run, s);
    run->o.extra = NULL;
    run->o.n_extra = 0;
    run->o.extra_cmp = NULL;
    run->o.n_extra_cmp = 0;
    if (r < 0) {
        nc_schedule_clear(&sch);
        return r;
    }
    return nc_schedule_prune(&run->o, &run->spec, &sch);
}

static int
report_migrating(struct vm_run *run, const struct nc_move *mv)
{
    cJSON *s = cJSON_Duplicate(run->o.old_status, true), *conds = cJSON_CreateArray(), *c;
    char msg[600];
    int r;

    if (!s || !conds) {
        cJSON_Delete(s);
        cJSON_Delete(conds);
        return -ENOMEM;
    }
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(s, "conditions")) {
        const char *type = cJSON_GetStringValue(cJSON_GetObjectItem(c, "type"));

        if (type && strcmp(type, "Migrating") != 0)
            cJSON_AddItemToArray(conds, cJSON_Duplicate(c, true));
    }
    cJSON_ReplaceItemInObject(s, "conditions", conds);
    snprintf(msg, sizeof(msg), "to node %s (migration %s)", mv->target, mv->migration);
    nc_status_condition(s, run->o.old_status, "Migrating", true,
                        mv->running ? "Running" : "Scheduling", msg, run->o.generation,
                        run->o.now);
    r = nc_run_report(&run->o, s);
    cJSON_Delete(s);
    return r;
}

/*
 * A restart asked for by metadata.annotations[novacron.io/restartedAt],
 * carried out once per value. Its record in the status (restart:
 * requestedAt, reason, fromDomainId, then restartTime) is written before
 * the domain is touched, so a novacrond killed in the middle knows from
 * the domain's id whether the instance it was to restart is gone. Sets
 * run->restart_now when it is to go now. 0 or a negative errno.
 */
static int
restart_request(struct vm_run *run, const struct nc_dominfo *info)
{
    const cJSON *old = cJSON_GetObjectItem(run->o.old_status, "restart");
    const char *at = cJSON_GetStringValue(cJSON_GetObjectItem(old, "requestedAt"));
    const cJSON *from = cJSON_GetObjectItem(old, "fromDomainId");
    bool running = info->state != NC_DOM_SHUTOFF;
    char msg[512];
    cJSON *rec;

    if (!run->spec.restart_at[0] ||
        (at && strcmp(at, run->spec.restart_at) == 0 && cJSON_GetObjectItem(old, "restartTime")))
        return 0;
    if (at && strcmp(at, run->spec.restart_at) == 0) {
        /* Under way: the instance it was to restart still runs, or it is
         * gone; done once a new one runs (or the spec wants none). */
        if (running && cJSON_IsNumber(from) && info->live_id == (unsigned)from->valuedouble) {
            run->restart_now = true;
            return 0;
        }
        if (!running && run->spec.run_state != NC_RUN_STOPPED) {
            run->restarting = true; /* started below, marked done by the next look */
            return 0;
        }
        if (!(run->restart = cJSON_Duplicate(old, true)))
            return -ENOMEM;
        cJSON_AddStringToObject(run->restart, "restartTime", run->o.now);
        return 0;
    }
    /* Asked for now: said before anything is done. */
    if (!(rec = run->restart = cJSON_CreateObject()))
        return -ENOMEM;
    cJSON_AddStringToObject(rec, "requestedAt", run->spec.restart_at);
    cJSON_AddStringToObject(rec, "reason",
                            run->spec.restart_reason[0] ? run->spec.restart_reason : "requested");
    if (!running) {
        /* Nothing runs: nothing to restart; the runState holds. */
        cJSON_AddStringToObject(rec, "restartTime", run->o.now);
        cJSON_AddStringToObject(rec, "message", "the domain was not running");
        return 0;
    }
    cJSON_AddNumberToObject(rec, "fromDomainId", info->live_id);
    snprintf(msg, sizeof(msg), "restarting the domain as asked (%s %s)", NC_VM_RESTART_AT,
             run->spec.restart_at);
    run->restart_now = true;
    return report_not_ready(run, phase_of(info->state), "Restarting", msg, info);
}

/*
 * spec.instancetype: vcpus and memory from it. What the domain is made
 * from is recorded in the status (instancetype: name, revision, vcpus,
 * memory), so that a changed (or deleted) InstanceType does not restart a
 * guest behind its owner's back: the recorded values hold, condition
 * UpdatePending says so, until the VM's own spec changes or a restart is
 * asked for. 0, or a negative errno with the reason in @why.
 */
static int
apply_instancetype(struct vm_run *run, char *why, size_t whysz)
{
    struct nc_env *env = run->o.ctx->env;
    const cJSON *rec = cJSON_GetObjectItem(run->o.old_status, "instancetype");
    const char *rec_name = cJSON_GetStringValue(cJSON_GetObjectItem(rec, "name"));
    const cJSON *restart = cJSON_GetObjectItem(run->o.old_status, "restart");
    const char *restarted = cJSON_GetStringValue(cJSON_GetObjectItem(restart, "requestedAt"));
    int64_t rev = 0, rec_rev = nc_json_i64(cJSON_GetObjectItem(rec, "revision"));
    bool same_spec = nc_json_i64(cJSON_GetObjectItem(run->o.old_status, "observedGeneration")) ==
                     run->o.generation;
    bool restart_asked = run->spec.restart_at[0] &&
                         (!restarted || strcmp(restarted, run->spec.restart_at) != 0);
    cJSON *r_rec;
    int r;

    if (!run->spec.instancetype[0])
        return 0;
    r = nc_instancetype_apply(env, run->o.ns, &run->spec, &rev, why, whysz);
    if (rec_name && strcmp(rec_name, run->spec.instancetype) == 0 && same_spec &&
        !restart_asked && (r < 0 || rev != rec_rev)) {
        /* Changed under a VM that did not: the values it was made with hold. */
        run->spec.vcpus = (unsigned)nc_json_i64(cJSON_GetObjectItem(rec, "vcpus"));
        run->spec.memory = (uint64_t)nc_json_i64(cJSON_GetObjectItem(rec, "memory"));
        snprintf(run->update_pending, sizeof(run->update_pending),
                 "InstanceType \"%s\" %s since the domain was made from it: applied when the "
                 "VM's spec changes or a restart is asked for (novactl restart)",
                 run->spec.instancetype,
                 r == -ENOENT ? "was deleted" : r < 0 ? "became invalid" : "changed");
        rev = rec_rev;
        r = 0;
    }
    if (r < 0)
        return r;
    if (run->spec.memory_balloon > run->spec.memory) {
        char size[32];

        snprintf(why, whysz,
                 "spec.resources.memoryBalloon: must be at most the memory InstanceType \"%s\" "
                 "gives (%s)",
                 run->spec.instancetype, nc_quantity_format(run->spec.memory, size, sizeof(size)));
        return -EINVAL;
    }
    if (run->spec.n_pinned && run->spec.n_pinned != run->spec.vcpus) {
        snprintf(why, whysz,
                 "spec.resources.pinning: must list one CPU per vCPU: %u for the %u InstanceType "
                 "\"%s\" gives",
                 run->spec.n_pinned, run->spec.vcpus, run->spec.instancetype);
        return -EINVAL;
    }
    if (!(r_rec = run->instancetype = cJSON_CreateObject()))
        return -ENOMEM;
    cJSON_AddStringToObject(r_rec, "name", run->spec.instancetype);
    cJSON_AddNumberToObject(r_rec, "revision", (double)rev);
    cJSON_AddNumberToObject(r_rec, "vcpus", run->spec.vcpus);
    cJSON_AddNumberToObject(r_rec, "memory", (double)run->spec.memory);
    return 0;
}

/* Whether a Snapshot or Restore of this VM is InProgress on this node: the
 * VM is theirs meanwhile, and either queues it once it is done. */
static bool
left_to_others(struct vm_run *run, int64_t *ret_requeue_ms)
{
    struct nc_env *env = run->o.ctx->env;

    if (!nc_vm_in_progress(env, run->o.ns, "snapshot", run->o.name) &&
        !nc_vm_in_progress(env, run->o.ns, "restore", run->o.name))
        return false;
    *ret_requeue_ms = DEPENDENCY_POLL_MS; /* a backstop */
    return true;
}

/* A domain of ours in the runtime the spec no longer names goes: the
 * spec's runtime changed, and one copy runs, in the new one. */
static int
leave_other_runtime(struct vm_run *run)
{
    struct nc_env *env = run->o.ctx->env;
    struct nc_hv *mine = run->hv;
    struct nc_dominfo info;
    int r = 0;

    for (int rt = 0; rt < NC_RUNTIME_COUNT && r >= 0; rt++) {
        if (rt == (int)run->spec.runtime || !(run->hv = nc_env_runtime(env, rt)))
            continue;
        r = nc_hv_lookup(run->hv, run->domname, &info);
        if (r == 0 && owned_by_us(run, &info)) {
            nc_info(run->o.key, "runtime is %s now: removing the %s domain",
                    nc_runtime_names[run->spec.runtime], nc_runtime_names[rt]);
            r = remove_domain(run, &info);
        }
        if (r == -ENOENT)
            r = 0;
    }
    run->hv = mine;
    return r;
}

static int
reconcile_spec(struct vm_run *run, const char *value, int64_t *ret_requeue_ms)
{
    struct nc_env *env = run->o.ctx->env;
    struct nc_verr *errs = nc_verr_new();
    struct nc_dominfo info = {0};
    struct nc_domain_def def;
    struct applied a = {0};
    struct nc_move mv;
    char config_hash[17], base_hash[17], msg[512];
    int64_t backoff_ms = 0;
    int r, ret = 0, driven = 0;

    if (!errs)
        return -ENOMEM;
    if (nc_vm_spec_parse(value, run->o.ns, run->o.name, &run->spec, errs) < 0) {
        /* Every node says the same of an invalid spec, so the status names
         * none (else they would take turns rewriting it). */
        r = nc_run_report_invalid(
            &run->o, nc_status_new(run->o.old_status, run->o.generation, "Failed", run->o.now),
            errs);
        nc_verr_free(errs);
        return r;
    }
    nc_verr_free(errs);
    if (run->spec.runtime != NC_RUNTIME_VM) {
        run->hv = nc_env_runtime(env, run->spec.runtime);
        run->console_log[0] = '\0';
    }
    if (moving(run, &mv))
        return strcmp(mv.source, env->node) == 0 && run->o.old_status
                   ? report_migrating(run, &mv)
                   : 0;
    if (left_to_others(run, ret_requeue_ms))
        return 0;
    if ((r = apply_instancetype(run, msg, sizeof(msg))) < 0) {
        bool missing = r == -ENOENT;

        if (r == -ENOMEM)
            return r;
        if (missing)
            *ret_requeue_ms = DEPENDENCY_POLL_MS; /* its creation queues the VM too */
        /* Every node says the same, so the status names none. */
        return nc_run_report_not_ready(
            &run->o,
            nc_status_new(run->o.old_status, run->o.generation, missing ? "Pending" : "Failed",
                          run->o.now),
            missing                                      ? "WaitingForInstanceType"
            : strncmp(msg, "spec.instancetype", 17) == 0 ? "InstanceTypeInvalid"
                                                         : "InstanceTypeConflict",
            msg, !missing);
    }
    if ((r = placed_here(run)) != 0 || (r = prerequisites(run, ret_requeue_ms)) != 0) {
        if (run->status_behind)
            *ret_requeue_ms = STATUS_CATCH_UP_MS;
        return r < 0 ? r : 0;
    }
    if ((r = leave_other_runtime(run)) < 0)
        goto libvirt_error;
    if ((r = nc_cloudinit_seed(&run->o, &run->spec, run->ifs, run->domname, run->seed,
                               sizeof(run->seed), run->instance_id)) < 0) {
        snprintf(msg, sizeof(msg), "spec.cloudInit: cannot make the seed: %s", nc_drv_errmsg());
        nc_warn(run->o.key, "%s", msg);
        *ret_requeue_ms = POLL_MS;
        return report_not_ready(run, "Provisioning", "CloudInitSeedFailed", msg, NULL);
    }

    def = machine(run);
    nc_domain_config_hash(&def, config_hash, base_hash);
    if ((r = define(run, &info, config_hash, base_hash, &a.exists, &a.defined, &ret)) > 0)
        return ret;
    /* Asked again once the domain's state is known: a snapshot or restore
     * says InProgress before it pauses or stops the guest, so a state it
     * brought is never taken for drift. */
    if (r == 0 && left_to_others(run, ret_requeue_ms))
        return 0;
    if (r == 0 && (r = restart_request(run, &info)) < 0)
        return r;
    /* A new definition runs, whatever the last one's exit was. */
    if (r == 0 && a.defined && run->proc_dir[0])
        nc_process_exit_forget(run->proc_dir);
    if (r < 0 || (driven = drive_state(run, &info, config_hash, base_hash, a.exists,
                                       &a.restarted, &a.hotplugged, &backoff_ms)) < 0 ||
        (r = nc_hv_lookup(run->hv, run->domname, &info)) < 0) {
        r = r < 0 ? r : driven;
        goto libvirt_error;
    }
    if (run->spec.runtime == NC_RUNTIME_VM &&
        (r = nc_tuning_apply(&run->o, run->domname, &run->spec, run->pins, &run->tuning)) < 0)
        goto libvirt_error;
    if (run->hv->caps.taps && info.state != NC_DOM_SHUTOFF &&
        (r = attach_taps(run, msg, sizeof(msg))) < 0) {
        nc_warn(run->o.key, "%s", msg);
        *ret_requeue_ms = POLL_MS;
        return report_not_ready(run, phase_of(info.state), "NetworkAttachFailed", msg, &info);
    }
    a.stale = info.state != NC_DOM_SHUTOFF && info.live_config[0] &&
              strcmp(info.live_config, config_hash) != 0;
    /* Seeds no definition names any more: the domain has the new one. */
    if (!a.stale && (a.defined || a.restarted) &&
        nc_cloudinit_prune(env, run->domname, run->seed) < 0)
        nc_warn(run->o.key, "%s", nc_drv_errmsg());
    if ((r = report_domain(run, &info, &a, ret_requeue_ms)) == 0 && backoff_ms)
        *ret_requeue_ms = backoff_ms;
    else if (r == 0 && !run->completed &&
             (driven > 0 || a.stale || !state_matches(run->spec.run_state, info.state)))
        *ret_requeue_ms = POLL_MS;
    else if (r == 0 && !*ret_requeue_ms && run->spec.runtime == NC_RUNTIME_PROCESS &&
             info.state == NC_DOM_RUNNING)
        *ret_requeue_ms = PROCESS_RELIST_MS;
    return r;

libvirt_error:
    snprintf(msg, sizeof(msg), "%s", nc_drv_errmsg());
    /* Podman's errors say "podman: " already. */
    bool podman = run->spec.runtime == NC_RUNTIME_CONTAINER;
    nc_warn(run->o.key, "%s%s", podman ? "" : "libvirt: ", msg);
    if (report_not_ready(run, a.exists ? phase_of(info.state) : "Provisioning",
                         podman ? "PodmanError" : "LibvirtError", msg, NULL) == -ESTALE)
        return 0;
    return r;
}

/* True when array @list has an item equal to @item. */
static bool
has_item(const cJSON *list, const cJSON *item)
{
    const cJSON *e;

    cJSON_ArrayForEach(e, list)
        if (cJSON_Compare(e, item, true))
            return true;
    return false;
}

/* The Volumes and Networks whose entry in the status' @member (disks[],
 * interfaces[]) came, went or changed look again: a Volume's attachedTo,
 * a Network's DHCP hosts, a deletion waiting for this VM. */
static void
enqueue_changes(struct vm_run *run, const char *member, const char *kind, const cJSON *before)
{
    const cJSON *after = cJSON_GetObjectItem(run->o.old_status, member);
    const cJSON *lists[2][2] = {{before, after}, {after, before}}, *d;

    for (int i = 0; i < 2; i++) {
        cJSON_ArrayForEach(d, lists[i][0]) {
            const char *v = cJSON_GetStringValue(cJSON_GetObjectItem(d, kind));

            if (v && !has_item(lists[i][1], d))
                nc_run_enqueue(&run->o, kind, v);
        }
    }
}

static int
reconcile(struct nc_ctx *ctx, const char *ns, const char *name, int64_t *ret_requeue_ms)
{
    struct nc_env *env = ctx->env;
    struct vm_run run = {0};
    char *value = NULL;
    int r;

    *ret_requeue_ms = 0;
    run.hv = env->hv;
    nc_domain_name(env->install_hash, ns, name, run.domname);
    if (env->hv->caps.console_log)
        snprintf(run.console_log, sizeof(run.console_log), "%s/%s.log", env->console_dir,
                 run.domname);
    r = nc_run_begin(&run.o, ctx, ns, "vm", name);
    if (r == 0) {
        cJSON *disks = cJSON_Duplicate(cJSON_GetObjectItem(run.o.old_status, "disks"), true);
        cJSON *ifaces = cJSON_Duplicate(cJSON_GetObjectItem(run.o.old_status, "interfaces"), true);

        r = nc_run_spec(&run.o, &value);
        if (r == -ENOENT)
            r = reconcile_deleted(&run, ret_requeue_ms);
        else if (r == 0)
            r = reconcile_spec(&run, value, ret_requeue_ms);
        enqueue_changes(&run, "disks", "volume", disks);
        enqueue_changes(&run, "interfaces", "network", ifaces);
        cJSON_Delete(disks);
        cJSON_Delete(ifaces);
    }
    if (r == -ESTALE)
        r = 0; /* the newer spec is queued already */
    free(value);
    nc_run_end(&run.o);
    nc_vm_spec_clear(&run.spec);
    for (unsigned i = 0; i < NC_VM_MAX_ENV; i++)
        free(run.environ[i]);
    cJSON_Delete(run.restart);
    cJSON_Delete(run.instancetype);
    nc_tuning_clear(&run.tuning);
    return r;
}

static void
on_owned(const char *domname, const struct nc_owner *o, void *data)
{
    struct nc_key_sink *lc = data;
    char key[160];

    (void)domname;
    if (strcmp(o->kind, "vm") != 0 || strcmp(o->cluster, lc->env->cluster) != 0 ||
        strcmp(o->prefix, lc->env->prefix) != 0 || !nc_is_dns_label(o->ns) ||
        !nc_is_dns_label(o->name))
        return;
    snprintf(key, sizeof(key), "%s/vm/%s", o->ns, o->name);
    lc->fn(lc->data, key);
}

static int
list_actual(struct nc_ctx *ctx, void (*fn)(void *data, const char *key), void *data)
{
    struct nc_key_sink lc = {ctx->env, fn, data};
    int r = 0;

    for (int rt = 0; rt < NC_RUNTIME_COUNT && r == 0; rt++)
        if (nc_env_runtime(ctx->env, rt))
            r = nc_hv_list_owned(nc_env_runtime(ctx->env, rt), on_owned, &lc);
    return r;
}

static void
state_fini(struct nc_env *env)
{
    env->vm = state_free(env->vm);
}

const struct nc_reconciler nc_vm_reconciler = {
    .kind = "vm",
    .init = state_init,
    .fini = state_fini,
    .reconcile = reconcile,
    .list_actual = list_actual,
};
