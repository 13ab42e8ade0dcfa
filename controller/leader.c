#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <uthash.h>
#include <utlist.h>

#include "controller/leader.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/names.h"
#include "core/node.h"
#include "reconcilers/instancetype.h"
#include "reconcilers/moves.h"
#include "reconcilers/snapshot.h"
#include "reconcilers/status.h"
#include "reconcilers/volume.h"
#include "schema/migration.h"
#include "schema/volume.h"

/* etcd's default --max-txn-ops is 128: a VM takes two ops (placement and
 * status) and two compares (spec and placement revisions), and the leader
 * key takes one compare. */
#define BATCH_MAX 63
#define WHY_MAX 512
#define RETRY_MS 100         /* after a plan met a newer state, or etcd failed */
#define PASS_INTERVAL_MS 20  /* the least time from one pass to the next */

/* A VM as the leader keeps it between passes. */
struct lvm {
    const char *ns, *name;  /* in key[] */
    bool valid;             /* its spec exists and is valid */
    int64_t gen;            /* the spec's mod_revision */
    enum nc_runtime runtime;
    unsigned vcpus;
    uint64_t memory;
    char *pinned;           /* spec.node, NULL when placed by the scheduler */
    struct nc_cpuset *cpus; /* spec.resources.pinning, NULL for none */
    unsigned n_cpus;
    struct nc_labels labels;
    struct nc_vm_placement *placement;
    unsigned n_volumes, n_networks;
    char (*volumes)[NC_NAME_MAX + 1];
    char (*networks)[NC_NAME_MAX + 1];
    char *placed;           /* the placement's node, NULL when there is none */
    int64_t placed_rev;     /* its mod_revision (or deletion), 0 when unknown */
    bool listed;            /* catch_up() found its placement in etcd */
    bool drain_asked;       /* a Migration off its drained node was written */
    /* The scheduler's view of it, and the node its requests are counted
     * on between passes (-1 for none): count(), uncount(). */
    struct nc_sched_vm sv;
    int counted;
    bool terms;             /* valid, with anti-affinity or spread terms */
    bool cand;              /* in the leader's cands: it needs a node */
    struct lvm *cprev, *cnext;
    UT_hash_handle hh;
    char key[];             /* "ns/name", then "ns": one allocation per VM */
};

/* What a node has placed on it (struct nc_sched_node's used_* fields),
 * saved before a pass and put back after it: what a pass accounts for
 * itself lasts only for the pass. */
struct usage {
    uint64_t used_vcpus, used_memory;
    struct nc_cpuset dedicated;
    unsigned n_dedicated, n_vms;
};

struct dirty {
    char *key;
    UT_hash_handle hh;
};

/* A node's name to its index in the nodes array. */
struct node_ix {
    const char *name; /* the node's own */
    int i;
    UT_hash_handle hh;
};

/* What one pass decided for one VM: a status, and a node unless it stays
 * where it is. */
struct decision {
    struct lvm *vm;
    const char *node;
    char *status;
};

struct nc_leader {
    struct nc_env *env;
    struct nc_leader_config cfg;
    struct nc_etcd *etcd;
    char *key; /* <prefix>leader/scheduler */
    size_t spec_len, status_len, placement_len, nodes_len, cordon_len;
    char *spec_prefix, *status_prefix, *placement_prefix, *nodes_prefix, *cordon_prefix;
    pthread_t thread;
    bool started;
    pthread_mutex_t lock; /* guards stopping, kicked, dirty, nodes_dirty */
    pthread_cond_t cond;
    bool stopping, kicked, nodes_dirty;
    struct dirty *dirty;
    struct dirty *mig_dirty; /* "ns/name" of Migrations whose spec or status changed */
    struct dirty *ns_dirty;  /* namespaces whose InstanceTypes changed: their VMs' sizes */
    struct dirty *vol_dirty; /* "ns/volume/name" of Volumes whose spec changed */
    _Atomic bool leading;
    _Atomic uint64_t placed_total;     /* for /metrics */
    _Atomic size_t unschedulable;
    _Atomic bool migs_waiting;         /* @migs is not empty */
    size_t pass_unschedulable;         /* counted by the pass in progress */
    int64_t create_rev; /* the leader key's, while leading */
    /* The loop thread's own. */
    struct lvm *vms;
    struct lvm *cands;  /* the VMs a pass looks at: without a node, or on one gone or drained */
    size_t n_terms;     /* VMs with anti-affinity or spread terms */
    struct dirty *migs; /* Migrations that may need the leader */
    struct dirty *orphans; /* "ns/kind/name" of VMs and Volumes whose spec is gone */
    struct nc_sched_node *nodes;
    unsigned n_nodes, cap_nodes;
    struct node_ix *node_map, *node_ixs; /* by name; the entries */
    char **alive; /* every registered node, parseable or not */
    unsigned n_alive;
    struct decision batch[BATCH_MAX];
    unsigned n_batch;
    bool quiet; /* pending() says nothing: the VM runs where it is */
};

static void
lvm_clear_spec(struct lvm *v)
{
    free(v->pinned);
    free(v->cpus);
    nc_labels_clear(&v->labels);
    nc_vm_placement_free(v->placement);
    free(v->volumes);
    free(v->networks);
    v->pinned = NULL;
    v->cpus = NULL;
    v->n_cpus = 0;
    v->placement = NULL;
    v->volumes = v->networks = NULL;
    v->n_volumes = v->n_networks = 0;
    v->valid = false;
}

static void
lvm_free(struct lvm *v)
{
    lvm_clear_spec(v);
    free(v->placed);
    free(v);
}

/* The VM @ns/@name (DNS labels both), added when new; NULL on out of memory. */
static struct lvm *
lvm_get(struct nc_leader *l, const char *ns, const char *name)
{
    char key[2 * NC_NAME_MAX + 2];
    size_t ns_len = strlen(ns), len;
    struct lvm *v;

    len = (size_t)snprintf(key, sizeof(key), "%s/%s", ns, name) + 1;
    HASH_FIND_STR(l->vms, key, v);
    if (v || !(v = calloc(1, sizeof(*v) + len + ns_len + 1)))
        return v;
    memcpy(v->key, key, len);
    memcpy(v->key + len, ns, ns_len + 1);
    v->ns = v->key + len;
    v->name = v->key + ns_len + 1;
    v->counted = -1;
    HASH_ADD_STR(l->vms, key, v);
    return v;
}

/* Reads the VM's spec from the cache into @v. */
static void
load_spec(struct nc_leader *l, struct lvm *v)
{
    struct nc_verr *errs = nc_verr_new();
    struct nc_vm_spec spec;
    char *value = NULL;
    int64_t rev;

    lvm_clear_spec(v);
    v->gen = 0;
    if (errs && nc_informer_getf(l->env->specs, &value, &rev, "%s%s/vm/%s", l->spec_prefix,
                                 v->ns, v->name) == 0) {
        v->gen = rev;
        char why[256];

        if (nc_vm_spec_parse(value, v->ns, v->name, &spec, errs) == 0 &&
            nc_instancetype_apply(l->env, v->ns, &spec, NULL, why, sizeof(why)) < 0) {
            /* Its size is not known: not placed (its status says why). */
            nc_vm_spec_clear(&spec);
        } else if (nc_verr_count(errs) == 0) {
            v->valid = true;
            v->runtime = spec.runtime;
            v->vcpus = spec.vcpus;
            v->memory = spec.memory;
            v->pinned = spec.node[0] ? strdup(spec.node) : NULL;
            if (spec.n_pinned && (v->cpus = malloc(sizeof(*v->cpus)))) {
                *v->cpus = spec.pinning;
                v->n_cpus = spec.n_pinned;
            }
            v->labels = spec.labels;
            v->placement = spec.placement;
            memset(&spec.labels, 0, sizeof(spec.labels));
            spec.placement = NULL;
            if (spec.n_disks)
                v->volumes = calloc(spec.n_disks, sizeof(*v->volumes));
            if (spec.n_ifaces)
                v->networks = calloc(spec.n_ifaces, sizeof(*v->networks));
            if ((spec.n_disks && !v->volumes) || (spec.n_ifaces && !v->networks) ||
                (spec.node[0] && !v->pinned) ||
                (spec.n_pinned && !v->cpus)) {
                lvm_clear_spec(v); /* out of memory: looked at again at the next resync */
            } else {
                for (unsigned i = 0; i < spec.n_disks; i++)
                    memcpy(v->volumes[v->n_volumes++], spec.disks[i].volume, NC_NAME_MAX + 1);
                for (unsigned i = 0; i < spec.n_ifaces; i++)
                    memcpy(v->networks[v->n_networks++], spec.ifaces[i].network,
                           NC_NAME_MAX + 1);
            }
            nc_vm_spec_clear(&spec);
        }
    }
    free(value);
    nc_verr_free(errs);
}

static bool
alive(const struct nc_leader *l, const char *node)
{
    for (unsigned i = 0; i < l->n_alive; i++)
        if (strcmp(l->alive[i], node) == 0)
            return true;
    return false;
}

static int
node_index(const struct nc_leader *l, const char *node)
{
    struct node_ix *ix = NULL;

    if (node)
        HASH_FIND_STR(l->node_map, node, ix);
    return ix ? ix->i : -1;
}

/* Where a VM is meant to run: spec.node, else its placement. */
static const char *
target(const struct lvm *v)
{
    return v->pinned ? v->pinned : v->placed;
}

