/*
 * One reconcile of a Volume: validate the spec and what it depends on (its
 * pool, its source image or Volume), observe the libvirt volume, create or
 * grow it, report status. A Volume that VMs use is not deleted under them:
 * its deletion waits, naming them, and the VM reconciler queues the Volume
 * again when a VM lets go.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/log.h"
#include "drivers/storage.h"
#include "reconcilers/hostpath.h"
#include "reconcilers/moves.h"
#include "reconcilers/run.h"
#include "reconcilers/snapshot.h"
#include "reconcilers/status.h"
#include "reconcilers/users.h"
#include "reconcilers/volume.h"
#include "schema/quantity.h"
#include "schema/vm.h"
#include "schema/volume.h"

#define DEPENDENCY_POLL_MS 10000
#define LEFT_POLL_MS 2000 /* how often a left copy's VMs are looked at */
#define MAX_CLONE_CHAIN 32

struct volume_run {
    struct nc_run o;
    char volname[NC_DOMAIN_NAME_MAX]; /* in the pool: nc-HASH.NS.NAME */
    struct nc_volume_spec spec;
    cJSON *users; /* names of the VMs using it, sorted */
    bool here;    /* it lives on this node (home()) */
};

/* The VMs using this Volume, sorted, so the status does not flap. */
static cJSON *
users_of(struct volume_run *run)
{
    return nc_vm_users_sorted(run->o.ctx->env, NC_USE_VOLUME, run->o.ns, run->o.name);
}

struct clones_ctx {
    struct volume_run *run;
    char prefix[320];
};

static void
on_volume_spec(void *data, const char *key)
{
    struct clones_ctx *cc = data;
    struct nc_volume_spec spec;
    struct nc_verr *e;
    const char *name = key + strlen(cc->prefix);
    char *value = NULL;
    int64_t rev;

    if (strncmp(key, cc->prefix, strlen(cc->prefix)) != 0 || strchr(name, '/') ||
        nc_informer_get(cc->run->o.ctx->env->specs, key, &value, &rev) < 0)
        return;
    e = nc_verr_new();
    if (e && nc_volume_spec_parse(value, cc->run->o.ns, name, &spec, e) == 0) {
        if (spec.source == NC_SRC_VOLUME && strcmp(spec.volume, cc->run->o.name) == 0)
            nc_run_enqueue(&cc->run->o, "volume", name);
        nc_volume_spec_clear(&spec);
    }
    nc_verr_free(e);
    free(value);
}

/* This Volume became Ready or stopped being so: the VMs that use it and
 * the Volumes to be copied from it look again, without waiting for a
 * poll. */
static void
enqueue_dependents(struct volume_run *run)
{
    struct nc_env *env = run->o.ctx->env;
    struct clones_ctx cc = {.run = run};

    nc_vm_users_enqueue(&run->o, NC_USE_VOLUME);
    snprintf(cc.prefix, sizeof(cc.prefix), "%sspec/%s/volume/", env->prefix, run->o.ns);
    nc_informer_foreach(env->specs, on_volume_spec, &cc);
}

/* A status with what libvirt says of the volume, when it exists. */
static cJSON *
status_new(struct volume_run *run, const char *phase, const struct nc_volinfo *info)
{
    cJSON *s = nc_status_new(run->o.old_status, run->o.generation, phase, run->o.now);

    /* Only the Volume's node names itself; what every node would say the
     * same (an invalid spec, no consumer yet) names none. */
    if (run->here)
        cJSON_AddStringToObject(s, "node", run->o.ctx->env->node);
    cJSON_AddStringToObject(s, "pool", run->spec.pool);
    cJSON_AddStringToObject(s, "volume", run->volname);
    if (info) {
        cJSON_AddStringToObject(s, "path", info->path);
        cJSON_AddNumberToObject(s, "capacity", (double)info->capacity);
        cJSON_AddNumberToObject(s, "allocation", (double)info->allocation);
        cJSON_AddStringToObject(s, "format", info->format);
        if (info->backing[0])
            cJSON_AddStringToObject(s, "backingFile", info->backing);
    }
    if (run->users)
        cJSON_AddItemReferenceToObject(s, "attachedTo", run->users);
    return s;
}

