#include <errno.h>
#include <string.h>
#include <time.h>

#include "reconcilers/status.h"

const cJSON *
nc_status_find_condition(const cJSON *status, const char *type)
{
    const cJSON *c;

    cJSON_ArrayForEach(c, cJSON_GetObjectItem(status, "conditions")) {
        const cJSON *t = cJSON_GetObjectItem(c, "type");

        if (cJSON_IsString(t) && strcmp(t->valuestring, type) == 0)
            return c;
    }
    return NULL;
}

bool
nc_status_condition_true(const cJSON *status, const char *type)
{
    const cJSON *s = cJSON_GetObjectItem(nc_status_find_condition(status, type), "status");

    return cJSON_IsString(s) && strcmp(s->valuestring, "True") == 0;
}

void
nc_status_condition(cJSON *status, const cJSON *old_status, const char *type, bool ok,
                    const char *reason, const char *message, int64_t generation,
                    const char *now)
{
    cJSON *conds = cJSON_GetObjectItem(status, "conditions");
    cJSON *c = cJSON_CreateObject();
    const cJSON *old = nc_status_find_condition(old_status, type);
    const cJSON *old_ltt = cJSON_GetObjectItem(old, "lastTransitionTime");
    const char *since = now;

    if (!conds)
        conds = cJSON_AddArrayToObject(status, "conditions");
    if (old && nc_status_condition_true(old_status, type) == ok && cJSON_IsString(old_ltt))
        since = old_ltt->valuestring;
    cJSON_AddStringToObject(c, "type", type);
    cJSON_AddStringToObject(c, "status", ok ? "True" : "False");
    cJSON_AddStringToObject(c, "reason", reason);
    cJSON_AddStringToObject(c, "message", message);
    cJSON_AddNumberToObject(c, "observedGeneration", (double)generation);
    cJSON_AddStringToObject(c, "lastTransitionTime", since);
    cJSON_AddItemToArray(conds, c);
}

cJSON *
nc_status_new(const cJSON *old_status, int64_t generation, const char *phase, const char *now)
{
    const cJSON *first = cJSON_GetObjectItemCaseSensitive(old_status, "firstObservedTime");
    cJSON *s = cJSON_CreateObject();

    cJSON_AddNumberToObject(s, "observedGeneration", (double)generation);
    cJSON_AddStringToObject(s, "phase", phase);
    cJSON_AddStringToObject(s, "firstObservedTime",
                            cJSON_IsString(first) ? first->valuestring : now);
    cJSON_AddArrayToObject(s, "conditions");
    return s;
}

bool
nc_status_changed(const cJSON *old_status, const cJSON *new_status)
{
    if (!old_status || !new_status)
        return old_status != new_status;
    return !cJSON_Compare(old_status, new_status, true);
}

int
nc_status_write(struct nc_commit *g, struct nc_etcd *c, const char *spec_key,
                int64_t spec_revision, const char *status_key, int64_t status_revision,
                const char *status_text, const struct nc_op *extra, size_t n_extra,
                const struct nc_cmp *extra_cmp, size_t n_extra_cmp, bool *ret_applied,
                int64_t *ret_revision)
{
    struct nc_cmp cmp[2 + 4] = {{
        .key = spec_key,
        .target = spec_revision ? NC_CMP_MOD : NC_CMP_CREATE,
        .result = NC_CMP_EQUAL,
        .number = spec_revision,
    }};
    struct nc_op ops[1 + 48];
    size_t n = 0, n_cmp = 1;

    if (n_extra > 48 || n_extra_cmp > 4)
        return -E2BIG;
    if (status_key && status_revision >= 0)
        cmp[n_cmp++] = (struct nc_cmp){.key = status_key, .target = NC_CMP_MOD,
                                       .result = NC_CMP_EQUAL, .number = status_revision};
    if (status_key)
        ops[n++] = status_text ? (struct nc_op){.key = status_key, .value = status_text}
                               : (struct nc_op){.del = true, .key = status_key};
    memcpy(ops + n, extra, n_extra * sizeof(*extra));
    if (n_extra_cmp)
        memcpy(cmp + n_cmp, extra_cmp, n_extra_cmp * sizeof(*extra_cmp));
    n_cmp += n_extra_cmp;
    return nc_commit_txn(g, c, cmp, n_cmp, ops, n + n_extra, NULL, 0, ret_applied,
                         ret_revision);
}
