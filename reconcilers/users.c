#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reconcilers/users.h"
#include "schema/vm.h"

static const struct {
    const char *list, *member;
} uses[] = {
    [NC_USE_VOLUME] = {"disks", "volume"},
    [NC_USE_NETWORK] = {"interfaces", "network"},
};

struct users_ctx {
    struct nc_env *env;
    enum nc_use use;
    const char *name;
    char spec_prefix[320], status_prefix[320];
    void (*fn)(void *data, const char *vm);
    void *data;
    cJSON *seen;
};

bool
nc_lists(const cJSON *list, const char *member, const char *name)
{
    const cJSON *d;

    cJSON_ArrayForEach(d, list) {
        const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, member));

        if (v && strcmp(v, name) == 0)
            return true;
    }
    return false;
}

static void
check_user(struct users_ctx *uc, struct nc_informer *inf, const char *key, size_t skip,
           bool spec)
{
    const char *vm = key + skip, *list = uses[uc->use].list;
    char *value = NULL;
    int64_t rev;
    cJSON *doc;
    bool used;

    if (strchr(vm, '/') || nc_informer_get(inf, key, &value, &rev) < 0)
        return;
    doc = cJSON_Parse(value);
    free(value);
    used = nc_lists(spec ? cJSON_GetObjectItemCaseSensitive(
                            cJSON_GetObjectItemCaseSensitive(doc, "spec"), list)
                      : cJSON_GetObjectItemCaseSensitive(doc, list),
                 uses[uc->use].member, uc->name);
    cJSON_Delete(doc);
    if (!used)
        return;
    for (const cJSON *s = uc->seen->child; s; s = s->next)
        if (strcmp(s->valuestring, vm) == 0)
            return;
    cJSON_AddItemToArray(uc->seen, cJSON_CreateString(vm));
    uc->fn(uc->data, vm);
}

static void
on_spec_key(void *data, const char *key)
{
    struct users_ctx *uc = data;

    check_user(uc, uc->env->specs, key, strlen(uc->spec_prefix), true);
}

static void
on_status_key(void *data, const char *key)
{
    struct users_ctx *uc = data;

    check_user(uc, uc->env->statuses, key, strlen(uc->status_prefix), false);
}

void
nc_vm_users(struct nc_env *env, enum nc_use use, const char *ns, const char *name,
            void (*fn)(void *data, const char *vm), void *data)
{
    struct users_ctx uc = {.env = env, .use = use, .name = name, .fn = fn, .data = data};

    snprintf(uc.spec_prefix, sizeof(uc.spec_prefix), "%sspec/%s/vm/", env->prefix, ns);
    snprintf(uc.status_prefix, sizeof(uc.status_prefix), "%sstatus/%s/vm/", env->prefix, ns);
    if (!(uc.seen = cJSON_CreateArray()))
        return;
    nc_informer_foreach_prefix(env->specs, uc.spec_prefix, on_spec_key, &uc);
    nc_informer_foreach_prefix(env->statuses, uc.status_prefix, on_status_key, &uc);
    cJSON_Delete(uc.seen);
}

static int
cmp_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void
collect(void *data, const char *vm)
{
    cJSON_AddItemToArray(data, cJSON_CreateString(vm));
}

cJSON *
nc_vm_users_sorted(struct nc_env *env, enum nc_use use, const char *ns, const char *name)
{
    cJSON *list = cJSON_CreateArray(), *sorted;
    const char *names[256] = {0};
    int n = 0;

    nc_vm_users(env, use, ns, name, collect, list);
    for (const cJSON *u = list ? list->child : NULL; u && n < 256; u = u->next)
        names[n++] = u->valuestring;
    qsort(names, (size_t)n, sizeof(names[0]), cmp_names);
    sorted = cJSON_CreateStringArray(names, n);
    cJSON_Delete(list);
    return sorted;
}

static void
enqueue_user(void *data, const char *vm)
{
    nc_run_enqueue(data, "vm", vm);
}

void
nc_vm_users_enqueue(struct nc_run *run, enum nc_use use)
{
    nc_vm_users(run->ctx->env, use, run->ns, run->name, enqueue_user, run);
}

void
nc_users_join(const cJSON *users, char *buf, size_t n)
{
    size_t len = 0;

    buf[0] = '\0';
    for (const cJSON *u = users ? users->child : NULL; u && len < n; u = u->next)
        len += (size_t)snprintf(buf + len, n - len, "%s%s", len ? ", " : "", u->valuestring);
}

bool
nc_vm_node(struct nc_env *env, const char *ns, const char *vm, char *where, size_t wheresz)
{
    struct nc_verr *errs = NULL;
    struct nc_vm_spec spec;
    char *value = NULL;

    where[0] = '\0';
    if (nc_informer_getf(env->placements, &value, NULL, "%splacement/%s/%s", env->prefix, ns,
                         vm) == 0)
        snprintf(where, wheresz, "%s", value);
    free(value);
    value = NULL;
    if (!where[0] &&
        nc_informer_getf(env->specs, &value, NULL, "%sspec/%s/vm/%s", env->prefix, ns, vm) == 0 &&
        (errs = nc_verr_new()) && nc_vm_spec_parse(value, ns, vm, &spec, errs) == 0) {
        snprintf(where, wheresz, "%s", spec.node);
        nc_vm_spec_clear(&spec);
    }
    nc_verr_free(errs);
    free(value);
    value = NULL;
    if (!where[0] && nc_informer_getf(env->statuses, &value, NULL, "%sstatus/%s/vm/%s",
                                      env->prefix, ns, vm) == 0) {
        cJSON *st = cJSON_Parse(value);
        const char *node = cJSON_GetStringValue(cJSON_GetObjectItem(st, "node"));

        snprintf(where, wheresz, "%s", node ? node : "");
        cJSON_Delete(st);
    }
    free(value);
    return where[0] != '\0';
}

struct in_progress {
    struct nc_env *env;
    char prefix[256];
    const char *vm;
    bool yes;
};

static void
on_request_key(void *data, const char *key)
{
    struct in_progress *o = data;
    char *text = NULL;
    cJSON *st = NULL;
    const char *phase, *vm, *node;
    int64_t rev;

    if (o->yes)
        return;
    if (nc_informer_get(o->env->statuses, key, &text, &rev) == 0)
        st = cJSON_Parse(text);
    free(text);
    phase = cJSON_GetStringValue(cJSON_GetObjectItem(st, "phase"));
    vm = cJSON_GetStringValue(cJSON_GetObjectItem(st, "vm"));
    node = cJSON_GetStringValue(cJSON_GetObjectItem(st, "node"));
    o->yes = phase && vm && node && strcmp(phase, "InProgress") == 0 &&
             strcmp(vm, o->vm) == 0 && strcmp(node, o->env->node) == 0;
    cJSON_Delete(st);
}

bool
nc_vm_in_progress(struct nc_env *env, const char *ns, const char *kind, const char *vm)
{
    struct in_progress o = {.env = env, .vm = vm};

    snprintf(o.prefix, sizeof(o.prefix), "%sstatus/%s/%s/", env->prefix, ns, kind);
    nc_informer_foreach_prefix(env->statuses, o.prefix, on_request_key, &o);
    return o.yes;
}
