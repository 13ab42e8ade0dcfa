/*
 * The NetworkPolicy reconciler and each node's enforcement of every
 * policy: see networkpolicy.h.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uthash.h>

#include "core/log.h"
#include "core/names.h"
#include "drivers/firewall.h"
#include "reconcilers/networkpolicy.h"
#include "reconcilers/run.h"
#include "reconcilers/status.h"
#include "schema/networkpolicy.h"
#include "schema/vm.h"

/* The most VM names a policy's status lists (vmCount counts them all). */
#define STATUS_MAX_VMS 100

/* A policy this node knows of, valid or not, and a hash of the VMs it
 * selected at the last pass, which queues its status again on change. */
struct known {
    char key[2 * NC_NAME_MAX + 2]; /* "ns/name" */
    uint64_t selected;
    UT_hash_handle hh;
};

/* A VM of a namespace, as a policy sees it: its labels, the node it is
 * on and its addresses. */
struct vm {
    char name[NC_NAME_MAX + 1];
    char node[254];
    struct nc_labels labels;
    char ips[NC_VM_MAX_IFACES][16];
    unsigned n_ips;
};

/* A VM as the node pass last read it, by its spec key: read again only
 * when its spec or status changed. */
struct seen_vm {
    char *key;
    int64_t spec_rev, status_rev;
    struct vm vm;
    unsigned pass; /* the last pass that met it */
    UT_hash_handle hh;
};

struct nc_netpol_state {
    pthread_mutex_t lock;
    struct known *known;
    bool primed;          /* known holds every policy spec of the cache */
    _Atomic size_t count; /* how many */
    /* Only the node pass uses these, and one pass runs at a time. */
    struct seen_vm *seen;
    unsigned pass;
};

struct vms {
    struct nc_env *env;
    char ns[NC_NAME_MAX + 1];
    size_t skip;                  /* length of "<prefix>spec/<ns>/vm/" */
    struct nc_netpol_state *seen; /* the node pass: labels borrowed from its cache */
    struct vm *v;
    size_t n, cap;
    int err;
};

static void
remember(struct nc_netpol_state *s, const char *key)
{
    struct known *k;

    HASH_FIND_STR(s->known, key, k);
    if (k || !(k = calloc(1, sizeof(*k))))
        return;
    snprintf(k->key, sizeof(k->key), "%s", key);
    HASH_ADD_STR(s->known, key, k);
    s->count++;
}

static void
forget(struct nc_netpol_state *s, const char *key)
{
    struct known *k;

    HASH_FIND_STR(s->known, key, k);
    if (!k)
        return;
    HASH_DEL(s->known, k);
    free(k);
    s->count--;
}

static void
seen_free(struct nc_netpol_state *s, struct seen_vm *e)
{
    HASH_DEL(s->seen, e);
    nc_labels_clear(&e->vm.labels);
    free(e->key);
    free(e);
}

static int
state_init(struct nc_env *env)
{
    struct nc_netpol_state *s = calloc(1, sizeof(*s));

    if (!s)
        return -ENOMEM;
    pthread_mutex_init(&s->lock, NULL);
    env->netpol = s;
    return 0;
}

static void
state_fini(struct nc_env *env)
{
    struct nc_netpol_state *s = env->netpol;
    struct known *k, *tmp;

    if (!s)
        return;
    /* cppcheck-suppress uninitvar ; uthash assigns the iterator itself */
    HASH_ITER(hh, s->known, k, tmp) {
        HASH_DEL(s->known, k);
        free(k);
    }
    while (s->seen)
        seen_free(s, s->seen);
    pthread_mutex_destroy(&s->lock);
    free(s);
    env->netpol = NULL;
}

static void
enqueue(struct nc_env *env, const char *key)
{
    if (env->enqueue)
        env->enqueue(env->enqueue_data, key);
}

void
nc_netpol_vm_changed(struct nc_env *env)
{
    if (env->netpol && env->netpol->count > 0)
        enqueue(env, NC_KEY_POLICIES);
}

/* Reads VM @v (named, its labels absent) from spec @spec and status
 * @status (either NULL). */