/* Reports a phase with Ready=False (@info: the volume, when it exists);
 * with @warn, a Warning event when that is news. */
static __attribute__((warn_unused_result)) int
report_not_ready(struct volume_run *run, const char *phase, const char *reason,
                 const char *message, const struct nc_volinfo *info, bool warn)
{
    return nc_run_report_not_ready(&run->o, status_new(run, phase, info), reason, message, warn);
}

static bool
ready_before(const struct volume_run *run)
{
    return nc_status_condition_true(run->o.old_status, "Ready");
}

/* The pool the last status recorded, where the volume was made. */
static const char *
status_pool(const cJSON *status)
{
    const char *p = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(status, "pool"));

    return p && *p ? p : NULL;
}

/*
 * The status when storage did not answer, which says nothing of the
 * volume: what the last status (this node's, in the same pool) knew of it,
 * its path, size and format, stays. The other nodes read where the Volume
 * lives from its path (home()), and a node holding a copy a move left
 * deletes it only once the Volume's node has one (left_behind()).
 */
static cJSON *
status_unanswered(struct volume_run *run)
{
    static const char *const known[] = {"path", "capacity", "allocation", "format", "backingFile"};
    cJSON *s = status_new(run, ready_before(run) ? "Ready" : "Provisioning", NULL);
    const char *made = cJSON_GetStringValue(cJSON_GetObjectItem(run->o.old_status, "node"));
    const char *pool = status_pool(run->o.old_status);

    if (s && run->here && made && strcmp(made, run->o.ctx->env->node) == 0 && pool &&
        strcmp(pool, run->spec.pool) == 0)
        for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
            const cJSON *v = cJSON_GetObjectItem(run->o.old_status, known[i]);

            if (v)
                cJSON_AddItemToObject(s, known[i], cJSON_Duplicate(v, false));
        }
    return s;
}

bool
nc_volume_made_on(struct nc_env *env, const char *ns, const char *name, char *node,
                  size_t nodesz)
{
    char *value = NULL;

    node[0] = '\0';
    if (nc_informer_getf(env->statuses, &value, NULL, "%sstatus/%s/volume/%s", env->prefix, ns,
                         name) == 0) {
        cJSON *st = cJSON_Parse(value);
        const char *made = cJSON_GetStringValue(cJSON_GetObjectItem(st, "node"));

        if (made && cJSON_GetStringValue(cJSON_GetObjectItem(st, "path")))
            snprintf(node, nodesz, "%s", made);
        cJSON_Delete(st);
    }
    free(value);
    return node[0] != '\0';
}

bool
nc_pool_shared_here(struct nc_env *env, const char *pool)
{
    cJSON *reg = nc_run_node(env, env->node), *p;
    bool shared = false;

    cJSON_ArrayForEach(p, cJSON_GetObjectItem(reg, "pools")) {
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(p, "name"));

        if (name && strcmp(name, pool) == 0)
            shared = cJSON_IsTrue(cJSON_GetObjectItem(p, "shared"));
    }
    cJSON_Delete(reg);
    return shared;
}

/* Whether VM @vm runs on node @node, as that node reports it: defined
 * there and brought to its runState. */
static bool
taken_over(struct volume_run *run, const char *vm, const char *node)
{
    cJSON *st = nc_run_status_of(&run->o, "vm", vm);
    const char *at, *phase;
    bool yes;

    at = cJSON_GetStringValue(cJSON_GetObjectItem(st, "node"));
    phase = cJSON_GetStringValue(cJSON_GetObjectItem(st, "phase"));
    yes = at && phase && strcmp(at, node) == 0 &&
          (strcmp(phase, "Running") == 0 || strcmp(phase, "Stopped") == 0 ||
           strcmp(phase, "Paused") == 0);
    cJSON_Delete(st);
    return yes;
}

/* A libvirt call about a copy left here failed with @r: the status is
 * node @home's to write, an event anyone's. */
