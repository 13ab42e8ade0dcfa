#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "schema/labels.h"
#include "schema/validate.h"

/* A name of at most 63 characters of [A-Za-z0-9._-], alphanumeric at
 * both ends (empty when @allow_empty). */
static bool
is_label_name(const char *s, bool allow_empty)
{
    size_t n = strlen(s);

    if (n == 0)
        return allow_empty;
    if (n > NC_LABEL_VALUE_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');

        if (!alnum && ((i == 0 || i == n - 1) || (c != '-' && c != '_' && c != '.')))
            return false;
    }
    return true;
}

bool
nc_is_label_key(const char *s)
{
    const char *slash = strchr(s, '/');
    char prefix[254];

    if (!slash)
        return is_label_name(s, false);
    if ((size_t)(slash - s) >= sizeof(prefix))
        return false;
    memcpy(prefix, s, (size_t)(slash - s));
    prefix[slash - s] = '\0';
    return nc_is_dns_subdomain(prefix) && is_label_name(slash + 1, false);
}

bool
nc_is_label_value(const char *s)
{
    return is_label_name(s, true);
}

int
nc_labels_set(struct nc_labels *l, const char *key, const char *value)
{
    char *v = strdup(value), *k = NULL, **kv;

    if (!v)
        return -ENOMEM;
    for (unsigned i = 0; i < l->n; i++) {
        if (strcmp(l->kv[2 * i], key) == 0) {
            free(l->kv[2 * i + 1]);
            l->kv[2 * i + 1] = v;
            return 0;
        }
    }
    if (!(k = strdup(key)) || !(kv = realloc(l->kv, (l->n + 1) * 2 * sizeof(*kv)))) {
        free(k);
        free(v);
        return -ENOMEM;
    }
    kv[2 * l->n] = k;
    kv[2 * l->n + 1] = v;
    l->kv = kv;
    l->n++;
    return 0;
}

int
nc_labels_from_json(const cJSON *map, struct nc_labels *ret)
{
    const cJSON *m;
    unsigned n = 0;

    memset(ret, 0, sizeof(*ret));
    cJSON_ArrayForEach(m, map)
        n += cJSON_IsString(m);
    if (!n)
        return 0;
    /* The validators refuse a repeated key, so none is looked for here:
     * linear in the labels, however many. */
    if (!(ret->kv = calloc(2 * (size_t)n, sizeof(*ret->kv))))
        return -ENOMEM;
    cJSON_ArrayForEach(m, map) {
        if (!cJSON_IsString(m))
            continue;
        ret->kv[2 * ret->n] = strdup(m->string);
        ret->kv[2 * ret->n + 1] = strdup(m->valuestring);
        if (!ret->kv[2 * ret->n++] || !ret->kv[2 * ret->n - 1]) {
            nc_labels_clear(ret);
            return -ENOMEM;
        }
    }
    return 0;
}

void
nc_labels_clear(struct nc_labels *l)
{
    for (unsigned i = 0; i < 2 * l->n; i++)
        free(l->kv[i]);
    free(l->kv);
    memset(l, 0, sizeof(*l));
}

const char *
nc_labels_get(const struct nc_labels *l, const char *key)
{
    for (unsigned i = 0; i < l->n; i++)
        if (strcmp(l->kv[2 * i], key) == 0)
            return l->kv[2 * i + 1];
    return NULL;
}

bool
nc_labels_match(const struct nc_labels *selector, const struct nc_labels *l)
{
    for (unsigned i = 0; i < selector->n; i++) {
        const char *v = nc_labels_get(l, selector->kv[2 * i]);

        if (!v || strcmp(v, selector->kv[2 * i + 1]) != 0)
            return false;
    }
    return true;
}

cJSON *
nc_labels_to_json(const struct nc_labels *l)
{
    cJSON *o = cJSON_CreateObject();

    for (unsigned i = 0; o && i < l->n; i++) {
        if (!cJSON_AddStringToObject(o, l->kv[2 * i], l->kv[2 * i + 1])) {
            cJSON_Delete(o);
            return NULL;
        }
    }
    return o;
}
