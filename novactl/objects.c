#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/names.h"
#include "novactl/objects.h"
#include "schema/validate.h"

/* Splits "<prefix><space>/<ns>/<segment>/<name>" into its parts. */
static bool
parse_key(const struct cli *c, const char *key, const char **space, char ns[NC_NAME_MAX + 1],
          const struct nc_kind **kind, char name[NC_NAME_MAX + 1])
{
    size_t plen = strlen(c->prefix);
    char rest[256], *save = NULL, *parts[4];
    int n = 0;

    if (strncmp(key, c->prefix, plen) != 0)
        return false;
    key += plen;
    if (strncmp(key, "spec/", 5) == 0)
        *space = "spec";
    else if (strncmp(key, "status/", 7) == 0)
        *space = "status";
    else
        return false;
    snprintf(rest, sizeof(rest), "%s", key + strlen(*space) + 1);
    for (char *t = strtok_r(rest, "/", &save); t && n < 4; t = strtok_r(NULL, "/", &save))
        parts[n++] = t;
    if (n != 3 || !nc_is_dns_label(parts[0]) || !nc_is_dns_label(parts[2]))
        return false;
    *kind = nc_kind_by_segment(parts[1]);
    if (!*kind)
        return false;
    snprintf(ns, NC_NAME_MAX + 1, "%s", parts[0]);
    snprintf(name, NC_NAME_MAX + 1, "%s", parts[2]);
    return true;
}

static int
obj_cmp(const void *a, const void *b)
{
    const struct cli_obj *x = a, *y = b;
    int r = strcmp(x->ns, y->ns);

    if (!r)
        r = strcmp(x->kind->segment, y->kind->segment);
    return r ? r : strcmp(x->name, y->name);
}

struct cli_obj *
cli_objs_find(struct cli_objs *objs, const struct nc_kind *k, const char *ns, const char *name,
              bool create)
{
    struct cli_obj key = {.kind = k}, *o;

    snprintf(key.ns, sizeof(key.ns), "%s", ns);
    snprintf(key.name, sizeof(key.name), "%s", name);
    o = objs->n ? bsearch(&key, objs->items, objs->n, sizeof(key), obj_cmp) : NULL;
    if (o || !create)
        return o;
    if (objs->n == objs->cap) {
        size_t cap = objs->cap ? objs->cap * 2 : 64;
        struct cli_obj *items = realloc(objs->items, cap * sizeof(*items));

        if (!items)
            return NULL;
        objs->items = items;
        objs->cap = cap;
    }
    /* Insert in order, so lookups stay a binary search. */
    for (o = objs->items + objs->n; o > objs->items && obj_cmp(o - 1, &key) > 0; o--)
        ;
    memmove(o + 1, o, (size_t)(objs->items + objs->n - o) * sizeof(*o));
    *o = key;
    objs->n++;
    return o;
}

static void
set_value(struct cli_obj *o, const char *space, const char *value, int64_t mod_revision)
{
    if (strcmp(space, "spec") == 0) {
        cJSON_Delete(o->spec);
        o->spec = value ? cJSON_Parse(value) : NULL;
        o->has_spec = value != NULL;
        o->generation = value ? mod_revision : 0;
    } else {
        cJSON_Delete(o->status);
        o->status = value ? cJSON_Parse(value) : NULL;
    }
}

struct fetch {
    struct cli *c;
    const struct nc_kind *kind;
    struct cli_objs *objs;
};

static int
fetch_one(const struct nc_kv *kv, void *data)
{
    struct fetch *f = data;
    const struct nc_kind *k;
    const char *space;
    char ns[NC_NAME_MAX + 1], name[NC_NAME_MAX + 1];
    struct cli_obj *o;

    if (!parse_key(f->c, kv->key, &space, ns, &k, name) || (f->kind && k != f->kind))
        return 0;
    o = cli_objs_find(f->objs, k, ns, name, true);
    if (!o)
        return -ENOMEM;
    set_value(o, space, kv->value, kv->mod_revision);
    return 0;
}

/* Lists @ns (NULL: every namespace) into @ret, keeping what it holds. */
static int
fetch_ns(struct cli *c, const struct nc_kind *k, const char *ns, struct cli_objs *ret)
{
    static const char *const spaces[] = {"spec", "status"};
    struct fetch f = {c, k, ret};
    struct nc_etcd *etcd = cli_etcd(c);

    if (!etcd)
        return -ENOMEM;
    for (size_t i = 0; i < 2; i++) {
        char prefix[512];
        int64_t rev;
        int r;

        /* In one namespace the kind narrows the range; across all of them
         * the namespace comes first in the key, so filter instead. */
        if (ns && k)
            snprintf(prefix, sizeof(prefix), "%s%s/%s/%s/", c->prefix, spaces[i], ns,
                     k->segment);
        else if (ns)
            snprintf(prefix, sizeof(prefix), "%s%s/%s/", c->prefix, spaces[i], ns);
        else
            snprintf(prefix, sizeof(prefix), "%s%s/", c->prefix, spaces[i]);
        if ((r = nc_etcd_list(etcd, prefix, 1000, fetch_one, &f, &rev)) < 0)
            return r;
        /* The spec list is the older one: watching from it replays what
         * changed until the status list, which updates are idempotent for.
         * Across several namespaces, the oldest of them. */
        if (i == 0 && (!ret->revision || rev < ret->revision))
            ret->revision = rev;
    }
    return 0;
}