#define left_failed(run, r, home)                                                                \
    nc_run_warn(&(run)->o, (r), "LibvirtError",                                                  \
                "node %s: libvirt: %s; the copy a migration left here (the Volume lives on "     \
                "node %s) is looked at again",                                                   \
                (run)->o.ctx->env->node, nc_drv_errmsg(), (home))

/*
 * A copy of the Volume on this node's local storage that is not its node:
 * what a migration left, the source's once the disk moved, or the
 * target's empty one when the move failed. Deleted once no VM using the
 * Volume is moving and every one runs where the Volume lives (a cold
 * move's target starts the guest after the move ended: until it runs
 * there, this copy is the one that surely works); 0 or a negative errno.
 */
static int
left_behind(struct volume_run *run, int64_t *ret_requeue_ms)
{
    struct nc_env *env = run->o.ctx->env;
    const char *made = cJSON_GetStringValue(cJSON_GetObjectItem(run->o.old_status, "node"));
    const char *pool = status_pool(run->o.old_status), *now;
    struct nc_volinfo info;
    struct nc_move mv;
    struct nc_kv kv;
    const cJSON *u;
    cJSON *st;
    bool mine;
    int r;

    if (!made || !cJSON_GetObjectItem(run->o.old_status, "path") || !pool ||
        strcmp(made, env->node) == 0 || nc_pool_shared_here(env, pool))
        return 0;
    cJSON_ArrayForEach(u, run->users) {
        if (!cJSON_IsString(u))
            continue;
        if (nc_moves_of_vm(env->moves, run->o.ns, u->valuestring, &mv))
            return 0;
        if (!taken_over(run, u->valuestring, made)) {
            *ret_requeue_ms = LEFT_POLL_MS;
            return 0;
        }
    }
    r = nc_st_lookup(env->st, pool, run->volname, &info);
    if (r == -ENOENT)
        return 0;
    if (r < 0)
        return left_failed(run, r, made);
    /* A deletion is for good: what etcd itself says, not the cache, which
     * may not have brought the move that made this node the home yet. */
    if ((r = nc_etcd_get(run->o.ctx->etcd, run->o.status_key, &kv, NULL)) < 0)
        return r == -ENOENT ? 0 : r;
    st = cJSON_Parse(kv.value);
    nc_kv_clear(&kv);
    now = cJSON_GetStringValue(cJSON_GetObjectItem(st, "node"));
    mine = !now || strcmp(now, env->node) == 0;
    cJSON_Delete(st);
    if (mine)
        return 0;
    r = nc_st_delete(env->st, pool, run->volname);
    if (r < 0 && r != -ENOENT)
        return left_failed(run, r, made);
    nc_info(run->o.key, "volume %s in pool %s deleted: a copy a migration left here; the "
                        "Volume lives on node %s",
            run->volname, pool, made);
    return 0;
}

/*
 * The node the Volume lives on (schema/README.md §7): spec.node; else the
 * one its status says made it; else, for a copy of another Volume, that
 * one's node; else the node of the first VM using it (by name) that has
 * one, as Kubernetes' WaitForFirstConsumer; else, when a single node is
 * registered, this one. "" when none yet. Sets run->here.
 */
static void
home(struct volume_run *run, char *where, size_t wheresz)
{
    struct nc_env *env = run->o.ctx->env;
    const char *made = cJSON_GetStringValue(cJSON_GetObjectItem(run->o.old_status, "node"));
    const cJSON *u;

    where[0] = '\0';
    if (run->spec.node[0])
        snprintf(where, wheresz, "%s", run->spec.node);
    else if (made && cJSON_GetObjectItem(run->o.old_status, "path"))
        snprintf(where, wheresz, "%s", made);
    else if (run->spec.source == NC_SRC_VOLUME)
        nc_volume_made_on(env, run->o.ns, run->spec.volume, where, wheresz);
    else
        cJSON_ArrayForEach(u, run->users)
            if (cJSON_IsString(u) && nc_vm_node(env, run->o.ns, u->valuestring, where, wheresz))
                break;
    /* A single node has no choice to wait for. */
    if (!where[0] && nc_informer_size(env->nodes) <= 1)
        snprintf(where, wheresz, "%s", env->node);
    run->here = strcmp(where, env->node) == 0;
}

