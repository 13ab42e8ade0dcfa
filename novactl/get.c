/* get (with -w) and describe: the verbs that show objects. */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "novactl/objects.h"


static const cJSON *
path(const cJSON *v, const char *a, const char *b)
{
    v = cJSON_GetObjectItemCaseSensitive(v, a);
    return b ? cJSON_GetObjectItemCaseSensitive(v, b) : v;
}

/* Writes a scalar (string or integer) or "<none>". */
static void
scalar(const cJSON *v, char *buf, size_t n)
{
    if (cJSON_IsString(v) && *v->valuestring)
        snprintf(buf, n, "%s", v->valuestring);
    else if (cJSON_IsNumber(v))
        snprintf(buf, n, "%.0f", v->valuedouble);
    else
        snprintf(buf, n, "<none>");
}

/* A list of strings joined by ','. */
static void
joined(const cJSON *arr, char *buf, size_t n)
{
    const cJSON *v;
    size_t len = 0;

    buf[0] = '\0';
    cJSON_ArrayForEach(v, arr)
        if (cJSON_IsString(v) && len < n)
            len += (size_t)snprintf(buf + len, n - len, "%s%s", len ? "," : "", v->valuestring);
    if (!len)
        snprintf(buf, n, "<none>");
}

#define COLUMN(fn) static void fn(const struct cli_obj *o, char *buf, size_t n)

COLUMN(col_ns) { snprintf(buf, n, "%s", o->ns); }
COLUMN(col_name) { snprintf(buf, n, "%s", o->name); }
COLUMN(col_phase) { snprintf(buf, n, "%s", cli_obj_phase(o)); }
COLUMN(col_ready)
{
    snprintf(buf, n, "%s", !o->status ? "Unknown" : cli_obj_ready(o) ? "True" : "False");
}
COLUMN(col_node)
{
    const cJSON *node = path(o->status, "node", NULL);

    scalar(node ? node : path(o->spec, "spec", "node"), buf, n);
}
COLUMN(col_age)
{
    const cJSON *t = path(o->status, "firstObservedTime", NULL);

    cli_age(cJSON_IsString(t) ? t->valuestring : NULL, buf, n);
}
COLUMN(col_ip)
{
    scalar(path(cJSON_GetArrayItem(path(o->status, "interfaces", NULL), 0), "ip", NULL), buf, n);
}
/* A VM's size: its spec's, else what its InstanceType gave it. */
COLUMN(col_vcpus)
{
    const cJSON *v = path(o->spec, "spec", "vcpus");

    scalar(v ? v : path(path(o->status, "instancetype", NULL), "vcpus", NULL), buf, n);
}
COLUMN(col_memory)
{
    const cJSON *m = path(o->spec, "spec", "memory");
    const cJSON *given = path(path(o->status, "instancetype", NULL), "memory", NULL);

    if (!m && cJSON_IsNumber(given))
        cli_size((uint64_t)given->valuedouble, buf, n);
    else
        scalar(m, buf, n);
}
COLUMN(col_instancetype) { scalar(path(o->spec, "spec", "instancetype"), buf, n); }
COLUMN(col_domain) { scalar(path(path(o->status, "domain", NULL), "name", NULL), buf, n); }
COLUMN(col_vni)
{
    const cJSON *vni = path(o->status, "vni", NULL);

    scalar(vni ? vni : path(o->spec, "spec", "vni"), buf, n);
}
COLUMN(col_cidr) { scalar(path(o->spec, "spec", "cidr"), buf, n); }
COLUMN(col_mode)
{
    const cJSON *m = path(o->spec, "spec", "mode");

    snprintf(buf, n, "%s", cJSON_IsString(m) ? m->valuestring : "overlay");
}
COLUMN(col_runtime)
{
    const cJSON *r = path(o->spec, "spec", "runtime");

    snprintf(buf, n, "%s", cJSON_IsString(r) ? r->valuestring : "vm");
}
COLUMN(col_bridge) { scalar(path(o->status, "bridge", NULL), buf, n); }
COLUMN(col_nodes) { joined(path(o->status, "nodes", NULL), buf, n); }
COLUMN(col_vmcount) { scalar(path(o->status, "vmCount", NULL), buf, n); }
COLUMN(col_types) { joined(path(o->status, "policyTypes", NULL), buf, n); }
COLUMN(col_size) { scalar(path(o->spec, "spec", "size"), buf, n); }
COLUMN(col_format)
{
    const cJSON *f = path(o->spec, "spec", "format");

    snprintf(buf, n, "%s", cJSON_IsString(f) ? f->valuestring : "qcow2");
}
COLUMN(col_pool)
{
    const cJSON *p = path(o->spec, "spec", "pool");

    snprintf(buf, n, "%s", cJSON_IsString(p) ? p->valuestring : "default");
}
COLUMN(col_attached) { joined(path(o->status, "attachedTo", NULL), buf, n); }
COLUMN(col_vm) { scalar(path(o->spec, "spec", "vm"), buf, n); }
COLUMN(col_source) { scalar(path(o->status, "sourceNode", NULL), buf, n); }
COLUMN(col_target)
{
    const cJSON *t = path(o->status, "targetNode", NULL);

    scalar(t ? t : path(o->spec, "spec", "targetNode"), buf, n);
}
/* What a restore writes back: the sum of the snapshot's disks' sizes. */
COLUMN(col_disks_size)
{
    const cJSON *d;
    double sum = 0;
    bool any = false;

    cJSON_ArrayForEach(d, path(o->status, "disks", NULL)) {
        const cJSON *size = path(d, "size", NULL);

        if (cJSON_IsNumber(size)) {
            sum += size->valuedouble;
            any = true;
        }
    }
    if (any)
        cli_size((uint64_t)sum, buf, n);
    else
        snprintf(buf, n, "<none>");
}
COLUMN(col_snapshot) { scalar(path(o->spec, "spec", "snapshot"), buf, n); }
COLUMN(col_restored) { scalar(path(o->status, "restoreTime", NULL), buf, n); }
COLUMN(col_taken) { scalar(path(o->status, "creationTime", NULL), buf, n); }
COLUMN(col_indications) { joined(path(o->status, "indications", NULL), buf, n); }
COLUMN(col_downtime)
{
    const cJSON *d = path(o->status, "downtimeMs", NULL);

    if (cJSON_IsNumber(d))
        snprintf(buf, n, "%.0fms", d->valuedouble);
    else
        snprintf(buf, n, "<none>");
}
COLUMN(col_progress)
{
    const cJSON *p = path(o->status, "progress", NULL);
    const cJSON *left = path(p, "dataRemaining", NULL), *total = path(p, "dataTotal", NULL);

    /* Of the guest's data, what is no longer left to send. */
    if (cJSON_IsNumber(left) && cJSON_IsNumber(total) && total->valuedouble > 0)
        snprintf(buf, n, "%.0f%%",
                 100.0 * (total->valuedouble - left->valuedouble) / total->valuedouble);
    else
        snprintf(buf, n, "<none>");
}

