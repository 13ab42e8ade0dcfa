#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scheduler/scheduler.h"

const char *const nc_sched_policy_names[] = {"spread", "pack", NULL};

/* Why a node cannot take a VM, in the order the filters run. */
enum unfit {
    FITS,
    CURRENT,
    NOT_ASKED,
    CORDONED,
    NO_RUNTIME,
    SELECTOR,
    VOLUME_NODE,
    NO_POOL,
    NO_CPU,
    NO_MEMORY,
    NO_SUCH_CPU,
    CPU_PINNED,
    ANTI_AFFINITY,
    N_UNFIT,
};

static const char *const unfit_text[N_UNFIT] = {
    [CURRENT] = "where it runs now",
    [NOT_ASKED] = "not the targetNode",
    [CORDONED] = "cordoned",
    [NO_RUNTIME] = "without its runtime",
    [SELECTOR] = "not matching nodeSelector",
    [VOLUME_NODE] = "not where its volumes are",
    [NO_POOL] = "without its storage pool",
    [NO_CPU] = "insufficient cpu",
    [NO_MEMORY] = "insufficient memory",
    [NO_SUCH_CPU] = "without the CPUs it pins",
    [CPU_PINNED] = "its pinned CPUs dedicated to other VMs",
    [ANTI_AFFINITY] = "anti-affinity",
};

/* True when VM @other, of @vm's namespace, carries every label of @match. */
static bool
selects(const struct nc_sched_vm *vm, const struct nc_labels *match,
        const struct nc_sched_vm *other)
{
    return other != vm && strcmp(other->ns, vm->ns) == 0 && nc_labels_match(match, other->labels);
}

/* True when nodes @a and @b are in the same domain of label @key; a node
 * without the label is in no domain. */
static bool
same_domain(const struct nc_sched *s, int a, int b, const char *key)
{
    const char *va = nc_labels_get(&s->nodes[a].labels, key);
    const char *vb = nc_labels_get(&s->nodes[b].labels, key);

    return va && vb && strcmp(va, vb) == 0;
}

/*
 * How many placed VMs an anti-affinity term of @vm (@a) or, the other way
 * round, a term of a placed VM that selects @vm (the rule holds both
 * ways, as in Kubernetes) puts against node @node. Counts the required
 * ones into *@hard and the preferred ones into *@soft.
 */
static void
anti_count(const struct nc_sched *s, const struct nc_sched_vm *vm, int node, unsigned *hard,
           unsigned *soft)
{
    const struct nc_vm_placement *p = vm->placement;

    *hard = *soft = 0;
    if (!(p && p->n_anti) && !s->n_anti)
        return; /* no rule on either side: nothing to look at */
    for (size_t i = 0; i < s->n_vms; i++) {
        const struct nc_sched_vm *o = s->vms[i];
        const struct nc_vm_placement *op = o->placement;

        if (o->node < 0)
            continue;
        for (unsigned t = 0; p && t < p->n_anti; t++)
            if (selects(vm, &p->anti[t].match, o) &&
                same_domain(s, node, o->node, p->anti[t].topology))
                (*(p->anti[t].required ? hard : soft))++;
        for (unsigned t = 0; op && t < op->n_anti; t++)
            if (op->anti[t].required && selects(o, &op->anti[t].match, vm) &&
                same_domain(s, node, o->node, op->anti[t].topology))
                (*hard)++;
    }
}

static enum unfit
filter(const struct nc_sched *s, const struct nc_sched_vm *vm, int i, unsigned *soft)
{
    const struct nc_sched_node *n = &s->nodes[i];
    unsigned hard;

    if (vm->avoid && strcmp(vm->avoid, n->name) == 0)
        return CURRENT;
    if (vm->only && strcmp(vm->only, n->name) != 0)
        return NOT_ASKED;
    if (n->cordoned)
        return CORDONED;
    if (!(n->runtimes & (1u << vm->runtime)))
        return NO_RUNTIME;
    if (vm->placement && !nc_labels_match(&vm->placement->node_selector, &n->labels))
        return SELECTOR;
    if (vm->pin && vm->pin[0] && strcmp(vm->pin, n->name) != 0)
        return VOLUME_NODE;
    for (unsigned p = 0; p < vm->n_pools; p++)
        if (!nc_sched_node_pool(n, vm->pools[p]))
            return NO_POOL;
    if (vm->n_pinned) {
        unsigned dedicated = n->n_dedicated + vm->n_pinned;

        for (unsigned c = n->host_cpus; c < NC_VM_MAX_CPU; c++)
            if (nc_cpuset_has(vm->pinning, c))
                return NO_SUCH_CPU;
        for (unsigned w = 0; w < NC_VM_MAX_CPU / 64; w++)
            if (vm->pinning->bits[w] & n->dedicated.bits[w])
                return CPU_PINNED;
        /* Its CPUs leave the shared ones: what runs there must still fit. */
        if (dedicated > n->vcpus ||
            n->used_vcpus > (uint64_t)floor((n->vcpus - dedicated) * n->cpu_ratio + 1e-9))
            return NO_CPU;
    } else if (n->used_vcpus + vm->vcpus > nc_sched_node_cpu_limit(n)) {
        return NO_CPU;
    }
    if (n->used_memory + vm->memory > nc_sched_node_memory_limit(n))
        return NO_MEMORY;
    anti_count(s, vm, i, &hard, soft);
    return hard ? ANTI_AFFINITY : FITS;
}