struct pool_search {
    struct nc_env *env;
    const char *volname;
    char found[NC_NAME_MAX + 1]; /* the first pool that holds it */
};

static void
search_pool(const char *pool, void *data)
{
    struct pool_search *ps = data;
    struct nc_volinfo info;

    if (!ps->found[0] && nc_st_lookup(ps->env->st, pool, ps->volname, &info) == 0)
        snprintf(ps->found, sizeof(ps->found), "%s", pool);
}

/* Whether node @node is registered (alive). */
static bool
registered(struct nc_env *env, const char *node)
{
    cJSON *reg = nc_run_node(env, node);
    bool yes = reg != NULL;

    cJSON_Delete(reg);
    return yes;
}

static int
reconcile_deleted(struct volume_run *run)
{
    struct nc_env *env = run->o.ctx->env;
    const char *pool = status_pool(run->o.old_status);
    const char *made = cJSON_GetStringValue(cJSON_GetObjectItem(run->o.old_status, "node"));
    char msg[512], users[384];
    struct pool_search ps = {env, run->volname, ""};
    struct nc_volinfo info;
    int r;

    if (!run->o.old_status) {
        /* No status: an orphan, left alone, unless it may be collected
         * (deleted while this node was taken for dead). */
        if (!nc_run_may_collect(env) || nc_st_pools(env->st, search_pool, &ps) < 0 ||
            !ps.found[0])
            return 0;
        pool = ps.found;
        made = env->node;
    }
    /* The node that made it deletes it; one that made none, its status.
     * On a shared pool, a node that shares it stands in for a maker gone. */
    run->here = made && (strcmp(made, env->node) == 0 ||
                         (pool && !registered(env, made) && nc_pool_shared_here(env, pool)));
    if (made && !run->here)
        return 0;
    snprintf(run->spec.pool, sizeof(run->spec.pool), "%s", pool ? pool : "");
    run->users = users_of(run);
    if (cJSON_GetArraySize(run->users) > 0) {
        nc_users_join(run->users, users, sizeof(users));
        snprintf(msg, sizeof(msg), "deletion waits: in use by VM %s", users);
        return report_not_ready(run, "Deleting", "InUse", msg, NULL, false);
    }
    /* Not under the snapshots it holds; deleting them too lets it go
     * (each queues it). */
    if (nc_snapshots_of_volume(env, run->o.ns, run->o.name, users, sizeof(users)) > 0) {
        snprintf(msg, sizeof(msg), "waiting for its Snapshots to be deleted: %s", users);
        return report_not_ready(run, "Deleting", "WaitingForSnapshots", msg, NULL, false);
    }
    if (pool) {
        r = nc_st_lookup(env->st, pool, run->volname, &info);
        if (r == 0 && (r = nc_st_delete(env->st, pool, run->volname)) == 0)
            nc_run_event(&run->o, "Normal", "Deleted", "volume %s deleted from pool %s",
                         run->volname, pool);
        if (r < 0 && r != -ENOENT) {
            /* Said in the status, then retried with backoff. */
            snprintf(msg, sizeof(msg), "deleting volume %s from pool %s: %s", run->volname, pool,
                     nc_drv_errmsg());
            nc_warn(run->o.key, "%s", msg);
            if (report_not_ready(run, "Deleting", "DeleteFailed", msg, NULL, true) == -ESTALE)
                return -ESTALE; /* the spec came back meanwhile: that is queued */
            return r;
        }
    }
    r = nc_run_delete_status(&run->o);
    if (r == 0)
        nc_info(run->o.key, "deleted");
    return r;
}