static void
account(struct nc_leader *l, const struct lvm *v, int node, int sign)
{
    struct nc_sched s = {.nodes = l->nodes, .n_nodes = l->n_nodes};

    nc_sched_account(&s, &v->sv, node, sign);
}

/*
 * Between passes the leader keeps, for every node, what is placed on it,
 * and the list of VMs that need a node: a pass looks at those only, not
 * at every VM. uncount() takes a VM out of both before its spec or
 * placement changes; count() puts it back as it is now.
 */
static void
uncount(struct nc_leader *l, struct lvm *v)
{
    if (v->counted >= 0)
        account(l, v, v->counted, -1);
    l->n_terms -= v->terms;
    v->counted = -1;
    v->terms = false;
    if (v->cand)
        DL_DELETE2(l->cands, v, cprev, cnext);
    v->cand = false;
}

static void
count(struct nc_leader *l, struct lvm *v)
{
    v->sv = (struct nc_sched_vm){.ns = v->ns, .name = v->name, .runtime = v->runtime,
                                 .vcpus = v->vcpus,
                                 .memory = v->memory, .pinning = v->cpus,
                                 .n_pinned = v->n_cpus, .labels = &v->labels,
                                 .placement = v->placement, .node = -1};
    if (!v->valid)
        return;
    v->sv.node = v->counted = node_index(l, target(v));
    if (v->counted >= 0)
        account(l, v, v->counted, 1);
    v->terms = v->placement && (v->placement->n_anti || v->placement->spread_key[0]);
    l->n_terms += v->terms;
    v->cand = !v->pinned && (!v->placed || (v->counted >= 0 && l->nodes[v->counted].drained) ||
                             (v->counted < 0 && !alive(l, v->placed)));
    if (v->cand)
        DL_APPEND2(l->cands, v, cprev, cnext);
}

/* Counts every VM again, after the nodes or the placements were read. */
static void
recount_all(struct nc_leader *l)
{
    for (unsigned i = 0; i < l->n_nodes; i++) {
        l->nodes[i].used_vcpus = l->nodes[i].used_memory = l->nodes[i].n_vms = 0;
        l->nodes[i].n_dedicated = 0;
        memset(&l->nodes[i].dedicated, 0, sizeof(l->nodes[i].dedicated));
    }
    l->cands = NULL;
    l->n_terms = 0;
    for (struct lvm *v = l->vms; v; v = v->hh.next) {
        v->counted = -1;
        v->terms = v->cand = false;
        count(l, v);
    }
}

/* Takes what etcd says of the VM's placement (@value at @rev; NULL: none),
 * unless the leader already knows a newer state (its own writes). */
static void
set_placed(struct lvm *v, const char *value, int64_t rev)
{
    if (rev && rev < v->placed_rev)
        return;
    free(v->placed);
    v->placed = value ? strdup(value) : NULL;
    v->placed_rev = rev;
    v->drain_asked = false;
}

static void
load_placement(struct nc_leader *l, struct lvm *v)
{
    char *value = NULL;
    int64_t rev = 0;
    int r = nc_informer_getf(l->env->placements, &value, &rev, "%s%s/%s", l->placement_prefix,
                             v->ns, v->name);

    if (r == 0 || (r == -ENOENT && rev))
        set_placed(v, value, rev);
    free(value);
}

/* Adds @key to set @set (out of memory: the next resync looks again). */
static void
mark(struct dirty **set, const char *key)
{
    struct dirty *d;

    HASH_FIND_STR(*set, key, d);
    if (!d && (d = calloc(1, sizeof(*d)))) {
        if ((d->key = strdup(key)))
            HASH_ADD_KEYPTR(hh, *set, d->key, strlen(d->key), d);
        else
            free(d);
    }
}

static void
unmark(struct dirty **set, struct dirty *d)
{
    HASH_DEL(*set, d);
    free(d->key);
    free(d);
}

/* Looks again at the VM "ns/name" of a changed key. */
static void
refresh(struct nc_leader *l, const char *ns_name)
{
    char ns[NC_NAME_MAX + 1], name[NC_NAME_MAX + 1];
    const char *slash = strchr(ns_name, '/');
    struct lvm *v;

    if (!slash || slash - ns_name > NC_NAME_MAX || strlen(slash + 1) > NC_NAME_MAX)
        return;
    snprintf(ns, sizeof(ns), "%.*s", (int)(slash - ns_name), ns_name);
    snprintf(name, sizeof(name), "%s", slash + 1);
    if (!nc_is_dns_label(ns) || !nc_is_dns_label(name) || !(v = lvm_get(l, ns, name)))
        return;
    uncount(l, v);
    load_spec(l, v);
    load_placement(l, v);
    count(l, v);
    if (!v->gen && atomic_load(&l->leading)) {
        char orphan[2 * NC_NAME_MAX + 5];

        snprintf(orphan, sizeof(orphan), "%s/vm/%s", ns, name);
        mark(&l->orphans, orphan);
    }
    if (!v->gen && !v->placed) {
        uncount(l, v);
        HASH_DEL(l->vms, v);
        lvm_free(v);
    }
}

/* "ns/name" of spec key <prefix>spec/<ns>/vm/<name>; false for any other. */
static bool
vm_of_spec(const struct nc_leader *l, const char *key, char ns_name[2 * NC_NAME_MAX + 2])
{
    char ns[NC_NAME_MAX + 1], kind[16], name[NC_NAME_MAX + 1];

    if (strncmp(key, l->spec_prefix, l->spec_len) != 0 ||
        !nc_key_parse(key + l->spec_len, ns, kind, name) || strcmp(kind, "vm") != 0)
        return false;
    snprintf(ns_name, 2 * NC_NAME_MAX + 2, "%s/%s", ns, name);
    return true;
}

/* Whether @key is a VM's status key. */
static bool
vm_of_status(const struct nc_leader *l, const char *key)
{
    char ns[NC_NAME_MAX + 1], kind[16], name[NC_NAME_MAX + 1];

    return strncmp(key, l->status_prefix, l->status_len) == 0 &&
           nc_key_parse(key + l->status_len, ns, kind, name) && strcmp(kind, "vm") == 0;
}

/* "ns/name" of a Migration's spec or status key; false for any other. */
static bool
migration_of(const struct nc_leader *l, const char *key, char ns_name[2 * NC_NAME_MAX + 2])
{
    char ns[NC_NAME_MAX + 1], kind[16], name[NC_NAME_MAX + 1];
    size_t skip = strncmp(key, l->spec_prefix, l->spec_len) == 0       ? l->spec_len
                  : strncmp(key, l->status_prefix, l->status_len) == 0 ? l->status_len
                                                                       : 0;

    if (!skip || !nc_key_parse(key + skip, ns, kind, name) || strcmp(kind, "migration") != 0)
        return false;
    snprintf(ns_name, 2 * NC_NAME_MAX + 2, "%s/%s", ns, name);
    return true;
}

/* Whether @key is the spec key of an object of kind @want; its namespace
 * in @ns. */
static bool
spec_of_kind(const struct nc_leader *l, const char *key, const char *want,
             char ns[NC_NAME_MAX + 1])
{
    char kind[16], name[NC_NAME_MAX + 1];

    return strncmp(key, l->spec_prefix, l->spec_len) == 0 &&
           nc_key_parse(key + l->spec_len, ns, kind, name) && strcmp(kind, want) == 0;
}

void
nc_leader_note(struct nc_leader *l, const char *key)
{
    const char *rest = NULL;
    char ns_name[2 * NC_NAME_MAX + 2], mig[2 * NC_NAME_MAX + 2], it_ns[NC_NAME_MAX + 1];
    char vol_ns[NC_NAME_MAX + 1];
    bool is_mig, is_it, is_vol;

    if (!l)
        return;
    if (vm_of_spec(l, key, ns_name))
        rest = ns_name;
    else if (strncmp(key, l->placement_prefix, l->placement_len) == 0) {
        rest = key + l->placement_len;
    }
    is_mig = migration_of(l, key, mig);
    is_it = spec_of_kind(l, key, "instancetype", it_ns);
    is_vol = spec_of_kind(l, key, "volume", vol_ns);
    /* A VM's status (its phase) is news only to the Migrations waiting
     * for it, and a pass looks at those all. */
    if (vm_of_status(l, key) && !atomic_load(&l->migs_waiting))
        return;
    pthread_mutex_lock(&l->lock);
    if (is_it)
        mark(&l->ns_dirty, it_ns);
    if (rest && strlen(rest) < sizeof(ns_name))
        mark(&l->dirty, rest);
    if (is_mig)
        mark(&l->mig_dirty, mig);
    if (is_vol)
        mark(&l->vol_dirty, key + l->spec_len);
    if (strncmp(key, l->nodes_prefix, l->nodes_len) == 0 ||
        strncmp(key, l->cordon_prefix, l->cordon_len) == 0)
        l->nodes_dirty = true;
    l->kicked = true;
    pthread_cond_signal(&l->cond);
    pthread_mutex_unlock(&l->lock);
}

struct names {
    char **v;
    unsigned n, cap;
    size_t skip; /* prefix length to take off */
};

static void
collect_name(void *data, const char *key)
{
    struct names *ns = data;
    char **v;

    if (ns->n == ns->cap) {
        if (!(v = realloc(ns->v, (ns->cap * 2 + 8) * sizeof(*v))))
            return;
        ns->v = v;
        ns->cap = ns->cap * 2 + 8;
    }
    if ((ns->v[ns->n] = strdup(key + ns->skip)))
        ns->n++;
}