struct column {
    const char *title;
    void (*value)(const struct cli_obj *o, char *buf, size_t n);
};

static const struct column common[] = {
    {"NAME", col_name}, {"PHASE", col_phase}, {"READY", col_ready},
    {"NODE", col_node}, {"AGE", col_age},
};

static const struct {
    const char *segment;
    struct column normal[3], wide[5];
} kind_columns[] = {
    {"vm", {{"IP", col_ip}},
     {{"RUNTIME", col_runtime}, {"VCPUS", col_vcpus}, {"MEMORY", col_memory}, {"INSTANCETYPE", col_instancetype},
      {"DOMAIN", col_domain}}},
    {"network", {{"VNI", col_vni}, {"CIDR", col_cidr}},
     {{"MODE", col_mode}, {"BRIDGE", col_bridge}, {"NODES", col_nodes}}},
    {"volume", {{"SIZE", col_size}},
     {{"FORMAT", col_format}, {"POOL", col_pool}, {"ATTACHED", col_attached}}},
    {"migration", {{"VM", col_vm}, {"SOURCE", col_source}, {"TARGET", col_target}},
     {{"PROGRESS", col_progress}, {"DOWNTIME", col_downtime}}},
    {"snapshot", {{"VM", col_vm}, {"SIZE", col_disks_size}}, {{"TAKEN", col_taken}, {"INDICATIONS", col_indications}}},
    {"restore", {{"VM", col_vm}, {"SNAPSHOT", col_snapshot}}, {{"RESTORED", col_restored}}},
    {"instancetype", {{"VCPUS", col_vcpus}, {"MEMORY", col_memory}}, {{NULL, NULL}}},
    {"networkpolicy", {{"VMS", col_vmcount}, {"TYPES", col_types}}, {{"NODES", col_nodes}}},
};

#define MAX_COLUMNS 16

struct table {
    struct column cols[MAX_COLUMNS];
    size_t n;
    int width[MAX_COLUMNS];
};