struct readable {
    const struct cli *c;
    struct cli_objs *objs;
};

/* Adds the namespace of a read permission on "<prefix>spec/<ns>/" and all
 * under it to the list in @data (a struct readable). */
static int
add_readable_ns(const char *key, const char *range_end, void *data)
{
    const struct cli *c = ((struct readable *)data)->c;
    struct cli_objs *objs = ((struct readable *)data)->objs;
    size_t skip = strlen(c->prefix) + 5; /* "<prefix>spec/" */
    const char *ns, *slash;
    char name[NC_NAME_MAX + 1], *end, **names;
    bool whole;

    if (strncmp(key, c->prefix, skip - 5) != 0 || strncmp(key + skip - 5, "spec/", 5) != 0)
        return 0;
    ns = key + skip;
    if (!(slash = strchr(ns, '/')) || slash[1] || (size_t)(slash - ns) > NC_NAME_MAX)
        return 0;
    snprintf(name, sizeof(name), "%.*s", (int)(slash - ns), ns);
    /* Only a grant of the whole namespace: its key and all under it. */
    if (!(end = nc_etcd_prefix_end(key)))
        return -ENOMEM;
    whole = range_end && strcmp(range_end, end) == 0;
    free(end);
    if (!whole || !nc_is_dns_label(name))
        return 0;
    for (size_t i = 0; i < objs->n_namespaces; i++)
        if (strcmp(objs->namespaces[i], name) == 0)
            return 0;
    names = realloc(objs->namespaces, (objs->n_namespaces + 1) * sizeof(*names));
    if (!names)
        return -ENOMEM;
    objs->namespaces = names;
    if (!(names[objs->n_namespaces] = strdup(name)))
        return -ENOMEM;
    objs->n_namespaces++;
    return 0;
}

static int
str_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int
cli_objs_fetch(struct cli *c, const struct nc_kind *k, const char *ns, struct cli_objs *ret)
{
    struct readable rd = {c, ret};
    int r;

    memset(ret, 0, sizeof(*ret));
    r = fetch_ns(c, k, ns, ret);
    /* A tenant may not read every namespace: the ones its roles let it
     * read are what "every namespace" means to it. */
    if (r == -EACCES && !ns && c->user) {
        cli_objs_clear(ret);
        if ((r = nc_etcd_readable(cli_etcd(c), add_readable_ns, &rd)) == 0 && !ret->n_namespaces)
            r = -EACCES;
        qsort(ret->namespaces, ret->n_namespaces, sizeof(*ret->namespaces), str_cmp);
        for (size_t i = 0; i < ret->n_namespaces && r == 0; i++)
            r = fetch_ns(c, k, ret->namespaces[i], ret);
    }
    if (r < 0)
        cli_objs_clear(ret);
    return r;
}

void
cli_obj_clear(struct cli_obj *o)
{
    cJSON_Delete(o->spec);
    cJSON_Delete(o->status);
    memset(o, 0, sizeof(*o));
}

int
cli_vm_fetch(struct cli *c, const char *verb, char *ref, size_t refsz, struct cli_obj *ret)
{
    const struct nc_kind *vm = nc_kind_by_segment("vm");
    int r;

    if (c->argc != 2 || cli_kind(c->argv[0]) != vm || !nc_is_dns_label(c->argv[1])) {
        fprintf(stderr, "novactl: %s needs: vm NAME\n", verb);
        return 2;
    }
    if (!cli_etcd(c))
        return cli_etcd_error(c, "out of memory");
    cli_ref(ref, refsz, vm, cli_ns(c), c->argv[1]);
    r = cli_obj_fetch(c, vm, cli_ns(c), c->argv[1], ret, NULL);
    if (r < 0 && r != -ENOENT)
        return cli_etcd_error(c, "cannot read from etcd");
    if (!ret->status) {
        fprintf(stderr, "novactl: %s has no status (no such VM, or not reconciled yet)\n", ref);
        cli_obj_clear(ret);
        return 1;
    }
    return 0;
}

bool
cli_domain_name_ok(const char *s)
{
    return s && strlen(s) < NC_DOMAIN_NAME_MAX &&
           strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789.-") == strlen(s);
}

void
cli_objs_clear(struct cli_objs *objs)
{
    for (size_t i = 0; i < objs->n; i++)
        cli_obj_clear(&objs->items[i]);
    free(objs->items);
    for (size_t i = 0; i < objs->n_namespaces; i++)
        free(objs->namespaces[i]);
    free(objs->namespaces);
    memset(objs, 0, sizeof(*objs));
}

int
cli_obj_fetch(struct cli *c, const struct nc_kind *k, const char *ns, const char *name,
              struct cli_obj *ret, int64_t *ret_revision)
{
    static const char *const spaces[] = {"spec", "status"};
    struct nc_etcd *etcd = cli_etcd(c);