static void
free_nodes(struct nc_leader *l)
{
    HASH_CLEAR(hh, l->node_map);
    free(l->node_ixs);
    l->node_ixs = NULL;
    for (unsigned i = 0; i < l->n_nodes; i++)
        nc_sched_node_clear(&l->nodes[i]);
    for (unsigned i = 0; i < l->n_alive; i++)
        free(l->alive[i]);
    free(l->alive);
    l->alive = NULL;
    l->n_nodes = l->n_alive = 0;
}

/* The cordon of node @name: 0 none, 1 cordoned, 2 drained. */
static int
cordon_of(struct nc_leader *l, const char *name)
{
    char *value = NULL;
    int r = 0;

    if (nc_informer_getf(l->cfg.cordons, &value, NULL, "%s%s", l->cordon_prefix, name) == 0) {
        cJSON *c = cJSON_Parse(value);

        r = cJSON_IsTrue(cJSON_GetObjectItem(c, "drain")) ? 2 : 1;
        cJSON_Delete(c);
    }
    free(value);
    return r;
}

/* Reads every registration: the nodes that are alive, and the ones among
 * them that can be scheduled on. */
static int
load_nodes(struct nc_leader *l)
{
    struct names names = {.skip = l->nodes_len};

    free_nodes(l);
    nc_informer_foreach(l->env->nodes, collect_name, &names);
    if (names.n > l->cap_nodes) {
        struct nc_sched_node *n = realloc(l->nodes, names.n * sizeof(*n));

        if (!n) {
            for (unsigned i = 0; i < names.n; i++)
                free(names.v[i]);
            free(names.v);
            return -ENOMEM;
        }
        l->nodes = n;
        l->cap_nodes = names.n;
    }
    l->alive = names.v;
    l->n_alive = names.n;
    if (names.n && !(l->node_ixs = calloc(names.n, sizeof(*l->node_ixs))))
        return -ENOMEM;
    for (unsigned i = 0; i < names.n; i++) {
        char *value = NULL;

        if (nc_informer_getf(l->env->nodes, &value, NULL, "%s%s", l->nodes_prefix,
                             names.v[i]) == 0 &&
            nc_sched_node_parse(names.v[i], value, &l->nodes[l->n_nodes]) == 0) {
            int c = cordon_of(l, names.v[i]);

            l->nodes[l->n_nodes].cordoned = c > 0;
            l->nodes[l->n_nodes].drained = c == 2;
            l->node_ixs[l->n_nodes] = (struct node_ix){.name = l->nodes[l->n_nodes].name,
                                                       .i = (int)l->n_nodes};
            HASH_ADD_KEYPTR(hh, l->node_map, l->node_ixs[l->n_nodes].name,
                            strlen(l->node_ixs[l->n_nodes].name), &l->node_ixs[l->n_nodes]);
            l->n_nodes++;
        }
        free(value);
    }
    return 0;
}

/* A Volume as the scheduler needs it: its pool, whether that pool is
 * shared, and the node it is bound to ("" when none yet). */
struct vol {
    char pool[NC_SCHED_POOL_MAX + 1];
    char node[254];
    bool shared;
};

/* True when some live node calls @pool shared. */
static bool
pool_shared(const struct nc_leader *l, const char *pool)
{
    for (unsigned i = 0; i < l->n_nodes; i++) {
        const struct nc_sched_pool *p = nc_sched_node_pool(&l->nodes[i], pool);

        if (p)
            return p->shared;
    }
    return false;
}

/*
 * Reads Volume @name of @ns: -ENOENT when it has no spec, -EINVAL when its
 * spec is invalid. A Volume on a node-local pool is bound to its spec.node,
 * else to the node its status says it was made on (for a copy of another
 * Volume, the node of that one), else to the node of another VM that uses
 * it.
 */
static int
volume_of(struct nc_leader *l, const struct lvm *vm, const char *name, struct vol *ret)
{
    char *value = NULL, src[NC_NAME_MAX + 1] = "";
    struct nc_volume_spec spec;
    struct nc_verr *errs = nc_verr_new();
    int r = -ENOMEM;

    memset(ret, 0, sizeof(*ret));
    if (errs) {
        r = nc_informer_getf(l->env->specs, &value, NULL, "%s%s/volume/%s", l->spec_prefix,
                             vm->ns, name);
        if (r == 0 && nc_volume_spec_parse(value, vm->ns, name, &spec, errs) < 0)
            r = -EINVAL;
    }
    free(value);
    nc_verr_free(errs);
    if (r < 0)
        return r;
    snprintf(ret->pool, sizeof(ret->pool), "%s", spec.pool);
    ret->shared = pool_shared(l, ret->pool);
    if (!ret->shared)
        snprintf(ret->node, sizeof(ret->node), "%s", spec.node);
    if (spec.source == NC_SRC_VOLUME)
        snprintf(src, sizeof(src), "%s", spec.volume);
    nc_volume_spec_clear(&spec);
    /* Where it was made; a copy of another Volume is made where that one is. */
    if (ret->shared || ret->node[0] ||
        nc_volume_made_on(l->env, vm->ns, name, ret->node, sizeof(ret->node)) ||
        (src[0] && nc_volume_made_on(l->env, vm->ns, src, ret->node, sizeof(ret->node))))
        return 0;
    for (struct lvm *o = l->vms; o; o = o->hh.next) {
        if (o == vm || !target(o) || strcmp(o->ns, vm->ns) != 0)
            continue;
        for (unsigned i = 0; i < o->n_volumes; i++) {
            if (strcmp(o->volumes[i], name) == 0) {
                snprintf(ret->node, sizeof(ret->node), "%s", target(o));
                return 0;
            }
        }
    }
    return 0;
}

/*
 * The status the leader writes for a VM it placed on @node (NULL: one it
 * could not place, for @reason and @message), keeping what the VM's node
 * reported of its interfaces and disks, so its addresses stay its own.
 * NULL when nothing but timestamps would change (or out of memory).
 */
static char *
status_text(struct nc_leader *l, const struct lvm *v, const char *node, const char *reason,
            const char *message)
{
    char *value = NULL, *text = NULL, now[32];
    cJSON *old = NULL, *s;

    if (nc_informer_getf(l->env->statuses, &value, NULL, "%s%s/vm/%s", l->status_prefix, v->ns,
                         v->name) == 0)
        old = cJSON_Parse(value);
    free(value);
    nc_rfc3339_now(now);
    if (!(s = nc_status_new(old, v->gen, "Pending", now))) {
        cJSON_Delete(old);
        return NULL;
    }
    if (node)
        cJSON_AddStringToObject(s, "node", node);
    nc_status_condition(s, old, "Ready", false, node ? "Scheduled" : reason,
                        node ? "placed; waiting for the node to start it" : message, v->gen,
                        now);
    nc_status_condition(s, old, "Scheduled", node != NULL, node ? "Placed" : reason,
                        node ? node : message, v->gen, now);
    for (const char *const *m = (const char *const[]){"interfaces", "disks", NULL}; *m; m++) {
        cJSON *item = cJSON_Duplicate(cJSON_GetObjectItem(old, *m), true);

        if (item)
            cJSON_AddItemToObject(s, *m, item);
    }
    if (node || nc_status_changed(old, s))
        text = cJSON_PrintUnformatted(s);
    cJSON_Delete(s);
    cJSON_Delete(old);
    return text;
}

/* Forgets the batch. */
static void
batch_clear(struct nc_leader *l)
{
    for (unsigned i = 0; i < l->n_batch; i++)
        free(l->batch[i].status);
    l->n_batch = 0;
}

/* Reads the placements of the batch from etcd itself, after a transaction
 * that found one had changed behind the leader's view. */
static void
reread_batch(struct nc_leader *l)
{
    for (unsigned i = 0; i < l->n_batch; i++) {
        struct lvm *v = l->batch[i].vm;
        char *key = NULL;
        struct nc_kv kv;
        int r;

        if (asprintf(&key, "%s%s/%s", l->placement_prefix, v->ns, v->name) < 0)
            continue;
        r = nc_etcd_get(l->etcd, key, &kv, NULL);
        if (r == 0) {
            set_placed(v, kv.value, kv.mod_revision);
            nc_kv_clear(&kv);
        } else if (r == -ENOENT) {
            set_placed(v, NULL, 0);
        }
        free(key);
    }
}

/*
 * Writes the batch in one transaction. 0; -ESTALE when a spec or a
 * placement had moved on (the VMs are looked at again); -EPERM when this
 * process no longer holds the leader key; or a negative errno.
 */