/* How many placed VMs that the spread counts are in node @node's domain. */
static unsigned
spread_count(const struct nc_sched *s, const struct nc_sched_vm *vm, int node)
{
    const struct nc_vm_placement *p = vm->placement;
    unsigned n = 0;

    for (size_t i = 0; i < s->n_vms; i++)
        if (s->vms[i]->node >= 0 && selects(vm, &p->spread_match, s->vms[i]) &&
            same_domain(s, node, s->vms[i]->node, p->spread_key))
            n++;
    return n;
}

/* The share of @n left free after @vm, 0 to 2 (CPU and memory). */
static double
free_share(const struct nc_sched_node *n, const struct nc_sched_vm *vm)
{
    double cpu = (double)nc_sched_node_cpu_limit(n), mem = (double)nc_sched_node_memory_limit(n);

    return (cpu > 0 ? (cpu - (double)(n->used_vcpus + vm->vcpus)) / cpu : 0) +
           (mem > 0 ? (mem - (double)(n->used_memory + vm->memory)) / mem : 0);
}

struct score {
    unsigned spread; /* VMs of the spread in the node's domain; UINT32_MAX: no domain */
    unsigned soft;   /* preferred anti-affinity broken */
    double share;    /* the policy's preference, higher is better */
};

/* True when @a beats @b: fewer in the spread's domain, then fewer soft
 * anti-affinity matches, then the policy. */
static bool
better(const struct score *a, const struct score *b)
{
    if (a->spread != b->spread)
        return a->spread < b->spread;
    if (a->soft != b->soft)
        return a->soft < b->soft;
    return a->share > b->share + 1e-12;
}

/* "0/3 nodes: 2 insufficient memory, 1 cordoned", most frequent first. */
static void
explain(const struct nc_sched *s, const unsigned count[N_UNFIT], char *why, size_t whysz)
{
    bool done[N_UNFIT] = {0};
    const char *sep = ":";
    size_t len;

    len = (size_t)snprintf(why, whysz, "0/%u nodes", s->n_nodes);
    if (s->n_nodes == 0)
        snprintf(why + len, whysz > len ? whysz - len : 0, ": none registered");
    for (;;) {
        int best = -1;

        for (int u = FITS + 1; u < N_UNFIT; u++)
            if (!done[u] && count[u] && (best < 0 || count[u] > count[best]))
                best = u;
        if (best < 0 || len >= whysz)
            return;
        done[best] = true;
        len += (size_t)snprintf(why + len, whysz - len, "%s %u %s", sep, count[best],
                                unfit_text[best]);
        sep = ",";
    }
}

int
nc_sched_pick(const struct nc_sched *s, const struct nc_sched_vm *vm, char *why, size_t whysz)
{
    unsigned count[N_UNFIT] = {0};
    struct score best_score = {0};
    int best = -1;

    for (unsigned i = 0; i < s->n_nodes; i++) {
        struct score sc = {0};
        enum unfit u = filter(s, vm, (int)i, &sc.soft);

        count[u]++;
        if (u != FITS)
            continue;
        if (vm->placement && vm->placement->spread_key[0])
            sc.spread = nc_labels_get(&s->nodes[i].labels, vm->placement->spread_key)
                            ? spread_count(s, vm, (int)i)
                            : UINT32_MAX;
        sc.share = free_share(&s->nodes[i], vm);
        if (s->policy == NC_SCHED_PACK)
            sc.share = -sc.share;
        if (best < 0 || better(&sc, &best_score)) {
            best = (int)i;
            best_score = sc;
        }
    }
    if (best < 0)
        explain(s, count, why, whysz);
    return best;
}

static bool
has_required_anti(const struct nc_sched_vm *vm)
{
    for (unsigned t = 0; vm->placement && t < vm->placement->n_anti; t++)
        if (vm->placement->anti[t].required)
            return true;
    return false;
}

void
nc_sched_add(struct nc_sched *s, const struct nc_sched_vm *vm)
{
    s->vms[s->n_vms++] = vm;
    s->n_anti += has_required_anti(vm);
}

void
nc_sched_account(struct nc_sched *s, const struct nc_sched_vm *vm, int node, int sign)
{
    struct nc_sched_node *n;

    if (node < 0 || (unsigned)node >= s->n_nodes)
        return;
    n = &s->nodes[node];
    for (unsigned w = 0; vm->n_pinned && w < NC_VM_MAX_CPU / 64; w++)
        n->dedicated.bits[w] = sign > 0 ? n->dedicated.bits[w] | vm->pinning->bits[w]
                                        : n->dedicated.bits[w] & ~vm->pinning->bits[w];
    if (sign > 0) {
        n->n_dedicated += vm->n_pinned;
        /* A VM that pins CPUs has them to itself: it takes none of the
         * shared vCPUs. */
        n->used_vcpus += vm->n_pinned ? 0 : vm->vcpus;
        n->used_memory += vm->memory;
        n->n_vms++;
    } else {
        unsigned vcpus = vm->n_pinned ? 0 : vm->vcpus;

        n->n_dedicated -= n->n_dedicated >= vm->n_pinned ? vm->n_pinned : n->n_dedicated;
        n->used_vcpus -= n->used_vcpus >= vcpus ? vcpus : n->used_vcpus;
        n->used_memory -= n->used_memory >= vm->memory ? vm->memory : n->used_memory;
        n->n_vms -= n->n_vms > 0;
    }
}
