#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "scheduler/inventory.h"

int
nc_inventory_json(const struct nc_inventory *inv, cJSON *o)
{
    cJSON *alloc = cJSON_AddObjectToObject(o, "allocatable");
    cJSON *over = cJSON_AddObjectToObject(o, "overcommit");
    cJSON *cap = cJSON_AddObjectToObject(o, "capacity");
    cJSON *labels = nc_labels_to_json(inv->labels), *pools = cJSON_AddArrayToObject(o, "pools");
    unsigned vcpus = inv->host_vcpus > inv->reserve_vcpus ? inv->host_vcpus - inv->reserve_vcpus : 0;
    uint64_t mem = inv->host_memory > inv->reserve_memory ? inv->host_memory - inv->reserve_memory : 0;

    if (!alloc || !over || !cap || !labels || !pools || !cJSON_AddItemToObject(o, "labels", labels)) {
        cJSON_Delete(labels);
        return -ENOMEM;
    }
    cJSON_AddNumberToObject(cap, "vcpus", inv->host_vcpus);
    cJSON_AddNumberToObject(cap, "memory", (double)inv->host_memory);
    cJSON_AddNumberToObject(alloc, "vcpus", vcpus);
    cJSON_AddNumberToObject(alloc, "memory", (double)mem);
    cJSON_AddNumberToObject(over, "cpu", inv->cpu_ratio);
    cJSON_AddNumberToObject(over, "memory", inv->memory_ratio);
    for (unsigned i = 0; i < inv->n_pools; i++) {
        cJSON *p = cJSON_CreateObject();

        if (!p || !cJSON_AddItemToArray(pools, p)) {
            cJSON_Delete(p);
            return -ENOMEM;
        }
        cJSON_AddStringToObject(p, "name", inv->pools[i].name);
        cJSON_AddBoolToObject(p, "shared", inv->pools[i].shared);
    }
    cJSON *rts = cJSON_AddArrayToObject(o, "runtimes");

    for (int rt = 0; rts && rt < NC_RUNTIME_COUNT; rt++)
        if (inv->runtimes & (1u << rt))
            cJSON_AddItemToArray(rts, cJSON_CreateString(nc_runtime_names[rt]));
    return rts ? 0 : -ENOMEM;
}

/* A number member of @o from @min to @max; false when absent or not one. */
static bool
number(const cJSON *o, const char *name, double min, double max, double *ret)
{
    const cJSON *v = cJSON_GetObjectItem(o, name);

    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble < min ||
        v->valuedouble > max)
        return false;
    *ret = v->valuedouble;
    return true;
}

static int
parse(const char *name, const cJSON *doc, struct nc_sched_node *n)
{
    const cJSON *alloc = cJSON_GetObjectItem(doc, "allocatable");
    const cJSON *over = cJSON_GetObjectItem(doc, "overcommit"), *p, *l;
    double vcpus, memory, host;

    if (strlen(name) >= sizeof(n->name) || !number(alloc, "vcpus", 0, 1 << 20, &vcpus) ||
        !number(alloc, "memory", 0, 0x1p62, &memory) ||
        !number(over, "cpu", 0, 1000, &n->cpu_ratio) ||
        !number(over, "memory", 0, 1000, &n->memory_ratio))
        return -EINVAL;
    snprintf(n->name, sizeof(n->name), "%s", name);
    n->vcpus = (unsigned)vcpus;
    n->host_cpus = number(cJSON_GetObjectItem(doc, "capacity"), "vcpus", 0, 1 << 20, &host)
                       ? (unsigned)host
                       : n->vcpus;
    n->memory = (uint64_t)memory;
    cJSON_ArrayForEach(l, cJSON_GetObjectItem(doc, "labels")) {
        if (n->labels.n >= NC_SCHED_MAX_LABELS)
            break;
        if (cJSON_IsString(l) && nc_is_label_key(l->string) &&
            nc_is_label_value(l->valuestring) && strcmp(l->string, NC_LABEL_NODE) != 0 &&
            nc_labels_set(&n->labels, l->string, l->valuestring) < 0)
            return -ENOMEM;
    }
    if (nc_labels_set(&n->labels, NC_LABEL_NODE, name) < 0)
        return -ENOMEM;
    cJSON_ArrayForEach(p, cJSON_GetObjectItem(doc, "pools")) {
        const char *pool = cJSON_GetStringValue(cJSON_GetObjectItem(p, "name"));

        if (!pool || strlen(pool) > NC_SCHED_POOL_MAX || n->n_pools == NC_SCHED_MAX_POOLS)
            continue;
        snprintf(n->pools[n->n_pools].name, sizeof(n->pools[0].name), "%s", pool);
        n->pools[n->n_pools++].shared = cJSON_IsTrue(cJSON_GetObjectItem(p, "shared"));
    }
    /* A registration from before runtimes runs guests only. */
    n->runtimes = 1u << NC_RUNTIME_VM;
    cJSON_ArrayForEach(p, cJSON_GetObjectItem(doc, "runtimes")) {
        for (int rt = 0; rt < NC_RUNTIME_COUNT; rt++)
            if (cJSON_IsString(p) && strcmp(p->valuestring, nc_runtime_names[rt]) == 0)
                n->runtimes |= 1u << rt;
    }
    return 0;
}

int
nc_sched_node_parse(const char *name, const char *json, struct nc_sched_node *ret)
{
    cJSON *doc = cJSON_Parse(json);
    int r;

    memset(ret, 0, sizeof(*ret));
    if (!doc)
        return -EINVAL;
    if ((r = parse(name, doc, ret)) < 0)
        nc_sched_node_clear(ret);
    cJSON_Delete(doc);
    return r;
}

void
nc_sched_node_clear(struct nc_sched_node *n)
{
    nc_labels_clear(&n->labels);
    memset(n, 0, sizeof(*n));
}

const struct nc_sched_pool *
nc_sched_node_pool(const struct nc_sched_node *n, const char *pool)
{
    for (unsigned i = 0; i < n->n_pools; i++)
        if (strcmp(n->pools[i].name, pool) == 0)
            return &n->pools[i];
    return NULL;
}

uint64_t
nc_sched_node_cpu_limit(const struct nc_sched_node *n)
{
    unsigned shared = n->vcpus > n->n_dedicated ? n->vcpus - n->n_dedicated : 0;

    return (uint64_t)floor(shared * n->cpu_ratio + 1e-9);
}

uint64_t
nc_sched_node_memory_limit(const struct nc_sched_node *n)
{
    return (uint64_t)floor((double)n->memory * n->memory_ratio + 0.5);
}