static int
vm_read(struct vm *v, const char *spec, const char *status)
{
    cJSON *doc = spec ? cJSON_Parse(spec) : NULL, *st = status ? cJSON_Parse(status) : NULL;
    const cJSON *ifc;
    int r = nc_labels_from_json(
        cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "metadata"), "labels"), &v->labels);

    snprintf(v->node, sizeof(v->node), "%s",
             cJSON_GetStringValue(cJSON_GetObjectItem(st, "node")) ?: "");
    cJSON_ArrayForEach(ifc, cJSON_GetObjectItem(st, "interfaces")) {
        const char *ip = cJSON_GetStringValue(cJSON_GetObjectItem(ifc, "ip"));

        if (ip && strlen(ip) < sizeof(v->ips[0]) && v->n_ips < NC_VM_MAX_IFACES)
            snprintf(v->ips[v->n_ips++], sizeof(v->ips[0]), "%s", ip);
    }
    cJSON_Delete(doc);
    cJSON_Delete(st);
    return r < 0 ? -ENOMEM : 0;
}

/* VM @v of spec key @key, through the node pass' cache @s: what it holds
 * when spec and status are as they were, else read and kept there; the
 * labels are the cache's. */
static int
vm_seen(struct nc_netpol_state *s, const char *key, struct vm *v, const char *spec,
        int64_t spec_rev, const char *status, int64_t status_rev)
{
    struct seen_vm *e;
    int r;

    HASH_FIND_STR(s->seen, key, e);
    if (e && (e->spec_rev != spec_rev || e->status_rev != status_rev)) {
        seen_free(s, e);
        e = NULL;
    }
    if (!e) {
        if (!(e = calloc(1, sizeof(*e))) || !(e->key = strdup(key))) {
            free(e);
            return -ENOMEM;
        }
        e->vm = *v;
        if ((r = vm_read(&e->vm, spec, status)) < 0) {
            nc_labels_clear(&e->vm.labels);
            free(e->key);
            free(e);
            return r;
        }
        e->spec_rev = spec_rev;
        e->status_rev = status_rev;
        HASH_ADD_KEYPTR(hh, s->seen, e->key, strlen(e->key), e);
    }
    e->pass = s->pass;
    *v = e->vm;
    return 0;
}

static void
on_vm(void *data, const char *key)
{
    struct vms *l = data;
    const char *name = key + l->skip;
    char *spec = NULL, *status = NULL;
    int64_t spec_rev = 0, status_rev = 0;
    struct vm *v;

    if (l->err || !nc_is_dns_label(name))
        return;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        struct vm *grown = realloc(l->v, cap * sizeof(*grown));

        if (!grown) {
            l->err = -ENOMEM;
            return;
        }
        l->v = grown;
        l->cap = cap;
    }
    v = &l->v[l->n];
    memset(v, 0, sizeof(*v));
    snprintf(v->name, sizeof(v->name), "%s", name);
    if (nc_informer_get(l->env->specs, key, &spec, &spec_rev) < 0)
        spec = NULL;
    if (nc_informer_getf(l->env->statuses, &status, &status_rev, "%sstatus/%s/vm/%s",
                         l->env->prefix, l->ns, name) < 0)
        status = NULL;
    if (l->seen)
        l->err = vm_seen(l->seen, key, v, spec, spec_rev, status, status_rev);
    else
        l->err = vm_read(v, spec, status);
    free(spec);
    free(status);
    if (l->err)
        nc_labels_clear(&v->labels);
    else
        l->n++;
}

static void
vms_clear(struct vms *l)
{
    for (size_t i = 0; i < l->n && !l->seen; i++)
        nc_labels_clear(&l->v[i].labels);
    free(l->v);
    memset(l, 0, sizeof(*l));
}

static int
cmp_vm(const void *a, const void *b)
{
    return strcmp(((const struct vm *)a)->name, ((const struct vm *)b)->name);
}

/* Every VM of namespace @ns, with its labels, node and addresses, by
 * name; through the node pass' cache @seen when not NULL. */