int
nc_volume_actual(struct nc_env *env, const char *ns, const char *name,
                 char ret_pool[NC_NAME_MAX + 1], struct nc_volinfo *ret)
{
    struct nc_verr *errs = nc_verr_new();
    struct nc_volume_spec spec;
    char *key = NULL, *value = NULL, volname[NC_DOMAIN_NAME_MAX];
    int64_t rev;
    int r = -ENOMEM;

    if (!errs || asprintf(&key, "%sspec/%s/volume/%s", env->prefix, ns, name) < 0)
        goto out;
    if ((r = nc_informer_get(env->specs, key, &value, &rev)) < 0)
        goto out;
    if (nc_volume_spec_parse(value, ns, name, &spec, errs) < 0) {
        r = -ENOENT;
        goto out;
    }
    nc_domain_name(env->install_hash, ns, name, volname);
    r = nc_st_lookup(env->st, spec.pool, volname, ret);
    if (r == 0)
        snprintf(ret_pool, NC_NAME_MAX + 1, "%s", spec.pool);
    nc_volume_spec_clear(&spec);
out:
    nc_verr_free(errs);
    free(key);
    free(value);
    return r;
}

/* True when the source Volume is Ready (its status says so, and libvirt
 * has its volume, whose pool goes to @ret_pool), else false with why not
 * in @why. */
static bool
source_ready(struct volume_run *run, char ret_pool[NC_NAME_MAX + 1], char *why, size_t whysz)
{
    struct nc_env *env = run->o.ctx->env;
    struct nc_volinfo info;
    char *key = NULL, *value = NULL;
    int64_t rev;
    cJSON *st = NULL;
    bool ready;
    int r;

    if (asprintf(&key, "%sstatus/%s/volume/%s", env->prefix, run->o.ns, run->spec.volume) < 0)
        return false;
    r = nc_informer_get(env->statuses, key, &value, &rev);
    free(key);
    if (r == 0)
        st = cJSON_Parse(value);
    free(value);
    ready = st && nc_status_condition_true(st, "Ready") &&
            nc_volume_actual(env, run->o.ns, run->spec.volume, ret_pool, &info) == 0;
    cJSON_Delete(st);
    if (!ready)
        snprintf(why, whysz, "waiting for volume \"%s\" (spec.source.volume): %s",
                 run->spec.volume, r == -ENOENT ? "it does not exist" : "it is not Ready");
    return ready;
}

/* Follows spec.source.volume from Volume to Volume; a chain that comes
 * back is a cycle, reported as "a -> b -> a" in @msg. */
static bool
clone_cycle(struct volume_run *run, char *msg, size_t msgsz)
{
    struct nc_env *env = run->o.ctx->env;
    char cur[NC_NAME_MAX + 1];
    size_t len;

    snprintf(cur, sizeof(cur), "%s", run->spec.volume);
    len = (size_t)snprintf(msg, msgsz, "%s -> %s", run->o.name, cur);
    for (int i = 0; i < MAX_CLONE_CHAIN; i++) {
        struct nc_volume_spec next;
        struct nc_verr *e = nc_verr_new();
        char *key = NULL, *value = NULL;
        int64_t rev;
        int r;

        if (strcmp(cur, run->o.name) == 0) {
            nc_verr_free(e);
            return true;
        }
        if (!e || asprintf(&key, "%sspec/%s/volume/%s", env->prefix, run->o.ns, cur) < 0) {
            nc_verr_free(e);
            return false;
        }
        r = nc_informer_get(env->specs, key, &value, &rev);
        free(key);
        r = r == 0 ? nc_volume_spec_parse(value, run->o.ns, cur, &next, e) : r;
        free(value);
        nc_verr_free(e);
        if (r < 0 || next.source != NC_SRC_VOLUME) {
            if (r == 0)
                nc_volume_spec_clear(&next);
            return false;
        }
        snprintf(cur, sizeof(cur), "%s", next.volume);
        nc_volume_spec_clear(&next);
        if (len < msgsz)
            len += (size_t)snprintf(msg + len, msgsz - len, " -> %s", cur);
    }
    return false;
}