static int
flush(struct nc_leader *l)
{
    struct nc_cmp cmps[1 + 2 * BATCH_MAX];
    struct nc_op ops[2 * BATCH_MAX];
    char *keys[3 * BATCH_MAX];
    size_t nc = 0, no = 0, nk = 0;
    bool ok = false;
    int64_t rev = 0;
    int r = -ENOMEM;

    if (l->n_batch == 0)
        return 0;
    cmps[nc++] = (struct nc_cmp){.key = l->key, .target = NC_CMP_CREATE,
                                 .result = NC_CMP_EQUAL, .number = l->create_rev};
    for (unsigned i = 0; i < l->n_batch; i++) {
        struct decision *d = &l->batch[i];
        struct lvm *v = d->vm;

        if (asprintf(&keys[nk++], "%s%s/vm/%s", l->spec_prefix, v->ns, v->name) < 0 ||
            asprintf(&keys[nk++], "%s%s/vm/%s", l->status_prefix, v->ns, v->name) < 0 ||
            asprintf(&keys[nk++], "%s%s/%s", l->placement_prefix, v->ns, v->name) < 0) {
            nk--;
            goto out;
        }
        cmps[nc++] = (struct nc_cmp){.key = keys[nk - 3], .target = NC_CMP_MOD,
                                     .result = NC_CMP_EQUAL, .number = v->gen};
        ops[no++] = (struct nc_op){.key = keys[nk - 2], .value = d->status};
        if (d->node) {
            cmps[nc++] = (struct nc_cmp){.key = keys[nk - 1], .target = NC_CMP_MOD,
                                         .result = NC_CMP_EQUAL,
                                         .number = v->placed ? v->placed_rev : 0};
            ops[no++] = (struct nc_op){.key = keys[nk - 1], .value = d->node};
        }
    }
    r = nc_etcd_txn(l->etcd, cmps, nc, ops, no, NULL, 0, &ok, &rev);
    if (r < 0) {
        nc_warn(NULL, "scheduler: writing %u decisions: %s", l->n_batch, nc_etcd_errmsg(l->etcd));
        goto out;
    }
    if (!ok) {
        struct nc_kv kv;

        r = nc_etcd_get(l->etcd, l->key, &kv, NULL);
        if (r == 0 && kv.create_revision != l->create_rev)
            r = -ENOENT;
        if (r == 0)
            nc_kv_clear(&kv);
        r = r == 0 || r == -EIO ? -ESTALE : -EPERM;
        if (r == -ESTALE) {
            nc_debug(NULL, "scheduler: a plan of %u decisions met a newer state; planning again",
                     l->n_batch);
            reread_batch(l);
        }
        goto out;
    }
    for (unsigned i = 0; i < l->n_batch; i++) {
        struct decision *d = &l->batch[i];

        nc_informer_store(l->env->statuses, keys[3 * i + 1], d->status, rev);
        if (d->node) {
            nc_info(d->vm->key, "placed on node %s", d->node);
            set_placed(d->vm, d->node, rev);
            atomic_fetch_add(&l->placed_total, 1);
        }
    }
out:
    while (nk > 0)
        free(keys[--nk]);
    batch_clear(l);
    return r;
}

static int
add_decision(struct nc_leader *l, struct lvm *v, const char *node, char *status)
{
    if (!status)
        return node ? -ENOMEM : 0; /* nothing new to say */
    l->batch[l->n_batch++] = (struct decision){.vm = v, .node = node, .status = status};
    return l->n_batch == BATCH_MAX ? flush(l) : 0;
}