static int
vms_of(struct nc_env *env, const char *ns, struct nc_netpol_state *seen, struct vms *l)
{
    char prefix[256];

    memset(l, 0, sizeof(*l));
    l->env = env;
    l->seen = seen;
    snprintf(l->ns, sizeof(l->ns), "%s", ns);
    l->skip = (size_t)snprintf(prefix, sizeof(prefix), "%sspec/%s/vm/", env->prefix, ns);
    nc_informer_foreach_prefix(env->specs, prefix, on_vm, l);
    if (l->err) {
        int err = l->err;

        vms_clear(l);
        return err;
    }
    if (l->n)
        qsort(l->v, l->n, sizeof(*l->v), cmp_vm);
    return 0;
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The status of a valid policy: the VMs it selects and their nodes. */
static cJSON *
selected_status(struct nc_run *run, const struct nc_netpol_spec *spec, const struct vms *l)
{
    cJSON *s = nc_status_new(run->old_status, run->generation, "Ready", run->now);
    cJSON *names = cJSON_AddArrayToObject(s, "vms"), *nodes = cJSON_AddArrayToObject(s, "nodes");
    cJSON *types = cJSON_AddArrayToObject(s, "policyTypes");
    const char **node = calloc(l->n ? l->n : 1, sizeof(*node));
    size_t n = 0, k = 0;
    char msg[160];

    if (!node || !names || !nodes || !types) {
        free(node);
        cJSON_Delete(s);
        return NULL;
    }
    for (size_t i = 0; i < l->n; i++) {
        if (!nc_labels_match(&spec->selector, &l->v[i].labels))
            continue;
        if (n++ < STATUS_MAX_VMS)
            cJSON_AddItemToArray(names, cJSON_CreateString(l->v[i].name));
        if (l->v[i].node[0])
            node[k++] = l->v[i].node;
    }
    qsort(node, k, sizeof(*node), cmp_str);
    for (size_t i = 0; i < k; i++)
        if (i == 0 || strcmp(node[i], node[i - 1]) != 0)
            cJSON_AddItemToArray(nodes, cJSON_CreateString(node[i]));
    cJSON_AddNumberToObject(s, "vmCount", (double)n);
    if (spec->ingress)
        cJSON_AddItemToArray(types, cJSON_CreateString("Ingress"));
    if (spec->egress)
        cJSON_AddItemToArray(types, cJSON_CreateString("Egress"));
    snprintf(msg, sizeof(msg), "isolates %zu VM(s) for %s on %d node(s)", n,
             spec->ingress && spec->egress ? "Ingress and Egress"
             : spec->ingress              ? "Ingress"
                                          : "Egress",
             cJSON_GetArraySize(nodes));
    nc_status_condition(s, run->old_status, "Ready", true, "Active", msg, run->generation,
                        run->now);
    free(node);
    return s;
}

static int
reconcile(struct nc_ctx *ctx, const char *ns, const char *name, int64_t *ret_requeue_ms)
{
    struct nc_env *env = ctx->env;
    struct nc_netpol_state *st = env->netpol;
    struct nc_netpol_spec spec = {0};
    struct nc_verr *errs = NULL;
    struct vms l = {0};
    struct nc_run run;
    char *value = NULL, key[2 * NC_NAME_MAX + 2];
    int r;

    *ret_requeue_ms = 0;
    snprintf(key, sizeof(key), "%s/%s", ns, name);
    if ((r = nc_run_begin(&run, ctx, ns, "networkpolicy", name)) < 0)
        goto out;
    r = nc_run_spec(&run, &value);
    pthread_mutex_lock(&st->lock);
    if (r == 0)
        remember(st, key);
    else if (r == -ENOENT)
        forget(st, key);
    pthread_mutex_unlock(&st->lock);
    /* Whatever it is now, each node looks again at what it enforces. */
    enqueue(env, NC_KEY_POLICIES);
    if (r == -ENOENT) {
        r = run.old_status ? nc_run_delete_status(&run) : 0;
        goto out;
    }
    if (r < 0 || !(errs = nc_verr_new())) {
        r = r < 0 ? r : -ENOMEM;
        goto out;
    }
    if (nc_netpol_spec_parse(value, ns, name, &spec, errs) < 0) {
        r = nc_run_report_invalid(
            &run, nc_status_new(run.old_status, run.generation, "Failed", run.now), errs);
        goto out;
    }
    if ((r = vms_of(env, ns, NULL, &l)) == 0) {
        cJSON *s = selected_status(&run, &spec, &l);

        r = nc_run_report(&run, s);
        cJSON_Delete(s);
    }
out:
    if (r == -ESTALE)
        r = 0;
    vms_clear(&l);
    nc_netpol_spec_clear(&spec);
    nc_verr_free(errs);
    free(value);
    nc_run_end(&run);
    return r;
}

/*
 * The pass over every policy: one per node, queued as NC_KEY_POLICIES.
 */

/* A growing list of borrowed addresses. */
struct addrs {
    const char **a;
    size_t n, cap;
};

static int
push(struct addrs *l, const char *a)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 8;
        const char **grown = realloc(l->a, cap * sizeof(*grown));

        if (!grown)
            return -ENOMEM;
        l->a = grown;
        l->cap = cap;
    }
    l->a[l->n++] = a;
    return 0;
}