static void
table_init(struct table *t, const struct cli *c, const struct nc_kind *k, bool wide)
{
    t->n = 0;
    if (c->all_ns)
        t->cols[t->n++] = (struct column){"NAMESPACE", col_ns};
    for (size_t i = 0; i < sizeof(common) / sizeof(common[0]); i++)
        t->cols[t->n++] = common[i];
    for (size_t i = 0; i < sizeof(kind_columns) / sizeof(kind_columns[0]); i++) {
        if (strcmp(kind_columns[i].segment, k->segment) != 0)
            continue;
        for (size_t j = 0; j < 3 && kind_columns[i].normal[j].title; j++)
            t->cols[t->n++] = kind_columns[i].normal[j];
        for (size_t j = 0; wide && j < 5 && kind_columns[i].wide[j].title; j++)
            t->cols[t->n++] = kind_columns[i].wide[j];
    }
    for (size_t i = 0; i < t->n; i++)
        t->width[i] = (int)strlen(t->cols[i].title);
}

static void
table_fit(struct table *t, const struct cli_obj *o)
{
    char buf[256];

    for (size_t i = 0; i < t->n; i++) {
        t->cols[i].value(o, buf, sizeof(buf));
        if ((int)strlen(buf) > t->width[i])
            t->width[i] = (int)strlen(buf);
    }
}

static void
table_row(const struct table *t, const struct cli_obj *o)
{
    char buf[256];

    for (size_t i = 0; i < t->n; i++) {
        if (o)
            t->cols[i].value(o, buf, sizeof(buf));
        else
            snprintf(buf, sizeof(buf), "%s", t->cols[i].title);
        cli_puts_safe(stdout, buf);
        if (i + 1 < t->n)
            printf("%*s", t->width[i] - (int)strlen(buf) + 3, "");
    }
    putchar('\n');
}

/* The object as kubectl -o json shows one: the manifest, its generation
 * in metadata, and its status. */
static cJSON *
obj_json(const struct cli_obj *o)
{
    cJSON *doc = o->spec ? cJSON_Duplicate(o->spec, true) : cJSON_CreateObject();
    cJSON *meta;

    if (!o->spec) {
        cJSON_AddStringToObject(doc, "apiVersion", NC_API_VERSION);
        cJSON_AddStringToObject(doc, "kind", o->kind->name);
        meta = cJSON_AddObjectToObject(doc, "metadata");
        cJSON_AddStringToObject(meta, "name", o->name);
        cJSON_AddStringToObject(meta, "namespace", o->ns);
    }
    meta = cJSON_GetObjectItemCaseSensitive(doc, "metadata");
    if (cJSON_IsObject(meta)) {
        if (!cJSON_HasObjectItem(meta, "namespace"))
            cJSON_AddStringToObject(meta, "namespace", o->ns);
        cJSON_AddNumberToObject(meta, "generation", (double)o->generation);
    }
    cJSON_DeleteItemFromObjectCaseSensitive(doc, "status");
    if (o->status)
        cJSON_AddItemToObject(doc, "status", cJSON_Duplicate(o->status, true));
    return doc;
}

enum format { FMT_TABLE, FMT_WIDE, FMT_JSON, FMT_NAME };

struct getter {
    struct cli *c;
    const struct nc_kind *kind;
    struct cli_selector *sel;
    enum format fmt;
    bool several; /* kinds were listed as "a,b": names show as kind/name */
    struct table table;
    struct cli_objs objs;
};

COLUMN(col_kind_name) { snprintf(buf, n, "%s/%s", o->kind->segment, o->name); }

static bool
wanted(const struct getter *g, const struct cli_obj *o)
{
    if (g->sel && !(o->spec && cli_selector_match(g->sel, o->spec)))
        return false;
    if (g->c->argc <= 1)
        return o->has_spec || o->status;
    for (int i = 1; i < g->c->argc; i++)
        if (strcmp(g->c->argv[i], o->name) == 0)
            return true;
    return false;
}

static void
print_one(struct getter *g, struct cli_obj *o, bool watching)
{
    cJSON *doc;
    char *text;

    switch (g->fmt) {
    case FMT_TABLE:
    case FMT_WIDE:
        table_row(&g->table, o);
        break;
    case FMT_NAME:
        printf("%s/%s\n", o->kind->segment, o->name);
        break;
    case FMT_JSON:
        doc = obj_json(o);
        text = watching ? cJSON_PrintUnformatted(doc) : cJSON_Print(doc);
        if (text)
            puts(text);
        free(text);
        cJSON_Delete(doc);
        break;
    }
    o->shown = true;
    fflush(stdout);
}