    memset(ret, 0, sizeof(*ret));
    ret->kind = k;
    snprintf(ret->ns, sizeof(ret->ns), "%s", ns);
    snprintf(ret->name, sizeof(ret->name), "%s", name);
    if (!etcd)
        return -ENOMEM;
    for (size_t i = 0; i < 2; i++) {
        char key[512];
        struct nc_kv kv;
        int r = nc_etcd_get(etcd, cli_key(c, key, sizeof(key), spaces[i], ns, k->segment, name),
                            &kv, i == 0 ? ret_revision : NULL);

        if (r == -ENOENT)
            continue;
        if (r < 0) {
            cli_obj_clear(ret);
            return r;
        }
        set_value(ret, spaces[i], kv.value, kv.mod_revision);
        nc_kv_clear(&kv);
    }
    return ret->has_spec || ret->status ? 0 : -ENOENT;
}

struct cli_obj *
cli_objs_update(struct cli *c, struct cli_objs *objs, const struct nc_kind *k, const char *ns,
                const struct nc_kv *kv, bool deleted)
{
    const struct nc_kind *kind;
    const char *space;
    char ons[NC_NAME_MAX + 1], name[NC_NAME_MAX + 1];
    struct cli_obj *o;

    if (!parse_key(c, kv->key, &space, ons, &kind, name) || (k && kind != k) ||
        (ns && strcmp(ns, ons) != 0))
        return NULL;
    o = cli_objs_find(objs, kind, ons, name, true);
    if (o)
        set_value(o, space, deleted ? NULL : kv->value, kv->mod_revision);
    return o;
}

bool
cli_obj_observed(const struct cli_obj *o)
{
    const cJSON *g = cJSON_GetObjectItemCaseSensitive(o->status, "observedGeneration");

    return o->has_spec && cJSON_IsNumber(g) && (int64_t)g->valuedouble == o->generation;
}

const char *
cli_obj_phase(const struct cli_obj *o)
{
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(o->status, "phase");

    if (!o->has_spec)
        return cJSON_IsString(p) ? p->valuestring : "Deleted";
    return cJSON_IsString(p) ? p->valuestring : "Pending";
}

bool
cli_obj_ready(const struct cli_obj *o)
{
    const cJSON *conds = cJSON_GetObjectItemCaseSensitive(o->status, "conditions"), *cond;

    if (!cli_obj_observed(o))
        return false;
    cJSON_ArrayForEach(cond, conds) {
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(cond, "type");
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(cond, "status");

        if (cJSON_IsString(type) && strcmp(type->valuestring, "Ready") == 0)
            return cJSON_IsString(st) && strcmp(st->valuestring, "True") == 0;
    }
    return false;
}

struct cli_selector {
    size_t n;
    struct term {
        char *key, *value; /* value NULL: existence */
        bool negate;
    } terms[32];
};

struct cli_selector *
cli_selector_free(struct cli_selector *sel)
{
    for (size_t i = 0; sel && i < sel->n; i++)
        free(sel->terms[i].key);
    free(sel);
    return NULL;
}

struct cli_selector *
cli_selector_parse(const char *text)
{
    struct cli_selector *sel = calloc(1, sizeof(*sel));
    char *copy = strdup(text), *save = NULL;

    if (!sel || !copy)
        goto fail;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        struct term *term;
        char *op;

        if (sel->n == sizeof(sel->terms) / sizeof(sel->terms[0]))
            goto bad;
        term = &sel->terms[sel->n];
        if ((op = strstr(t, "!="))) {
            *op = '\0';
            term->value = op + 2;
            term->negate = true;
        } else if ((op = strstr(t, "=="))) {
            *op = '\0';
            term->value = op + 2;
        } else if ((op = strchr(t, '='))) {
            *op = '\0';
            term->value = op + 1;
        } else if (t[0] == '!') {
            t++;
            term->negate = true;
        }
        if (!*t || strchr(t, '=') || (term->value && strchr(term->value, '=')))
            goto bad;
        /* One allocation holds key and value. */
        term->key = malloc(strlen(t) + 1 + (term->value ? strlen(term->value) + 1 : 0));
        if (!term->key)
            goto fail;
        strcpy(term->key, t);
        if (term->value)
            term->value = strcpy(term->key + strlen(t) + 1, term->value);
        sel->n++;
    }
    if (sel->n == 0)
        goto bad;
    free(copy);
    return sel;
bad:
    fputs("novactl: invalid selector \"", stderr);
    cli_puts_safe(stderr, text);
    fputs("\" (key=value, key!=value, key or !key, joined by ',')\n", stderr);
fail:
    free(copy);
    return cli_selector_free(sel);
}

bool
cli_selector_match(const struct cli_selector *sel, const cJSON *doc)
{
    const cJSON *labels = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(doc, "metadata"), "labels");

    for (size_t i = 0; sel && i < sel->n; i++) {
        const struct term *t = &sel->terms[i];
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(labels, t->key);
        bool hit = t->value ? cJSON_IsString(v) && strcmp(v->valuestring, t->value) == 0 : !!v;

        if (hit == t->negate)
            return false;
    }
    return true;
}