/* One policy as this node enforces it. Addresses are borrowed from the
 * namespace's VMs (@vms, shared by the policies of one namespace) and
 * from @spec. */
struct pol {
    char key[2 * NC_NAME_MAX + 2];
    struct nc_netpol_spec spec;
    struct vms *vms;
    struct addrs local, peers[2 * NC_NETPOL_MAX_RULES];
    const char *cidrs[2 * NC_NETPOL_MAX_RULES][NC_NETPOL_MAX_PEERS];
    struct nc_fw_ports ports[2 * NC_NETPOL_MAX_RULES][NC_NETPOL_MAX_PORTS];
    struct nc_fw_rule rules[2 * NC_NETPOL_MAX_RULES];
    uint64_t selected; /* hash of the VMs it selects, cluster-wide */
};

static void
pol_clear(struct pol *p)
{
    nc_netpol_spec_clear(&p->spec);
    free(p->local.a);
    for (size_t i = 0; i < 2 * NC_NETPOL_MAX_RULES; i++)
        free(p->peers[i].a);
}

/* Fills @fw from @p (whose spec and VMs are set): its VMs on this node,
 * and for each rule the addresses of its peer VMs anywhere. */
static int
pol_build(struct pol *p, const char *node, struct nc_fw_policy *fw)
{
    const struct nc_netpol_spec *spec = &p->spec;
    const struct vms *l = p->vms;
    unsigned n_rules = spec->n_ingress + spec->n_egress;
    int r = 0;

    memset(fw, 0, sizeof(*fw));
    snprintf(fw->id, sizeof(fw->id), "p%012" PRIx64,
             nc_hash_str(NC_HASH_START, p->key) & UINT64_C(0xffffffffffff));
    p->selected = NC_HASH_START;
    for (size_t i = 0; i < l->n && r == 0; i++) {
        const struct vm *v = &l->v[i];

        if (!nc_labels_match(&spec->selector, &v->labels))
            continue;
        p->selected = nc_hash_str(nc_hash_str(p->selected, v->name), v->node);
        for (unsigned j = 0; j < v->n_ips && r == 0 && strcmp(v->node, node) == 0; j++)
            r = push(&p->local, v->ips[j]);
    }
    for (unsigned k = 0; k < n_rules && r == 0; k++) {
        const struct nc_netpol_rule *rule = &spec->rules[k];
        struct nc_fw_rule *out = &p->rules[k];

        out->any = rule->n_peers == 0;
        for (unsigned j = 0; j < rule->n_peers; j++) {
            const struct nc_netpol_peer *peer = &rule->peers[j];

            if (peer->is_cidr) {
                p->cidrs[k][out->cidrs.n++] = peer->cidr;
                continue;
            }
            out->has_vms = true;
            for (size_t i = 0; i < l->n && r == 0; i++)
                for (unsigned a = 0; nc_labels_match(&peer->selector, &l->v[i].labels) &&
                                     a < l->v[i].n_ips && r == 0;
                     a++)
                    r = push(&p->peers[k], l->v[i].ips[a]);
        }
        out->cidrs.a = p->cidrs[k];
        out->vms = (struct nc_fw_addrs){p->peers[k].a, p->peers[k].n};
        for (unsigned j = 0; j < rule->n_ports; j++)
            p->ports[k][j] = (struct nc_fw_ports){(enum nc_fw_proto)rule->ports[j].proto,
                                                  rule->ports[j].first, rule->ports[j].last};
        out->ports = p->ports[k];
        out->n_ports = rule->n_ports;
    }
    fw->vms = (struct nc_fw_addrs){p->local.a, p->local.n};
    fw->ingress = spec->ingress;
    fw->egress = spec->egress;
    fw->in = p->rules;
    fw->n_in = spec->n_ingress;
    fw->out = p->rules + spec->n_ingress;
    fw->n_out = spec->n_egress;
    return r;
}