/* Checks spec.source.image on this node: a regular file inside the
 * image folder once symbolic links are resolved (reconcilers/hostpath.h),
 * in a format QEMU can use as a backing file. Returns NULL or why not, in
 * @why. */
static const char *
image_problem(struct volume_run *run, char *resolved, const char **format, char *why,
              size_t whysz)
{
    if (nc_hostpath_resolve(run->o.ctx->env->image_dir, "image folder (--image-dir)",
                            run->spec.image, resolved, why, whysz))
        return why;
    if (nc_st_image_format(resolved, format) < 0) {
        snprintf(why, whysz, "cannot be read");
        return why;
    }
    return NULL;
}

static const char *
format_name(enum nc_vol_format f)
{
    return nc_vol_format_names[f];
}

/* Grows the volume; through the running guest when one has it open, so
 * the guest sees the new size at once and QEMU keeps its image consistent. */
static int
grow(struct volume_run *run, const struct nc_volinfo *info)
{
    struct nc_env *env = run->o.ctx->env;
    char size[32];

    for (const cJSON *u = run->users ? run->users->child : NULL; u; u = u->next) {
        char domname[NC_DOMAIN_NAME_MAX];
        struct nc_dominfo di;

        nc_domain_name(env->install_hash, run->o.ns, u->valuestring, domname);
        if (nc_hv_lookup(env->hv, domname, &di) == 0 && di.state != NC_DOM_SHUTOFF) {
            if (nc_hv_block_resize(env->hv, domname, info->path, run->spec.size) < 0)
                return -EIO;
            nc_run_event(&run->o, "Normal", "Resized", "volume grown to %s live, through VM %s",
                         nc_quantity_format(run->spec.size, size, sizeof(size)), u->valuestring);
            return 0;
        }
    }
    if (nc_st_resize(env->st, run->spec.pool, run->volname, run->spec.size) < 0)
        return -EIO;
    nc_run_event(&run->o, "Normal", "Resized", "volume grown to %s",
                 nc_quantity_format(run->spec.size, size, sizeof(size)));
    return 0;
}

static int
create(struct volume_run *run, const char *image, const char *image_format,
       const char *src_pool)
{
    struct nc_env *env = run->o.ctx->env;
    const char *format = format_name(run->spec.format);
    char size[32];
    int r;

    nc_quantity_format(run->spec.size, size, sizeof(size));
    switch (run->spec.source) {
    case NC_SRC_IMAGE:
        r = nc_st_create(env->st, run->spec.pool, run->volname, format, run->spec.size, image,
                         image_format);
        if (r == 0)
            nc_run_event(&run->o, "Normal", "Created",
                         "volume %s created in pool %s: %s %s over image %s", run->volname,
                         run->spec.pool, size, format, image);
        return r;
    case NC_SRC_VOLUME: {
        char src[NC_DOMAIN_NAME_MAX];

        nc_domain_name(env->install_hash, run->o.ns, run->spec.volume, src);
        r = nc_st_clone(env->st, run->spec.pool, run->volname, format, run->spec.size,
                        src_pool, src);
        if (r == 0)
            nc_run_event(&run->o, "Normal", "Created",
                         "volume %s created in pool %s: %s %s, a copy of volume %s",
                         run->volname, run->spec.pool, size, format, run->spec.volume);
        return r;
    }
    default:
        r = nc_st_create(env->st, run->spec.pool, run->volname, format, run->spec.size, NULL,
                         NULL);
        if (r == 0)
            nc_run_event(&run->o, "Normal", "Created", "volume %s created in pool %s: %s %s",
                         run->volname, run->spec.pool, size, format);
        return r;
    }
}

/*
 * What makes the spec impossible on this node: its pool missing or not
 * active, a copy of itself or a cycle of copies. 0 when there is none; 1
 * after reporting it, with the result in *@ret; or a negative errno from
 * storage.
 */