static int
on_watch_event(void *data, const struct nc_kv *kv, bool deleted)
{
    struct getter *g = data;
    struct cli_obj *o;

    if (!kv) /* lost events to compaction: the next ones bring the state */
        return 0;
    o = cli_objs_update(g->c, &g->objs, g->kind, g->c->all_ns ? NULL : cli_ns(g->c), kv, deleted);
    /* Once shown, an object's every change is, its deletion too. */
    if (o && (wanted(g, o) || o->shown))
        print_one(g, o, true);
    return 0;
}

/*
 * Lists g->kind into g->objs and shows what is wanted: as rows of a table
 * of its own (after a blank line when @shown_before is not 0), or as items
 * appended to @list for '-o json'. Returns how many objects it showed, or
 * a negative errno when etcd cannot be read; *@missing is set when a NAME
 * asked for is not there.
 */
static int
get_kind(struct getter *g, cJSON *list, size_t shown_before, bool *missing)
{
    struct cli *c = g->c;
    int shown = 0;

    if (cli_objs_fetch(c, g->kind, c->all_ns ? NULL : cli_ns(c), &g->objs) < 0)
        return -EIO;
    for (int i = 1; i < c->argc; i++) {
        bool found = false;

        for (size_t j = 0; j < g->objs.n && !found; j++)
            found = strcmp(g->objs.items[j].name, c->argv[i]) == 0;
        if (!found) {
            fprintf(stderr, "novactl: %s/", g->kind->segment);
            cli_puts_safe(stderr, c->argv[i]);
            fprintf(stderr, " not found in namespace %s\n", cli_ns(c));
            *missing = true;
        }
    }
    table_init(&g->table, c, g->kind, g->fmt == FMT_WIDE);
    if (g->several)
        g->table.cols[c->all_ns ? 1 : 0] = (struct column){"NAME", col_kind_name};
    for (size_t i = 0; i < g->objs.n; i++)
        if (wanted(g, &g->objs.items[i]))
            table_fit(&g->table, &g->objs.items[i]), shown++;
    if (list) {
        for (size_t i = 0; i < g->objs.n; i++)
            if (wanted(g, &g->objs.items[i]))
                cJSON_AddItemToArray(list, obj_json(&g->objs.items[i]));
        return shown;
    }
    if ((g->fmt == FMT_TABLE || g->fmt == FMT_WIDE) && (shown || c->watch)) {
        if (shown_before)
            putchar('\n');
        table_row(&g->table, NULL);
    }
    for (size_t i = 0; i < g->objs.n; i++)
        if (wanted(g, &g->objs.items[i]))
            print_one(g, &g->objs.items[i], c->watch);
    return shown;
}

/* Watches what get_kind() listed, from the revision it listed at: the
 * kind in one namespace, every namespace, or (for a user who may not read
 * them all) each namespace it listed. */
static int
follow(struct getter *g)
{
    struct cli *c = g->c;
    size_t n_ns = c->all_ns ? g->objs.n_namespaces : 1, n = 0;
    char (*keys)[512] = calloc(2 * (n_ns ? n_ns : 1), sizeof(*keys));
    const char **prefixes = calloc(2 * (n_ns ? n_ns : 1), sizeof(*prefixes));
    int r = -ENOMEM;

    if (!keys || !prefixes)
        goto out;
    if (!n_ns) {
        prefixes[n++] = c->prefix;
    } else {
        for (size_t i = 0; i < n_ns; i++) {
            const char *ns = c->all_ns ? g->objs.namespaces[i] : cli_ns(c);

            prefixes[n] = cli_key(c, keys[n], sizeof(keys[n]), "spec", ns, g->kind->segment, "");
            n++;
            prefixes[n] = cli_key(c, keys[n], sizeof(keys[n]), "status", ns, g->kind->segment, "");
            n++;
        }
    }
    r = cli_follow(c, prefixes, n, g->objs.revision + 1, 0, on_watch_event, g);
out:
    free(keys);
    free(prefixes);
    return r;
}

/* Splits "network,volume,vm" into @ret_kinds (each kind once). Returns
 * how many, or 0 after saying what is wrong. */