struct prime {
    struct nc_netpol_state *st;
    size_t skip; /* length of "<prefix>spec/" */
};

static void
on_spec(void *data, const char *key)
{
    struct prime *p = data;
    char ns[NC_NAME_MAX + 1], kind[16], name[NC_NAME_MAX + 1], k[2 * NC_NAME_MAX + 2];

    if (nc_key_parse(key + p->skip, ns, kind, name) && strcmp(kind, "networkpolicy") == 0) {
        snprintf(k, sizeof(k), "%s/%s", ns, name);
        remember(p->st, k);
    }
}

/* The keys of every known policy, sorted (so that a namespace's are next
 * to each other); NULL on out of memory. */
static char **
known_keys(struct nc_env *env, size_t *ret_n)
{
    struct nc_netpol_state *st = env->netpol;
    struct known *k, *tmp;
    char **keys;
    size_t n = 0;

    pthread_mutex_lock(&st->lock);
    if (!st->primed) {
        /* The first pass finds what the cache holds: the policies' own
         * reconciles may not have run yet. */
        struct prime p = {st, strlen(env->prefix) + strlen("spec/")};

        nc_informer_foreach(env->specs, on_spec, &p);
        st->primed = true;
    }
    keys = calloc(HASH_COUNT(st->known) + 1, sizeof(*keys));
    /* cppcheck-suppress uninitvar ; uthash assigns the iterator itself */
    HASH_ITER(hh, st->known, k, tmp) {
        if (keys && !(keys[n++] = strdup(k->key)))
            n--;
    }
    pthread_mutex_unlock(&st->lock);
    if (keys)
        qsort(keys, n, sizeof(*keys), cmp_str);
    *ret_n = n;
    return keys;
}

/* Queues the status of every policy whose VMs changed since the last pass. */
static void
note_selected(struct nc_env *env, const struct pol *pols, size_t n)
{
    struct nc_netpol_state *st = env->netpol;
    char queue[NC_NAME_MAX * 2 + 20];

    for (size_t i = 0; i < n; i++) {
        struct known *k;
        bool changed = false;

        pthread_mutex_lock(&st->lock);
        HASH_FIND_STR(st->known, pols[i].key, k);
        if (k && k->selected != pols[i].selected) {
            k->selected = pols[i].selected;
            changed = true;
        }
        pthread_mutex_unlock(&st->lock);
        if (changed) {
            const char *slash = strchr(pols[i].key, '/');

            snprintf(queue, sizeof(queue), "%.*s/networkpolicy/%s", (int)(slash - pols[i].key),
                     pols[i].key, slash + 1);
            enqueue(env, queue);
        }
    }
}

/* The pass failed (the reason in nc_drv_errmsg()): a Warning event on
 * each policy it was to enforce, whose status stays as it is. */
static void
tell_failure(struct nc_ctx *ctx, const struct pol *pols, size_t n)
{
    char why[512];

    snprintf(why, sizeof(why), "%s", nc_drv_errmsg());
    nc_warn(NULL, "network policies not enforced on node %s: %s", ctx->env->node, why);
    for (size_t i = 0; i < n; i++) {
        const char *slash = strchr(pols[i].key, '/');
        char ns[NC_NAME_MAX + 1];
        struct nc_run run;

        snprintf(ns, sizeof(ns), "%.*s", (int)(slash - pols[i].key), pols[i].key);
        if (nc_run_begin(&run, ctx, ns, "networkpolicy", slash + 1) == 0 && run.old_status &&
            nc_run_spec_of(&run, "networkpolicy", slash + 1, &run.generation) == 0) {
            cJSON *same = cJSON_Duplicate(run.old_status, true);

            nc_run_event(&run, "Warning", "NotEnforced", "node %s: %s", ctx->env->node, why);
            if (nc_run_report(&run, same) < 0)
                nc_warn(run.key, "event not recorded");
            cJSON_Delete(same);
        }
        nc_run_end(&run);
    }
}