static int
unworkable(struct volume_run *run, int *ret)
{
    struct nc_env *env = run->o.ctx->env;
    char msg[1024], cycle[512];
    bool self;
    int r;

    r = nc_st_pool_check(env->st, run->spec.pool);
    if (r == -ENOENT || r == -ENODEV) {
        snprintf(msg, sizeof(msg), "spec.pool: storage pool \"%s\" %s on node %s",
                 run->spec.pool, r == -ENOENT ? "does not exist" : "is not active", env->node);
        *ret = report_not_ready(run, "Failed", "PoolMissing", msg, NULL, true);
        return 1;
    }
    if (r < 0 || run->spec.source != NC_SRC_VOLUME)
        return r;
    self = strcmp(run->spec.volume, run->o.name) == 0;
    if (!self && !clone_cycle(run, cycle, sizeof(cycle)))
        return 0;
    snprintf(msg, sizeof(msg), "spec.source.volume: %s%s",
             self ? "a volume cannot be a copy of itself" : "the sources form a cycle: ",
             self ? "" : cycle);
    *ret = report_not_ready(run, "Failed", "CloneCycle", msg, NULL, true);
    return 1;
}

/*
 * Creates the volume when storage has none, once its image is usable or
 * its source Volume Ready, reporting Provisioning first. Fills @info. 0;
 * 1 when the reconcile ends here (not yet, or never), with the result in
 * *@ret; or a negative errno from storage.
 */
static int
ensure_exists(struct volume_run *run, struct nc_volinfo *info, int64_t *ret_requeue_ms, int *ret)
{
    struct nc_env *env = run->o.ctx->env;
    char msg[1024], image[PATH_MAX], whybuf[160], src_pool[NC_NAME_MAX + 1] = "";
    const char *image_format = NULL, *why;
    int r;

    r = nc_st_lookup(env->st, run->spec.pool, run->volname, info);
    if (r != -ENOENT)
        return r;
    if (run->spec.source == NC_SRC_IMAGE &&
        (why = image_problem(run, image, &image_format, whybuf, sizeof(whybuf)))) {
        snprintf(msg, sizeof(msg), "spec.source.image: %s", why);
        *ret = report_not_ready(run, "Failed", "ImageMissing", msg, NULL, true);
        return 1;
    }
    if (run->spec.source == NC_SRC_VOLUME && !source_ready(run, src_pool, msg, sizeof(msg))) {
        *ret_requeue_ms = DEPENDENCY_POLL_MS;
        *ret = report_not_ready(run, "Pending", "WaitingForVolume", msg, NULL, false);
        return 1;
    }
    /* Status first: whatever instant a crash hits after this, the volume
     * about to exist has a status key naming it (schema/README.md §4). */
    if ((*ret = report_not_ready(run, "Provisioning", "Provisioning", "creating the volume", NULL,
                                 false)) < 0)
        return 1;
    if ((r = create(run, image, image_format, src_pool)) < 0)
        return r;
    return nc_st_lookup(env->st, run->spec.pool, run->volname, info);
}

/*
 * Brings the volume to the spec's size: it grows, but neither shrinks nor
 * changes format. 0; 1 after reporting a refusal, with the result in
 * *@ret; or a negative errno from storage.
 */
static int
ensure_size(struct volume_run *run, struct nc_volinfo *info, int *ret)
{
    char msg[1024], have[32], want[32];

    if (strcmp(info->format, format_name(run->spec.format)) != 0) {
        snprintf(msg, sizeof(msg),
                 "spec.format: the volume is %s; a format cannot change (delete the Volume and "
                 "create it again)",
                 info->format);
        *ret = report_not_ready(run, "Failed", "FormatChange", msg, info, true);
        return 1;
    }
    if (info->capacity > run->spec.size) {
        snprintf(msg, sizeof(msg),
                 "spec.size: %s is smaller than the volume's %s; volumes only grow, and this one "
                 "keeps its size and its data",
                 nc_quantity_format(run->spec.size, want, sizeof(want)),
                 nc_quantity_format(info->capacity, have, sizeof(have)));
        *ret = report_not_ready(run, "Failed", "ShrinkRefused", msg, info, true);
        return 1;
    }
    if (info->capacity == run->spec.size)
        return 0;
    if (grow(run, info) < 0)
        return -EIO;
    return nc_st_lookup(run->o.ctx->env->st, run->spec.pool, run->volname, info);
}