static size_t
parse_kinds(const char *words, const struct nc_kind **ret_kinds, size_t max)
{
    char buf[256], *save = NULL;
    size_t n = 0;

    snprintf(buf, sizeof(buf), "%s", words);
    for (char *w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
        const struct nc_kind *k = cli_kind(w);
        bool dup = false;

        if (!k)
            return 0;
        for (size_t i = 0; i < n; i++)
            dup |= ret_kinds[i] == k;
        if (!dup && n < max)
            ret_kinds[n++] = k;
    }
    if (!n)
        fputs("novactl: get needs a KIND (vm, network or volume)\n", stderr);
    return n;
}

int
cli_get(struct cli *c)
{
    struct getter g = {.c = c};
    const struct nc_kind *kinds[16];
    const char *out = c->output ? c->output : "table";
    cJSON *list = NULL, *items = NULL;
    bool missing = false;
    size_t n_kinds, shown = 0;
    int r = 0;

    if (c->argc < 1) {
        fputs("novactl: get needs a KIND (vm, network or volume)\n", stderr);
        return 2;
    }
    if (strcmp(c->argv[0], "node") == 0 || strcmp(c->argv[0], "nodes") == 0)
        return cli_get_nodes(c);
    if (!(n_kinds = parse_kinds(c->argv[0], kinds, sizeof(kinds) / sizeof(kinds[0]))))
        return 2;
    g.several = n_kinds > 1;
    if (g.several && (c->watch || c->argc > 1)) {
        fputs("novactl: several kinds (a,b) take neither NAME nor -w\n", stderr);
        return 2;
    }
    if (strcmp(out, "table") == 0)
        g.fmt = FMT_TABLE;
    else if (strcmp(out, "wide") == 0)
        g.fmt = FMT_WIDE;
    else if (strcmp(out, "json") == 0)
        g.fmt = FMT_JSON;
    else if (strcmp(out, "name") == 0)
        g.fmt = FMT_NAME;
    else {
        fputs("novactl: -o takes table, wide, json or name\n", stderr);
        return 2;
    }
    if (c->selector && !(g.sel = cli_selector_parse(c->selector)))
        return 2;
    /* One object asked for by name prints as itself, anything else as a List. */
    if (g.fmt == FMT_JSON && !c->watch && c->argc != 2) {
        list = cJSON_CreateObject();
        cJSON_AddStringToObject(list, "apiVersion", NC_API_VERSION);
        cJSON_AddStringToObject(list, "kind", "List");
        items = cJSON_AddArrayToObject(list, "items");
    }
    for (size_t i = 0; i < n_kinds; i++) {
        int n;

        g.kind = kinds[i];
        n = get_kind(&g, items, shown, &missing);
        if (n < 0) {
            r = cli_etcd_error(c, "cannot read from etcd");
            goto out;
        }
        shown += (size_t)n;
        if (i + 1 < n_kinds)
            cli_objs_clear(&g.objs);
    }
    if (list) {
        char *text = cJSON_Print(list);

        if (text)
            puts(text);
        free(text);
    }
    if (!shown && !c->watch && c->argc == 1 && g.fmt != FMT_JSON)
        fprintf(stderr, "No %s found in %s.\n", g.several ? "objects" : g.kind->name,
                c->all_ns ? "any namespace" : cli_ns(c));
    r = missing ? 1 : 0;
    fflush(stdout);
    if (c->watch && follow(&g) < 0)
        r = cli_etcd_error(c, "watch failed");
out:
    cJSON_Delete(list);
    cli_objs_clear(&g.objs);
    cli_selector_free(g.sel);
    return r;
}

static void
field(const char *label, const char *value)
{
    printf("%-14s", label);
    cli_puts_safe(stdout, value);
    putchar('\n');
}

static void
map_field(const char *label, const cJSON *map)
{
    const cJSON *m;
    bool first = true;

    cJSON_ArrayForEach(m, map) {
        printf("%-14s", first ? label : "");
        cli_puts_safe(stdout, m->string);
        putchar('=');
        cli_puts_safe(stdout, cJSON_IsString(m) ? m->valuestring : "?");
        putchar('\n');
        first = false;
    }
    if (first)
        field(label, "<none>");
}

/* Pretty JSON, indented under a heading; every line made safe. */
static void
block(const char *heading, const cJSON *v)
{
    char *text = v ? cJSON_Print(v) : NULL, *save = NULL;

    printf("%s\n", heading);
    for (char *line = text ? strtok_r(text, "\n", &save) : NULL; line;
         line = strtok_r(NULL, "\n", &save)) {
        fputs("  ", stdout);
        for (char *p = line; *p; p++)
            putchar(*p == '\t' ? ' ' : *p);
        putchar('\n');
    }
    if (!text)
        puts("  <none>");
    free(text);
}