int
nc_netpol_sync(struct nc_ctx *ctx)
{
    struct nc_env *env = ctx->env;
    struct pol *pols = NULL;
    struct nc_fw_policy *fw = NULL;
    struct vms *spaces = NULL;
    size_t n_keys = 0, n = 0, n_spaces = 0;
    char **keys = NULL, table[24], mark[48];
    struct nc_verr *errs = NULL;
    int r = 0;

    if (!env->fw)
        return 0;
    /* Until the caches have held what etcd has (a revision), no policy
     * is known to be gone: the table is kept as it is. */
    if (nc_informer_revision(env->specs) == 0 || nc_informer_revision(env->statuses) == 0)
        return -EAGAIN;
    if (env->netpol)
        env->netpol->pass++;
    if (!(keys = known_keys(env, &n_keys)) || !(pols = calloc(n_keys + 1, sizeof(*pols))) ||
        !(fw = calloc(n_keys + 1, sizeof(*fw))) ||
        !(spaces = calloc(n_keys + 1, sizeof(*spaces))) || !(errs = nc_verr_new())) {
        r = -ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < n_keys && r == 0; i++) {
        struct pol *p = &pols[n];
        char ns[NC_NAME_MAX + 1], *value = NULL;
        const char *name = strchr(keys[i], '/') + 1;

        snprintf(ns, sizeof(ns), "%.*s", (int)(name - 1 - keys[i]), keys[i]);
        snprintf(p->key, sizeof(p->key), "%s", keys[i]);
        /* A policy that is gone or invalid enforces nothing: its status says why. */
        if (nc_informer_getf(env->specs, &value, NULL, "%sspec/%s/networkpolicy/%s",
                             env->prefix, ns, name) < 0 ||
            nc_netpol_spec_parse(value, ns, name, &p->spec, errs) < 0) {
            free(value);
            pol_clear(p);
            memset(p, 0, sizeof(*p));
            continue;
        }
        free(value);
        if ((!n_spaces || strcmp(spaces[n_spaces - 1].ns, ns) != 0) &&
            (r = vms_of(env, ns, env->netpol, &spaces[n_spaces++])) < 0)
            break;
        p->vms = &spaces[n_spaces - 1];
        r = pol_build(p, env->node, &fw[n]);
        n++;
    }
    if (r == 0) {
        snprintf(table, sizeof(table), "ncpol-%s", env->install_hash);
        snprintf(mark, sizeof(mark), "novacron:%s:policies", env->install_hash);
        if ((r = nc_fw_policies(env->fw, table, mark, fw, n)) < 0)
            tell_failure(ctx, pols, n);
        else
            note_selected(env, pols, n);
    }
out:
    for (size_t i = 0; pols && i < n; i++)
        pol_clear(&pols[i]);
    for (size_t i = 0; spaces && i < n_spaces; i++)
        vms_clear(&spaces[i]);
    if (env->netpol) { /* VMs this pass did not meet are gone, or of no policy's namespace */
        struct nc_netpol_state *s = env->netpol;
        struct seen_vm *e, *tmp;

        /* cppcheck-suppress uninitvar ; uthash assigns the iterator itself */
        HASH_ITER(hh, s->seen, e, tmp) {
            if (e->pass != s->pass)
                seen_free(s, e);
        }
    }
    for (size_t i = 0; keys && i < n_keys; i++)
        free(keys[i]);
    free(keys);
    free(pols);
    free(fw);
    free(spaces);
    nc_verr_free(errs);
    return r;
}

/* Start-up and resync: one pass, which also removes the table of policies
 * deleted while the daemon was down. */
static int
list_actual(struct nc_ctx *ctx, void (*fn)(void *data, const char *key), void *data)
{
    (void)ctx;
    fn(data, NC_KEY_POLICIES);
    return 0;
}

const struct nc_reconciler nc_networkpolicy_reconciler = {
    .kind = "networkpolicy",
    .init = state_init,
    .fini = state_fini,
    .reconcile = reconcile,
    .list_actual = list_actual,
};