static int
reconcile_spec(struct volume_run *run, const char *value, int64_t *ret_requeue_ms)
{
    struct nc_verr *errs = nc_verr_new();
    struct nc_volinfo info;
    char msg[1024], where[254];
    cJSON *s;
    int r, ret = 0;

    if (!errs)
        return -ENOMEM;
    if (nc_volume_spec_parse(value, run->o.ns, run->o.name, &run->spec, errs) < 0) {
        r = nc_run_report_invalid(&run->o, status_new(run, "Failed", NULL), errs);
        nc_verr_free(errs);
        return r;
    }
    nc_verr_free(errs);
    run->users = users_of(run);
    home(run, where, sizeof(where));
    if (!where[0])
        return report_not_ready(run, "Pending", "WaitingForFirstConsumer",
                                "made on the node of the first VM that uses it, once it is placed",
                                NULL, false);
    if (!run->here)
        return left_behind(run, ret_requeue_ms); /* that node makes it and reports */
    if ((r = unworkable(run, &ret)) == 0 && (r = ensure_exists(run, &info, ret_requeue_ms, &ret)) == 0)
        r = ensure_size(run, &info, &ret);
    if (r > 0)
        return ret;
    if (r < 0)
        goto storage_error;
    s = status_new(run, "Ready", &info);
    nc_status_condition(s, run->o.old_status, "Ready", true, "VolumeReady",
                        "the volume exists with the spec's size and format", run->o.generation,
                        run->o.now);
    r = nc_run_report(&run->o, s);
    cJSON_Delete(s);
    return r;

storage_error:
    nc_warn(run->o.key, "%s", nc_drv_errmsg());
    snprintf(msg, sizeof(msg), "libvirt: %s", nc_drv_errmsg());
    r = nc_run_report_not_ready(&run->o, status_unanswered(run), "StorageError", msg, false);
    return r < 0 ? r : -EIO;
}

static int
reconcile(struct nc_ctx *ctx, const char *ns, const char *name, int64_t *ret_requeue_ms)
{
    struct volume_run run = {0};
    char *value = NULL;
    bool was_ready;
    int r;

    *ret_requeue_ms = 0;
    nc_domain_name(ctx->env->install_hash, ns, name, run.volname);
    r = nc_run_begin(&run.o, ctx, ns, "volume", name);
    if (r == 0) {
        was_ready = ready_before(&run);
        r = nc_run_spec(&run.o, &value);
        if (r == -ENOENT)
            r = reconcile_deleted(&run);
        else if (r == 0)
            r = reconcile_spec(&run, value, ret_requeue_ms);
        /* The VMs that wait for it, or that it now holds back, look again. */
        if (r == 0 && was_ready != ready_before(&run))
            enqueue_dependents(&run);
    }
    if (r == -ESTALE)
        r = 0;
    free(value);
    cJSON_Delete(run.users);
    nc_volume_spec_clear(&run.spec);
    nc_run_end(&run.o);
    return r;
}

static void
on_volume(const char *pool, const char *volname, void *data)
{
    struct nc_key_sink *lc = data;
    char ns[NC_NAME_MAX + 1], name[NC_NAME_MAX + 1], key[160];

    (void)pool;
    if (!nc_domain_name_parse(lc->env->install_hash, volname, ns, name))
        return;
    snprintf(key, sizeof(key), "%s/volume/%s", ns, name);
    lc->fn(lc->data, key);
}

/* Every volume named as this installation's, in every active pool. */
static int
list_actual(struct nc_ctx *ctx, void (*fn)(void *data, const char *key), void *data)
{
    struct nc_env *env = ctx->env;
    struct nc_key_sink lc = {env, fn, data};

    return nc_st_list(env->st, on_volume, &lc);
}

const struct nc_reconciler nc_volume_reconciler = {
    .kind = "volume",
    .reconcile = reconcile,
    .list_actual = list_actual,
};