/* Says why VM @v waits, when that is news. */
static int
pending(struct nc_leader *l, struct lvm *v, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
pending(struct nc_leader *l, struct lvm *v, const char *reason, const char *fmt, ...)
{
    char msg[WHY_MAX];
    va_list ap;

    if (l->quiet)
        return 0;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return add_decision(l, v, NULL, status_text(l, v, NULL, reason, msg));
}

/* How the leader came to look at a VM. */
enum why_place {
    UNPLACED, /* never placed */
    NODE_GONE,  /* its node's registration expired */
    DRAINED,  /* its node is drained */
};

/* Where @v's Volumes and Networks let it go: the pools they are in, into
 * @pools (and v->sv.pools), the node its node-local Volumes are bound to
 * into @pin ("" for any), and whether it has any into *@local. 0; 1 after
 * reporting why it must wait; or a negative errno. */
static int
storage_and_networks(struct nc_leader *l, struct lvm *v,
                     char (*pools)[NC_SCHED_POOL_MAX + 1], const char **pool_names, char *pin,
                     size_t pinsz, bool *local)
{
    char *value = NULL;
    unsigned n = 0;
    int r;

    *local = false;
    pin[0] = '\0';
    for (unsigned i = 0; i < v->n_volumes; i++) {
        struct vol vol;
        unsigned p;

        if ((r = volume_of(l, v, v->volumes[i], &vol)) == -ENOENT)
            return pending(l, v, "WaitingForVolume",
                           "waiting for volume \"%s\" (spec.disks[%u]): it does not exist",
                           v->volumes[i], i) < 0 ? -EIO : 1;
        if (r == -EINVAL)
            return pending(l, v, "WaitingForVolume",
                           "waiting for volume \"%s\" (spec.disks[%u]): its spec is invalid",
                           v->volumes[i], i) < 0 ? -EIO : 1;
        if (r < 0)
            return r;
        *local |= !vol.shared;
        if (vol.node[0] && pin[0] && strcmp(vol.node, pin) != 0)
            return pending(l, v, "Unschedulable",
                           "its Volumes are on different nodes (%s is on node %s, another on %s)",
                           v->volumes[i], vol.node, pin) < 0 ? -EIO : 1;
        if (vol.node[0])
            snprintf(pin, pinsz, "%s", vol.node);
        for (p = 0; p < n && strcmp(pools[p], vol.pool) != 0; p++)
            ;
        if (p == n) {
            memcpy(pools[n], vol.pool, sizeof(pools[n]));
            pool_names[n] = pools[n];
            n++;
        }
    }
    v->sv.pools = pool_names;
    v->sv.n_pools = n;
    for (unsigned i = 0; i < v->n_networks; i++) {
        r = nc_informer_getf(l->env->specs, &value, NULL, "%s%s/network/%s", l->spec_prefix,
                             v->ns, v->networks[i]);
        free(value);
        value = NULL;
        if (r == -ENOENT)
            return pending(l, v, "WaitingForNetwork",
                           "waiting for network \"%s\" (spec.interfaces[%u]): it does not exist",
                           v->networks[i], i) < 0 ? -EIO : 1;
        if (r < 0)
            return r;
    }
    return 0;
}

static void vm_phase(struct nc_leader *l, const struct lvm *v, char *out, size_t outsz);

/* True when the VM's guest exists: Running or Paused. */
static bool
has_guest(struct nc_leader *l, const struct lvm *v)
{
    char phase[32];

    vm_phase(l, v, phase, sizeof(phase));
    return strcmp(phase, "Running") == 0 || strcmp(phase, "Paused") == 0;
}

/*
 * A VM on a drained node that has a guest or node-local Volumes moves
 * (live when it runs, else cold): the leader writes a Migration for it
 * (spec/<ns>/migration/drain-<vm>, labelled with the node), only when
 * there is none of that name, and takes it from there as any other. One
 * that fails says why in its status, and the VM stays.
 */
static int
drain_move(struct nc_leader *l, struct lvm *v)
{
    char name[NC_NAME_MAX + 1], *key = NULL, *text = NULL;
    struct nc_cmp cmps[2];
    struct nc_op op;
    struct nc_move mv;
    int64_t rev = 0;
    bool ok = false;
    cJSON *doc, *meta, *labels, *spec;
    int r = -ENOMEM;

    if (v->drain_asked || nc_moves_of_vm(l->env->moves, v->ns, v->name, &mv))
        return 0;
    snprintf(name, sizeof(name), "drain-%.57s", v->name);
    while (name[strlen(name) - 1] == '-')
        name[strlen(name) - 1] = '\0';
    if (!(doc = cJSON_CreateObject()))
        return -ENOMEM;
    cJSON_AddStringToObject(doc, "apiVersion", "novacron.io/v1");
    cJSON_AddStringToObject(doc, "kind", NC_MIGRATION_KIND);
    meta = cJSON_AddObjectToObject(doc, "metadata");
    cJSON_AddStringToObject(meta, "name", name);
    cJSON_AddStringToObject(meta, "namespace", v->ns);
    labels = cJSON_AddObjectToObject(meta, "labels");
    cJSON_AddStringToObject(labels, "novacron.io/drained-node", v->placed);
    spec = cJSON_AddObjectToObject(doc, "spec");
    cJSON_AddStringToObject(spec, "vm", v->name);
    text = cJSON_PrintUnformatted(doc);
    cJSON_Delete(doc);
    if (text && asprintf(&key, "%s%s/migration/%s", l->spec_prefix, v->ns, name) >= 0) {
        cmps[0] = (struct nc_cmp){.key = l->key, .target = NC_CMP_CREATE,
                                  .result = NC_CMP_EQUAL, .number = l->create_rev};
        cmps[1] = (struct nc_cmp){.key = key, .target = NC_CMP_CREATE, .result = NC_CMP_EQUAL,
                                  .number = 0};
        op = (struct nc_op){.key = key, .value = text};
        r = nc_etcd_txn(l->etcd, cmps, 2, &op, 1, NULL, 0, &ok, &rev);
        if (r < 0)
            nc_warn(v->key, "scheduler: writing a migration off drained node %s: %s", v->placed,
                    nc_etcd_errmsg(l->etcd));
        else if (ok)
            nc_info(v->key, "node %s is drained: migration %s moves it", v->placed, name);
        /* Written now, or there from before (then its status tells). */
        v->drain_asked = r == 0;
    } else {
        key = NULL;
    }
    free(key);
    free(text);
    return r;
}

/* Decides for one VM the leader has to place. */
static int
place_one(struct nc_leader *l, struct nc_sched *s, struct lvm *v, enum why_place why)
{
    char pools[NC_VM_MAX_DISKS][NC_SCHED_POOL_MAX + 1], pin[254], msg[WHY_MAX];
    const char *pool_names[NC_VM_MAX_DISKS];
    bool local;
    int i, r;

    /* A drained node's VM keeps running there until it has somewhere to
     * go: nothing is said in its status meanwhile. */
    l->quiet = why == DRAINED;
    r = storage_and_networks(l, v, pools, pool_names, pin, sizeof(pin), &local);
    l->quiet = false;
    if (r != 0)
        return r < 0 ? r : 0;
    /* A guest moves (live when it runs); node-local Volumes move with
     * their VM, stopped or not. */
    if (why == DRAINED && (local || has_guest(l, v)))
        return drain_move(l, v);
    if (why != UNPLACED && local) {
        /* Its disks are on the node it left: it can only run there. */
        if (why == DRAINED)
            return 0;
        return pending(l, v, "NodeLost",
                       "node %s is gone and this VM's Volumes are on its node-local storage; "
                       "it runs again when the node is back",
                       v->placed);
    }
    v->sv.pin = why == UNPLACED ? pin : "";
    i = nc_sched_pick(s, &v->sv, msg, sizeof(msg));
    if (i < 0 && why == DRAINED)
        return 0; /* it keeps running where it is */
    l->pass_unschedulable += i < 0;
    if (i < 0 && why == NODE_GONE)
        return pending(l, v, "Unschedulable", "node %s is gone; %s", v->placed, msg);
    if (i < 0)
        return pending(l, v, "Unschedulable", "%s", msg);
    if (why == DRAINED)
        nc_sched_account(s, &v->sv, node_index(l, v->placed), -1);
    if (why != DRAINED && s->vms) /* a drained node's VMs are in the list already */
        nc_sched_add(s, &v->sv);
    v->sv.node = i;
    nc_sched_account(s, &v->sv, i, 1);
    if (why != UNPLACED)
        nc_info(v->key, "node %s %s: placing it again", v->placed,
                why == NODE_GONE ? "is gone" : "is drained");
    return add_decision(l, v, l->nodes[i].name,
                        status_text(l, v, l->nodes[i].name, NULL, NULL));
}

static int
by_generation(const void *a, const void *b)
{
    const struct lvm *x = *(struct lvm *const *)a, *y = *(struct lvm *const *)b;

    return x->gen < y->gen ? -1 : x->gen > y->gen;
}

/* Takes the keys noted since the last pass and looks at them again. */
static bool
take_dirty(struct nc_leader *l)
{
    struct dirty *d, *tmp, *list, *nss;
    bool nodes;

    pthread_mutex_lock(&l->lock);
    /* cppcheck-suppress uninitvar ; uthash assigns the iterator itself */
    HASH_ITER(hh, l->mig_dirty, d, tmp) {
        mark(&l->migs, d->key);
        unmark(&l->mig_dirty, d);
    }
    /* A Volume's spec changed: gone, its status may be left to the leader. */
    /* cppcheck-suppress uninitvar ; uthash assigns the iterator itself */
    HASH_ITER(hh, l->vol_dirty, d, tmp) {
        if (atomic_load(&l->leading))
            mark(&l->orphans, d->key);
        unmark(&l->vol_dirty, d);
    }
    list = l->dirty;
    l->dirty = NULL;
    nss = l->ns_dirty;
    l->ns_dirty = NULL;
    nodes = l->nodes_dirty;
    l->nodes_dirty = false;
    pthread_mutex_unlock(&l->lock);
    /* cppcheck-suppress uninitvar ; uthash assigns the iterator itself */
    HASH_ITER(hh, nss, d, tmp) {
        struct lvm *v, *vtmp;

        /* cppcheck-suppress uninitvar ; uthash assigns the iterator itself */
        HASH_ITER(hh, l->vms, v, vtmp)
            if (strcmp(v->ns, d->key) == 0)
                mark(&list, v->key);
        unmark(&nss, d);
    }
    /* cppcheck-suppress uninitvar ; uthash assigns the iterator itself */
    HASH_ITER(hh, list, d, tmp) {
        HASH_DEL(list, d);
        refresh(l, d->key);
        free(d->key);
        free(d);
    }
    return nodes;
}


/*
 * Migrations (schema/README.md, "Migration"). The leader takes a request
 * from its spec to phase Scheduling, with the source and target nodes
 * chosen; the two nodes take it from there (reconcilers/migration.c).
 * The leader also fails what cannot be done, and deletes the status of a
 * request whose spec is gone once no node works on it.
 */

/* Writes Migration @ns/@name's status @text (NULL: deletes it), if its
 * spec is still at @gen and its status at @status_rev, and VM @v (NULL:
 * none) still at its placement. 1 when written; 0 when the state moved
 * on (the change brings the Migration back); or a negative errno. */
static int
mig_write(struct nc_leader *l, const char *ns, const char *name, int64_t gen,
          int64_t status_rev, const char *text, const struct lvm *v)
{
    char *spec_key = NULL, *status_key = NULL, *placement_key = NULL;
    struct nc_cmp cmps[4];
    struct nc_op op;
    size_t nc = 0;
    int64_t rev = 0;
    bool ok = false;
    int r = -ENOMEM;

    if (asprintf(&spec_key, "%s%s/migration/%s", l->spec_prefix, ns, name) < 0 ||
        asprintf(&status_key, "%s%s/migration/%s", l->status_prefix, ns, name) < 0 ||
        (v && asprintf(&placement_key, "%s%s/%s", l->placement_prefix, v->ns, v->name) < 0))
        goto out;
    cmps[nc++] = (struct nc_cmp){.key = l->key, .target = NC_CMP_CREATE,
                                 .result = NC_CMP_EQUAL, .number = l->create_rev};
    cmps[nc++] = (struct nc_cmp){.key = spec_key, .target = NC_CMP_MOD, .result = NC_CMP_EQUAL,
                                 .number = gen};
    cmps[nc++] = (struct nc_cmp){.key = status_key, .target = NC_CMP_MOD, .result = NC_CMP_EQUAL,
                                 .number = status_rev};
    /* (A placement deleted since is remembered at its deletion's
     * revision; etcd says 0 of a key that is not there.) */
    if (v)
        cmps[nc++] = (struct nc_cmp){.key = placement_key, .target = NC_CMP_MOD,
                                     .result = NC_CMP_EQUAL,
                                     .number = v->placed ? v->placed_rev : 0};
    op = (struct nc_op){.del = !text, .key = status_key, .value = text};
    r = nc_etcd_txn(l->etcd, cmps, nc, &op, 1, NULL, 0, &ok, &rev);
    if (r < 0)
        nc_warn(NULL, "scheduler: writing the status of migration %s/%s: %s", ns, name,
                nc_etcd_errmsg(l->etcd));
    if (r == 0 && !ok)
        nc_debug(NULL, "scheduler: migration %s/%s met a newer state; looking again", ns, name);
    if (r == 0 && ok) {
        nc_informer_store(l->env->statuses, status_key, text, rev);
        nc_moves_note(l->env->moves, ns, name, text, rev);
        r = 1;
    }
out:
    free(spec_key);
    free(status_key);
    free(placement_key);
    return r;
}

/* A Migration status the leader writes: @phase, with Ready=False for
 * @reason and @message; the nodes when they are chosen. NULL when nothing
 * but timestamps would change. */
static char *
mig_status(const cJSON *old, int64_t gen, const char *phase, const char *reason,
           const char *message, const char *vm, const char *mode, const char *source,
           const char *target)
{
    char now[32], *text = NULL;
    cJSON *s;

    nc_rfc3339_now(now);
    if (!(s = nc_status_new(old, gen, phase, now)))
        return NULL;
    if (vm)
        cJSON_AddStringToObject(s, "vm", vm);
    if (mode)
        cJSON_AddStringToObject(s, "mode", mode);
    if (source)
        cJSON_AddStringToObject(s, "sourceNode", source);
    if (target)
        cJSON_AddStringToObject(s, "targetNode", target);
    if (strcmp(phase, "Failed") == 0)
        cJSON_AddStringToObject(s, "endTime", now);
    nc_status_condition(s, old, "Ready", false, reason, message, gen, now);
    if (nc_status_changed(old, s))
        text = cJSON_PrintUnformatted(s);
    cJSON_Delete(s);
    return text;
}

static bool
phase_is(const cJSON *status, const char *phase)
{
    const char *p = cJSON_GetStringValue(cJSON_GetObjectItem(status, "phase"));

    return p && strcmp(p, phase) == 0;
}

/* Counts every VM that is moving on its target too: the room it takes
 * there is held from the moment the target is chosen. */
static void
hold_target(void *data, const char *ns, const struct nc_move *mv)
{
    struct nc_sched *s = ((void **)data)[0];
    struct nc_leader *l = ((void **)data)[1];
    char key[2 * NC_NAME_MAX + 2];
    struct lvm *v;

    snprintf(key, sizeof(key), "%s/%s", ns, mv->vm);
    HASH_FIND_STR(l->vms, key, v);
    if (v && v->valid)
        nc_sched_account(s, &v->sv, node_index(l, mv->target), 1);
}

/* The pools of the VM's Volumes into @pools: the target must have each.
 * Those on node-local pools are copied with the guest. 0 or a negative
 * errno. */
static int
mig_volumes(struct nc_leader *l, struct lvm *v, char (*pools)[NC_SCHED_POOL_MAX + 1],
            const char **names)
{
    unsigned n = 0;
    int r;

    for (unsigned i = 0; i < v->n_volumes; i++) {
        struct vol vol;
        unsigned p;

        if ((r = volume_of(l, v, v->volumes[i], &vol)) < 0 && r != -ENOENT && r != -EINVAL)
            return r;
        if (r < 0)
            continue;
        for (p = 0; p < n && strcmp(pools[p], vol.pool) != 0; p++)
            ;
        if (p == n) {
            memcpy(pools[n], vol.pool, sizeof(pools[n]));
            names[n] = pools[n];
            n++;
        }
    }
    v->sv.pools = names;
    v->sv.n_pools = n;
    return 0;
}

/* The phase VM @v's status says, "" when it has none. */
static void
vm_phase(struct nc_leader *l, const struct lvm *v, char *out, size_t outsz)
{
    char *value = NULL;
    cJSON *st = NULL;

    if (nc_informer_getf(l->env->statuses, &value, NULL, "%s%s/vm/%s", l->status_prefix, v->ns,
                         v->name) == 0)
        st = cJSON_Parse(value);
    snprintf(out, outsz, "%s",
             cJSON_GetStringValue(cJSON_GetObjectItem(st, "phase"))
                 ? cJSON_GetStringValue(cJSON_GetObjectItem(st, "phase"))
                 : "");
    cJSON_Delete(st);
    free(value);
}

/* Looks at Migration "ns/name" @d; takes it out of the set once the
 * leader has nothing more to do for it. */
static int
mig_decide(struct nc_leader *l, struct nc_sched *s, struct dirty *d)
{
    char ns[NC_NAME_MAX + 1], name[NC_NAME_MAX + 1], why[WHY_MAX], snaps[256];
    char pools[NC_VM_MAX_DISKS][NC_SCHED_POOL_MAX + 1], vmkey[2 * NC_NAME_MAX + 2], phase[32];
    const char *pool_names[NC_VM_MAX_DISKS], *reason = NULL, *slash = strchr(d->key, '/');
    char *spec = NULL, *old_text = NULL, *text = NULL;
    int64_t gen = 0, srev = 0;
    struct nc_migration_spec ms;
    struct nc_verr *errs = NULL;
    struct nc_move mv;
    cJSON *old = NULL;
    struct lvm *v = NULL;
    bool live;
    int r = 0, i;

    snprintf(ns, sizeof(ns), "%.*s", (int)(slash - d->key), d->key);
    snprintf(name, sizeof(name), "%s", slash + 1);
    if (nc_informer_getf(l->env->specs, &spec, &gen, "%s%s/migration/%s", l->spec_prefix, ns,
                         name) < 0)
        gen = 0;
    if (nc_informer_getf(l->env->statuses, &old_text, &srev, "%s%s/migration/%s",
                         l->status_prefix, ns, name) == 0)
        old = cJSON_Parse(old_text);
    else
        srev = 0;
    if (phase_is(old, "Scheduling") || phase_is(old, "Running"))
        goto out; /* the nodes' now; the set keeps it until it ends */
    if (!gen) {
        /* Gone, and no node works on it: its status goes too. */
        if (old_text)
            r = mig_write(l, ns, name, 0, srev, NULL, NULL);
        unmark(&l->migs, d);
        goto out;
    }
    if (nc_json_i64(cJSON_GetObjectItem(old, "observedGeneration")) == gen &&
        !phase_is(old, "Pending")) {
        unmark(&l->migs, d); /* ended */
        goto out;
    }
    if (!(errs = nc_verr_new())) {
        r = -ENOMEM;
        goto out;
    }
    if (nc_migration_spec_parse(spec, ns, name, &ms, errs) < 0) {
        char *all = nc_verr_join(errs);

        snprintf(why, sizeof(why), "%s", all ? all : "invalid spec");
        free(all);
        text = mig_status(old, gen, "Failed", "InvalidSpec", why, NULL, NULL, NULL, NULL);
        goto write;
    }
    snprintf(vmkey, sizeof(vmkey), "%s/%s", ns, ms.vm);
    HASH_FIND_STR(l->vms, vmkey, v);
    if (!v || !v->valid) {
        snprintf(why, sizeof(why), "spec.vm: this namespace has no valid VirtualMachine \"%s\"",
                 ms.vm);
        reason = "VMNotFound";
    } else if (v->runtime != NC_RUNTIME_VM) {
        snprintf(why, sizeof(why),
                 "spec.vm: VirtualMachine \"%s\" runs on the %s runtime, which cannot migrate",
                 ms.vm, nc_runtime_names[v->runtime]);
        reason = "RuntimeUnsupported";
    } else if (v->pinned) {
        snprintf(why, sizeof(why),
                 "spec.vm: VirtualMachine \"%s\" runs where its spec.node says (%s); change "
                 "spec.node to move it",
                 ms.vm, v->pinned);
        reason = "VMPinned";
    } else if (nc_moves_of_vm(l->env->moves, ns, ms.vm, &mv)) {
        snprintf(why, sizeof(why), "VirtualMachine \"%s\" is moving already (migration %s)",
                 ms.vm, mv.migration);
        reason = "AlreadyMigrating";
    } else if (nc_snapshots_of_vm(l->env, ns, ms.vm, snaps, sizeof(snaps)) > 0) {
        /* libvirt keeps a domain's snapshots on its host: it refuses to
         * move the domain live, and a cold move would leave them behind. */
        snprintf(why, sizeof(why),
                 "spec.vm: VirtualMachine \"%s\" has Snapshots (%s), which stay on their node; "
                 "delete them to move it",
                 ms.vm, snaps);
        reason = "HasSnapshots";
    }
    if (reason) {
        text = mig_status(old, gen, "Failed", reason, why, ms.vm, NULL, NULL, NULL);
        goto write;
    }
    vm_phase(l, v, phase, sizeof(phase));
    if (!v->placed || !alive(l, v->placed) || node_index(l, v->placed) < 0 ||
        strcmp(phase, "Pending") == 0 || strcmp(phase, "Provisioning") == 0 || !phase[0]) {
        snprintf(why, sizeof(why), "waiting for VirtualMachine \"%s\" to run on a node", ms.vm);
        text = mig_status(old, gen, "Pending", "WaitingForVM", why, ms.vm, NULL, NULL, NULL);
        goto write;
    }
    /* Live moves a running guest; cold, one that is stopped or paused
     * (auto picks), or any that is asked to. */
    live = ms.mode == NC_MIG_LIVE || (ms.mode == NC_MIG_AUTO && strcmp(phase, "Running") == 0);
    if (live ? strcmp(phase, "Running") != 0
             : strcmp(phase, "Running") != 0 && strcmp(phase, "Stopped") != 0 &&
                   strcmp(phase, "Paused") != 0) {
        snprintf(why, sizeof(why),
                 "VirtualMachine \"%s\" is %s: %s", ms.vm, phase,
                 live ? "a live migration moves a running guest (spec.mode cold or auto moves "
                        "a stopped one)"
                      : "only a Running, Stopped or Paused VM can move");
        text = mig_status(old, gen, "Failed", "VMNotRunning", why, ms.vm, NULL, v->placed, NULL);
        goto write;
    }
    if ((r = mig_volumes(l, v, pools, pool_names)) < 0)
        goto out;
    v->sv.avoid = v->placed;
    v->sv.only = ms.target[0] ? ms.target : NULL;
    v->sv.pin = "";
    i = nc_sched_pick(s, &v->sv, why, sizeof(why) - 32);
    v->sv.avoid = v->sv.only = NULL;
    v->sv.pools = NULL;
    v->sv.n_pools = 0;
    if (i < 0) {
        text = mig_status(old, gen, "Failed", "Unschedulable", why, ms.vm, NULL, v->placed,
                          ms.target[0] ? ms.target : NULL);
        goto write;
    }
    nc_sched_account(s, &v->sv, i, 1);
    snprintf(why, sizeof(why), "moving to node %s: waiting for it to be ready",
             l->nodes[i].name);
    text = mig_status(old, gen, "Scheduling", "Scheduling", why, ms.vm, live ? "live" : "cold",
                      v->placed, l->nodes[i].name);
    if (text && (r = mig_write(l, ns, name, gen, srev, text, v)) > 0)
        nc_info(d->key, "%s migration of VM %s: from node %s to %s", live ? "live" : "cold",
                ms.vm, v->placed, l->nodes[i].name);
    free(text);
    text = NULL;
write:
    if (text)
        r = mig_write(l, ns, name, gen, srev, text, v);
    if (r > 0 && v) {
        /* This node's own write brings no watch event: the Migration,
         * the VM and its Networks (realised on the target first) are
         * looked at here. */
        char key[160];

        snprintf(key, sizeof(key), "%s/migration/%s", ns, name);
        l->env->enqueue(l->env->enqueue_data, key);
        snprintf(key, sizeof(key), "%s/vm/%s", v->ns, v->name);
        l->env->enqueue(l->env->enqueue_data, key);
        for (unsigned n = 0; n < v->n_networks; n++) {
            snprintf(key, sizeof(key), "%s/network/%s", v->ns, v->networks[n]);
            l->env->enqueue(l->env->enqueue_data, key);
        }
    }
out:
    nc_verr_free(errs);
    cJSON_Delete(old);
    free(old_text);
    free(spec);
    free(text);
    return r;
}

/* Every Migration that may need the leader. */
static int
migrations(struct nc_leader *l, struct nc_sched *s)
{
    struct dirty *d, *tmp;
    int r = 0;

    /* cppcheck-suppress uninitvar ; uthash assigns the iterator itself */
    HASH_ITER(hh, l->migs, d, tmp) {
        if ((r = mig_decide(l, s, d)) < 0)
            break;
    }
    return r;
}

static void
save_usage(const struct nc_leader *l, struct usage *u)
{
    for (unsigned i = 0; i < l->n_nodes; i++)
        u[i] = (struct usage){.used_vcpus = l->nodes[i].used_vcpus,
                              .used_memory = l->nodes[i].used_memory,
                              .dedicated = l->nodes[i].dedicated,
                              .n_dedicated = l->nodes[i].n_dedicated,
                              .n_vms = l->nodes[i].n_vms};
}

static void
restore_usage(struct nc_leader *l, const struct usage *u)
{
    for (unsigned i = 0; i < l->n_nodes; i++) {
        l->nodes[i].used_vcpus = u[i].used_vcpus;
        l->nodes[i].used_memory = u[i].used_memory;
        l->nodes[i].dedicated = u[i].dedicated;
        l->nodes[i].n_dedicated = u[i].n_dedicated;
        l->nodes[i].n_vms = u[i].n_vms;
    }
}

/*
 * One pass: every VM without a node, or whose node is gone or drained,
 * is placed, or told why it waits; then the Migrations. It looks at
 * those VMs only (l->cands), and at every VM only when one has
 * (anti-)affinity or spread terms, which are weighed against all that
 * are placed. 0, or a negative errno (-EPERM: no longer the leader;
 * -ESTALE: a plan met a newer state, try again).
 */
static int
pass(struct nc_leader *l)
{
    struct nc_sched s = {.policy = l->cfg.policy, .nodes = l->nodes, .n_nodes = l->n_nodes};
    struct usage *saved = calloc(l->n_nodes + 1, sizeof(*saved));
    size_t n, nc = 0;
    struct lvm **cands, *v;
    struct nc_move mv;
    int r = 0;

    DL_COUNT2(l->cands, v, n, cnext);
    cands = calloc(n + 1, sizeof(*cands));
    if (l->n_terms)
        s.vms = calloc(HASH_COUNT(l->vms) + 1, sizeof(*s.vms));
    if (!saved || !cands || (l->n_terms && !s.vms)) {
        r = -ENOMEM;
        goto out;
    }
    save_usage(l, saved);
    for (v = l->vms; s.vms && v; v = v->hh.next)
        if (v->counted >= 0)
            nc_sched_add(&s, &v->sv);
    DL_FOREACH2(l->cands, v, cnext)
        if (!nc_moves_of_vm(l->env->moves, v->ns, v->name, &mv))
            cands[nc++] = v;
    nc_moves_foreach(l->env->moves, hold_target, (void *[]){&s, l});
    qsort(cands, nc, sizeof(*cands), by_generation);
    l->pass_unschedulable = 0;
    for (size_t i = 0; i < nc && r >= 0; i++) {
        v = cands[i];
        r = place_one(l, &s, v,
                      !v->placed ? UNPLACED : !alive(l, v->placed) ? NODE_GONE : DRAINED);
    }
    if (r >= 0)
        r = flush(l);
    else
        batch_clear(l);
    if (r >= 0)
        atomic_store(&l->unschedulable, l->pass_unschedulable);
    if (r >= 0)
        r = migrations(l, &s);
    /* What was placed now counts where it went; the rest as before. */
    restore_usage(l, saved);
    for (size_t i = 0; i < nc; i++) {
        uncount(l, cands[i]);
        count(l, cands[i]);
    }
out:
    free(saved);
    free(cands);
    free(s.vms);
    return r;
}

static void
collect_vm(void *data, const char *key)
{
    struct nc_leader *l = data;
    char ns_name[2 * NC_NAME_MAX + 2];

    if (vm_of_spec(l, key, ns_name))
        refresh(l, ns_name);
}

static void
collect_migration(void *data, const char *key)
{
    struct nc_leader *l = data;
    char ns_name[2 * NC_NAME_MAX + 2];

    if (migration_of(l, key, ns_name))
        mark(&l->migs, ns_name);
}

static int
collect_placement(const struct nc_kv *kv, void *data)
{
    struct nc_leader *l = data;
    struct lvm *v;

    HASH_FIND_STR(l->vms, kv->key + l->placement_len, v);
    if (v) {
        set_placed(v, kv->value, kv->mod_revision);
        v->listed = true;
    }
    return 0;
}

/*
 * Just elected: reads every VM spec from the cache, then every placement
 * from etcd itself, at a revision after the key was won. A previous
 * leader's last writes all come before that revision (its transactions
 * compare the key it held), so the view the first plan is made on has
 * them, even when this node's watch has not delivered them yet.
 */
static int
catch_up(struct nc_leader *l)
{
    struct lvm *v, *tmp;
    int64_t rev = 0;
    int r;

    nc_informer_foreach(l->env->specs, collect_vm, l);
    nc_informer_foreach(l->env->specs, collect_migration, l);
    nc_informer_foreach(l->env->statuses, collect_migration, l);
    for (v = l->vms; v; v = v->hh.next)
        v->listed = false;
    r = nc_etcd_list(l->etcd, l->placement_prefix, 500, collect_placement, l, &rev);
    if (r < 0) {
        nc_warn(NULL, "scheduler: listing placements: %s", nc_etcd_errmsg(l->etcd));
        return r;
    }
    /* cppcheck-suppress uninitvar ; uthash assigns the iterator itself */
    HASH_ITER(hh, l->vms, v, tmp) {
        if (!v->listed && v->placed_rev < rev)
            set_placed(v, NULL, rev);
    }
    recount_all(l);
    return 0;
}

/* Tries to take the leader key. */
static void
campaign(struct nc_leader *l)
{
    int64_t lease = nc_node_lease(l->env->self), rev = 0;
    struct nc_kv kv;
    int r;

    if (!lease)
        return;
    r = nc_etcd_create(l->etcd, l->key, l->env->node, lease, &kv, &rev);
    if (r == 0) {
        /* Ours from before a restart within the lease: still ours. */
        if (kv.lease == lease && strcmp(kv.value, l->env->node) == 0) {
            rev = kv.create_revision;
            r = 1;
        }
        nc_kv_clear(&kv);
    }
    if (r < 0)
        nc_warn(NULL, "scheduler: trying for %s: %s", l->key, nc_etcd_errmsg(l->etcd));
    if (r != 1)
        return;
    l->create_rev = rev;
    if (catch_up(l) < 0)
        return;
    atomic_store(&l->leading, true);
    nc_info(NULL, "scheduler: this node leads (%s, revision %" PRId64 ")", l->key, rev);
}

/* With the lock held: waits until stopped, @ms passed, or (with @kicks)
 * kicked. */
static void
wait_locked(struct nc_leader *l, int64_t ms, bool kicks)
{
    struct timespec at;

    clock_gettime(CLOCK_REALTIME, &at);
    at.tv_sec += ms / 1000;
    at.tv_nsec += (ms % 1000) * 1000000;
    if (at.tv_nsec >= 1000000000) {
        at.tv_sec++;
        at.tv_nsec -= 1000000000;
    }
    while (!l->stopping && !(kicks && l->kicked))
        if (pthread_cond_timedwait(&l->cond, &l->lock, &at) == ETIMEDOUT)
            break;
}

/*
 * VMs and Volumes deleted while their node was gone. A node removes what it
 * ran or made of a deleted VM or Volume, and its status (and a VM's
 * placement) with it; one whose node is gone (its registration expired)
 * has no one to do so, and the leader removes them. What the node kept, if
 * it comes back, goes then: a node that lost its lease removes its domains
 * and volumes that have neither spec nor status. A Volume on a shared pool
 * is left to the nodes that share it, which delete it themselves.
 */

static bool
spec_gone(struct nc_leader *l, const char *kind, const char *ns, const char *name)
{
    char *value = NULL;
    int r = nc_informer_getf(l->env->specs, &value, NULL, "%s%s/%s/%s", l->spec_prefix, ns, kind,
                             name);

    free(value);
    return r == -ENOENT;
}

/* Marks every VM and Volume status whose spec is gone (a node went: their
 * nodes may be the one). */
static void
collect_orphan(void *data, const char *key)
{
    struct nc_leader *l = data;
    char ns[NC_NAME_MAX + 1], kind[16], name[NC_NAME_MAX + 1];
    char orphan[sizeof(kind) + 2 * NC_NAME_MAX + 2];

    if (strncmp(key, l->status_prefix, l->status_len) != 0 ||
        !nc_key_parse(key + l->status_len, ns, kind, name) ||
        (strcmp(kind, "vm") != 0 && strcmp(kind, "volume") != 0))
        return;
    snprintf(orphan, sizeof(orphan), "%s/%s/%s", ns, kind, name);
    if (spec_gone(l, kind, ns, name))
        mark(&l->orphans, orphan);
}

/* Removes the status (and a VM's placement) of @kind @ns/@name if its spec
 * is gone and the node they name is gone too. 0 (also when there is
 * nothing to do), or a negative errno to try again. */
static int
remove_orphan(struct nc_leader *l, const char *kind, const char *ns, const char *name)
{
    char spec_key[320], status_key[320], placement_key[320], node[254] = "";
    char *status = NULL, *placed = NULL;
    int64_t status_rev = 0, placed_rev = 0;
    bool vm = strcmp(kind, "vm") == 0, shared = false, ok = false;
    struct nc_cmp cmps[4];
    struct nc_op ops[2];
    unsigned no = 0;
    cJSON *st;
    int r = 0;

    snprintf(spec_key, sizeof(spec_key), "%s%s/%s/%s", l->spec_prefix, ns, kind, name);
    snprintf(status_key, sizeof(status_key), "%s%s/%s/%s", l->status_prefix, ns, kind, name);
    snprintf(placement_key, sizeof(placement_key), "%s%s/%s", l->placement_prefix, ns, name);
    if (!spec_gone(l, kind, ns, name))
        return 0;
    if (nc_informer_getf(l->env->statuses, &status, &status_rev, "%s", status_key) == 0 &&
        (st = cJSON_Parse(status))) {
        const char *n = cJSON_GetStringValue(cJSON_GetObjectItem(st, "node"));
        const char *pool = cJSON_GetStringValue(cJSON_GetObjectItem(st, "pool"));

        snprintf(node, sizeof(node), "%s", n ? n : "");
        shared = !vm && pool && pool_shared(l, pool);
        cJSON_Delete(st);
    }
    if (vm && nc_informer_getf(l->env->placements, &placed, &placed_rev, "%s", placement_key) == 0)
        snprintf(node, sizeof(node), "%s", placed);
    if (node[0] && !alive(l, node) && !shared && (status || placed)) {
        cmps[0] = (struct nc_cmp){.key = l->key, .target = NC_CMP_CREATE,
                                  .result = NC_CMP_EQUAL, .number = l->create_rev};
        cmps[1] = (struct nc_cmp){.key = spec_key, .target = NC_CMP_CREATE,
                                  .result = NC_CMP_EQUAL, .number = 0};
        cmps[2] = (struct nc_cmp){.key = status_key, .target = NC_CMP_MOD,
                                  .result = NC_CMP_EQUAL, .number = status ? status_rev : 0};
        cmps[3] = (struct nc_cmp){.key = placement_key, .target = NC_CMP_MOD,
                                  .result = NC_CMP_EQUAL, .number = placed ? placed_rev : 0};
        if (status)
            ops[no++] = (struct nc_op){.del = true, .key = status_key};
        if (placed)
            ops[no++] = (struct nc_op){.del = true, .key = placement_key};
        r = nc_etcd_txn(l->etcd, cmps, vm ? 4 : 3, ops, no, NULL, 0, &ok, NULL);
        if (r < 0)
            nc_warn(NULL, "scheduler: removing what deleted %s %s/%s left on gone node %s: %s",
                    vm ? "VM" : "Volume", ns, name, node, nc_etcd_errmsg(l->etcd));
        else if (ok)
            nc_info(NULL, "scheduler: %s %s/%s was deleted while node %s was gone: its status%s "
                    "removed", vm ? "VM" : "Volume", ns, name, node,
                    vm ? " and placement" : "");
    }
    free(status);
    free(placed);
    return r;
}

static void
sweep_orphans(struct nc_leader *l)
{
    struct dirty *d, *tmp;

    /* cppcheck-suppress uninitvar ; uthash assigns the iterator itself */
    HASH_ITER(hh, l->orphans, d, tmp) {
        char kind[16], ns[NC_NAME_MAX + 1], name[NC_NAME_MAX + 1];

        if (nc_key_parse(d->key, ns, kind, name) && remove_orphan(l, kind, ns, name) < 0)
            continue; /* tried again after the next pass */
        unmark(&l->orphans, d);
    }
}

static void *
leader_main(void *arg)
{
    struct nc_leader *l = arg;
    bool retry = false, led = false;

    pthread_mutex_lock(&l->lock);
    while (!l->stopping) {
        bool nodes, passed = false;
        int r;

        wait_locked(l, retry ? RETRY_MS : l->cfg.node_ttl_s * 1000 / 3, true);
        if (l->stopping)
            break;
        l->kicked = false;
        pthread_mutex_unlock(&l->lock);

        nodes = take_dirty(l);
        if (nodes || !l->alive) {
            load_nodes(l);
            recount_all(l);
        }
        if (!atomic_load(&l->leading))
            campaign(l);
        retry = false;
        /* A node went, or this one leads now: the statuses of VMs deleted
         * meanwhile may name a node that is gone. */
        if (atomic_load(&l->leading) && (nodes || !led))
            nc_informer_foreach(l->env->statuses, collect_orphan, l);
        led = atomic_load(&l->leading);
        if (led) {
            r = pass(l);
            if (r == -EPERM) {
                atomic_store(&l->leading, false);
                nc_warn(NULL, "scheduler: %s is no longer this node's; following", l->key);
            }
            if (r >= 0)
                sweep_orphans(l);
            retry = r < 0 || l->orphans;
            passed = true;
            atomic_store(&l->migs_waiting, l->migs != NULL);
        }
        pthread_mutex_lock(&l->lock);
        /* A pass looks at every VM: the changes of the next moments wait
         * for one pass together rather than one each. */
        if (passed)
            wait_locked(l, PASS_INTERVAL_MS, false);
    }
    pthread_mutex_unlock(&l->lock);
    return NULL;
}

int
nc_leader_start(struct nc_env *env, const struct nc_etcd_conf *conf,
                const struct nc_leader_config *cfg, struct nc_leader **ret)
{
    struct nc_leader *l = calloc(1, sizeof(*l));
    const char *p = env->prefix;

    if (!l)
        return -ENOMEM;
    l->env = env;
    l->cfg = *cfg;
    l->kicked = true;
    pthread_mutex_init(&l->lock, NULL);
    pthread_cond_init(&l->cond, NULL);
    if (!(l->etcd = nc_etcd_new(conf)) || asprintf(&l->key, "%sleader/scheduler", p) < 0 ||
        asprintf(&l->spec_prefix, "%sspec/", p) < 0 ||
        asprintf(&l->status_prefix, "%sstatus/", p) < 0 ||
        asprintf(&l->placement_prefix, "%splacement/", p) < 0 ||
        asprintf(&l->nodes_prefix, "%snodes/", p) < 0 ||
        asprintf(&l->cordon_prefix, "%scordon/", p) < 0) {
        nc_leader_stop(l);
        return -ENOMEM;
    }
    l->spec_len = strlen(l->spec_prefix);
    l->status_len = strlen(l->status_prefix);
    l->placement_len = strlen(l->placement_prefix);
    l->nodes_len = strlen(l->nodes_prefix);
    l->cordon_len = strlen(l->cordon_prefix);
    if (pthread_create(&l->thread, NULL, leader_main, l) != 0) {
        nc_leader_stop(l);
        return -ENOMEM;
    }
    l->started = true;
    *ret = l;
    return 0;
}

bool
nc_leader_leading(const struct nc_leader *l)
{
    return l && atomic_load(&l->leading);
}

void
nc_leader_counts(const struct nc_leader *l, uint64_t *ret_placed, size_t *ret_unschedulable)
{
    *ret_placed = l ? atomic_load(&l->placed_total) : 0;
    *ret_unschedulable = l && atomic_load(&l->leading) ? atomic_load(&l->unschedulable) : 0;
}

void
nc_leader_stop(struct nc_leader *l)
{
    struct lvm *v, *tmp;
    struct dirty *d, *dtmp;

    if (!l)
        return;
    if (l->started) {
        pthread_mutex_lock(&l->lock);
        l->stopping = true;
        pthread_cond_signal(&l->cond);
        pthread_mutex_unlock(&l->lock);
        pthread_join(l->thread, NULL);
    }
    if (atomic_load(&l->leading)) {
        bool done;

        /* Resign: another node takes over now, not when the lease ends. */
        if (nc_etcd_delete_if(l->etcd, l->key, l->env->node, &done, NULL) == 0 && done)
            nc_info(NULL, "scheduler: gave %s up", l->key);
    }
    /* cppcheck-suppress uninitvar ; uthash assigns the iterator itself */
    HASH_ITER(hh, l->dirty, d, dtmp)
        unmark(&l->dirty, d);
    /* cppcheck-suppress uninitvar ; uthash assigns the iterator itself */
    HASH_ITER(hh, l->mig_dirty, d, dtmp)
        unmark(&l->mig_dirty, d);
    /* cppcheck-suppress uninitvar ; uthash assigns the iterator itself */
    HASH_ITER(hh, l->ns_dirty, d, dtmp)
        unmark(&l->ns_dirty, d);
    /* cppcheck-suppress uninitvar ; uthash assigns the iterator itself */
    HASH_ITER(hh, l->vol_dirty, d, dtmp)
        unmark(&l->vol_dirty, d);
    /* cppcheck-suppress uninitvar ; uthash assigns the iterator itself */
    HASH_ITER(hh, l->migs, d, dtmp)
        unmark(&l->migs, d);
    /* cppcheck-suppress uninitvar ; uthash assigns the iterator itself */
    HASH_ITER(hh, l->orphans, d, dtmp)
        unmark(&l->orphans, d);
    /* cppcheck-suppress uninitvar ; uthash assigns the iterator itself */
    HASH_ITER(hh, l->vms, v, tmp) {
        HASH_DEL(l->vms, v);
        lvm_free(v);
    }
    free_nodes(l);
    free(l->nodes);
    batch_clear(l);
    nc_etcd_free(l->etcd);
    free(l->key);
    free(l->spec_prefix);
    free(l->status_prefix);
    free(l->placement_prefix);
    free(l->nodes_prefix);
    free(l->cordon_prefix);
    pthread_mutex_destroy(&l->lock);
    pthread_cond_destroy(&l->cond);
    free(l);
}