static int
print_event(const struct nc_kv *kv, void *data)
{
    cJSON *ev = cJSON_Parse(kv->value);
    const cJSON *t = path(ev, "time", NULL);
    char when[16], type[32], reason[64];

    (void)data;
    cli_age(cJSON_IsString(t) ? t->valuestring : NULL, when, sizeof(when));
    scalar(path(ev, "type", NULL), type, sizeof(type));
    scalar(path(ev, "reason", NULL), reason, sizeof(reason));
    printf("  %-8s  %-24s  %-5s  ", type, reason, when);
    t = path(ev, "message", NULL);
    cli_puts_safe(stdout, cJSON_IsString(t) ? t->valuestring : "");
    putchar('\n');
    cJSON_Delete(ev);
    return 0;
}

int
cli_describe(struct cli *c)
{
    const struct nc_kind *k;
    struct cli_obj o;
    const cJSON *meta, *conds, *cond;
    cJSON *rest;
    char buf[64], key[512];
    int64_t rev;
    int r;

    if (c->argc != 2) {
        fputs("novactl: describe needs KIND NAME\n", stderr);
        return 2;
    }
    if (!(k = cli_kind(c->argv[0])))
        return 2;
    if (!nc_is_dns_label(c->argv[1])) {
        fputs("novactl: not a name\n", stderr);
        return 2;
    }
    r = cli_obj_fetch(c, k, cli_ns(c), c->argv[1], &o, NULL);
    if (r == -ENOENT) {
        fprintf(stderr, "novactl: %s/%s not found in namespace %s\n", k->segment, c->argv[1],
                cli_ns(c));
        return 1;
    }
    if (r < 0)
        return cli_etcd_error(c, "cannot read from etcd");
    meta = path(o.spec, "metadata", NULL);
    field("Name:", o.name);
    field("Namespace:", o.ns);
    field("Kind:", k->name);
    map_field("Labels:", path(meta, "labels", NULL));
    map_field("Annotations:", path(meta, "annotations", NULL));
    snprintf(buf, sizeof(buf), "%lld", (long long)o.generation);
    field("Generation:", o.has_spec ? buf : "<deleted>");
    scalar(path(o.status, "observedGeneration", NULL), buf, sizeof(buf));
    field("Observed:", buf);
    field("Phase:", cli_obj_phase(&o));
    col_node(&o, buf, sizeof(buf));
    field("Node:", buf);
    col_age(&o, buf, sizeof(buf));
    field("Age:", buf);
    block("Spec:", path(o.spec, "spec", NULL));
    rest = o.status ? cJSON_Duplicate(o.status, true) : NULL;
    cJSON_DeleteItemFromObjectCaseSensitive(rest, "conditions");
    cJSON_DeleteItemFromObjectCaseSensitive(rest, "phase");
    cJSON_DeleteItemFromObjectCaseSensitive(rest, "observedGeneration");
    block("Status:", rest);
    cJSON_Delete(rest);
    puts("Conditions:");
    conds = path(o.status, "conditions", NULL);
    if (cJSON_GetArraySize(conds) == 0)
        puts("  <none>");
    else
        printf("  %-14s  %-7s  %-20s  %-20s  %s\n", "TYPE", "STATUS", "REASON",
               "LAST TRANSITION", "MESSAGE");
    cJSON_ArrayForEach(cond, conds) {
        char type[64], st[16], reason[64], when[40];

        scalar(path(cond, "type", NULL), type, sizeof(type));
        scalar(path(cond, "status", NULL), st, sizeof(st));
        scalar(path(cond, "reason", NULL), reason, sizeof(reason));
        scalar(path(cond, "lastTransitionTime", NULL), when, sizeof(when));
        printf("  %-14s  %-7s  %-20s  %-20s  ", type, st, reason, when);
        cli_puts_safe(stdout, cJSON_IsString(path(cond, "message", NULL))
                                  ? path(cond, "message", NULL)->valuestring
                                  : "");
        putchar('\n');
    }
    puts("Events:");
    printf("  %-8s  %-24s  %-5s  %s\n", "TYPE", "REASON", "AGE", "MESSAGE");
    snprintf(key, sizeof(key), "%sevents/%s/%s/%s/", c->prefix, o.ns, k->segment, o.name);
    r = nc_etcd_list(cli_etcd(c), key, 500, print_event, NULL, &rev);
    cli_obj_clear(&o);
    return r < 0 ? cli_etcd_error(c, "cannot read events") : 0;
}
