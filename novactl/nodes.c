/* get node, cordon, uncordon, drain: the nodes and what is placed on them. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/names.h"
#include "novactl/cli.h"
#include "scheduler/inventory.h"
#include "schema/quantity.h"
#include "schema/vm.h"

/* A node as `get node` shows it: registered, cordoned, or only named by
 * the VMs placed on it (a node that is gone). */
struct node_row {
    char name[254];
    cJSON *reg;     /* its registration, NULL when it has none */
    cJSON *cordon;  /* its cordon, NULL when it has none */
    uint64_t vcpus, memory;
    unsigned vms;
};

struct node_rows {
    struct node_row *v;
    size_t n;
    int64_t revision;
    char leader[254];
};

static struct node_row *
row(struct node_rows *rows, const char *name)
{
    struct node_row *r;

    for (size_t i = 0; i < rows->n; i++)
        if (strcmp(rows->v[i].name, name) == 0)
            return &rows->v[i];
    if (strlen(name) >= sizeof(r->name) || !(r = realloc(rows->v, (rows->n + 1) * sizeof(*r))))
        return NULL;
    rows->v = r;
    r = &rows->v[rows->n++];
    memset(r, 0, sizeof(*r));
    snprintf(r->name, sizeof(r->name), "%s", name);
    return r;
}

struct lister {
    struct node_rows *rows;
    size_t skip;
    cJSON *placements; /* "ns/name" -> node */
    const char *space;
};

static int
on_node(const struct nc_kv *kv, void *data)
{
    struct lister *l = data;
    struct node_row *r = row(l->rows, kv->key + l->skip);

    if (r && strcmp(l->space, "nodes/") == 0)
        r->reg = cJSON_Parse(kv->value);
    else if (r)
        r->cordon = cJSON_Parse(kv->value);
    return 0;
}

static int
on_placement(const struct nc_kv *kv, void *data)
{
    struct lister *l = data;

    cJSON_AddStringToObject(l->placements, kv->key + l->skip, kv->value);
    return 0;
}

/* Counts each VM on the node it runs on: spec.node, else its placement. */
static int
on_vm(const struct nc_kv *kv, void *data)
{
    struct lister *l = data;
    const char *rest = kv->key + l->skip, *seg = strchr(rest, '/'), *node;
    char ns[NC_NAME_MAX + 1], ref[2 * NC_NAME_MAX + 2];
    struct nc_verr *errs;
    struct nc_vm_spec spec;
    struct node_row *r;

    if (!seg || strncmp(seg, "/vm/", 4) != 0 || seg - rest > NC_NAME_MAX)
        return 0;
    snprintf(ns, sizeof(ns), "%.*s", (int)(seg - rest), rest);
    snprintf(ref, sizeof(ref), "%s/%s", ns, seg + 4);
    if (!(errs = nc_verr_new()))
        return -ENOMEM;
    if (nc_vm_spec_parse(kv->value, ns, seg + 4, &spec, errs) == 0) {
        node = spec.node[0] ? spec.node
                            : cJSON_GetStringValue(cJSON_GetObjectItem(l->placements, ref));
        if (node && (r = row(l->rows, node))) {
            r->vcpus += spec.vcpus;
            r->memory += spec.memory;
            r->vms++;
        }
        nc_vm_spec_clear(&spec);
    }
    nc_verr_free(errs);
    return 0;
}

static int
by_name(const void *a, const void *b)
{
    return strcmp(((const struct node_row *)a)->name, ((const struct node_row *)b)->name);
}

static void
rows_clear(struct node_rows *rows)
{
    for (size_t i = 0; i < rows->n; i++) {
        cJSON_Delete(rows->v[i].reg);
        cJSON_Delete(rows->v[i].cordon);
    }
    free(rows->v);
}

static int
fetch(struct cli *c, struct node_rows *rows)
{
    struct nc_etcd *e = cli_etcd(c);
    struct lister l = {.rows = rows, .placements = cJSON_CreateObject()};
    char key[600];
    struct nc_kv kv;
    int r = -ENOMEM;

    if (!e || !l.placements)
        goto out;
    for (const char *const *sp = (const char *const[]){"nodes/", "cordon/", NULL}; *sp; sp++) {
        snprintf(key, sizeof(key), "%s%s", c->prefix, *sp);
        l.skip = strlen(key);
        l.space = *sp;
        if ((r = nc_etcd_list(e, key, 500, on_node, &l, &rows->revision)) < 0)
            goto out;
    }
    snprintf(key, sizeof(key), "%splacement/", c->prefix);
    l.skip = strlen(key);
    if ((r = nc_etcd_list(e, key, 500, on_placement, &l, NULL)) < 0)
        goto out;
    snprintf(key, sizeof(key), "%sspec/", c->prefix);
    l.skip = strlen(key);
    if ((r = nc_etcd_list(e, key, 500, on_vm, &l, NULL)) < 0)
        goto out;
    snprintf(key, sizeof(key), "%sleader/scheduler", c->prefix);
    r = nc_etcd_get(e, key, &kv, NULL);
    if (r == 0) {
        snprintf(rows->leader, sizeof(rows->leader), "%s", kv.value);
        nc_kv_clear(&kv);
    }
    r = r == -ENOENT ? 0 : r;
    qsort(rows->v, rows->n, sizeof(*rows->v), by_name);
out:
    cJSON_Delete(l.placements);
    return r;
}

static const char *
status_of(const struct node_row *r, char *buf, size_t n)
{
    snprintf(buf, n, "%s%s", r->reg ? "Ready" : "NotReady",
             !r->cordon ? ""
             : cJSON_IsTrue(cJSON_GetObjectItem(r->cordon, "drain")) ? ",Draining"
                                                                       : ",SchedulingDisabled");
    return buf;
}

/* "ALLOCATED/LIMIT" of a resource; LIMIT "?" for a node that is gone. */
static void
used(const struct node_row *r, bool memory, char *buf, size_t n)
{
    struct nc_sched_node node;
    char a[32], b[32];
    char *json = r->reg ? cJSON_PrintUnformatted(r->reg) : NULL;
    bool known = json && nc_sched_node_parse(r->name, json, &node) == 0;

    if (memory)
        snprintf(buf, n, "%s/%s", cli_size(r->memory, a, sizeof(a)),
                 known ? cli_size(nc_sched_node_memory_limit(&node), b, sizeof(b)) : "?");
    else if (known)
        snprintf(buf, n, "%" PRIu64 "/%" PRIu64, r->vcpus, nc_sched_node_cpu_limit(&node));
    else
        snprintf(buf, n, "%" PRIu64 "/?", r->vcpus);
    if (known)
        nc_sched_node_clear(&node);
    free(json);
}

static void
print_json(const struct node_rows *rows)
{
    cJSON *list = cJSON_CreateObject(), *items = cJSON_AddArrayToObject(list, "items");
    char *text;

    cJSON_AddStringToObject(list, "kind", "NodeList");
    for (size_t i = 0; i < rows->n; i++) {
        const struct node_row *r = &rows->v[i];
        cJSON *o = cJSON_CreateObject(), *alloc;

        cJSON_AddStringToObject(o, "name", r->name);
        cJSON_AddBoolToObject(o, "registered", r->reg != NULL);
        cJSON_AddBoolToObject(o, "schedulable", r->reg && !r->cordon);
        cJSON_AddBoolToObject(o, "leader", strcmp(r->name, rows->leader) == 0);
        if (r->reg)
            cJSON_AddItemToObject(o, "registration", cJSON_Duplicate(r->reg, true));
        if (r->cordon)
            cJSON_AddItemToObject(o, "cordon", cJSON_Duplicate(r->cordon, true));
        alloc = cJSON_AddObjectToObject(o, "allocated");
        cJSON_AddNumberToObject(alloc, "vcpus", (double)r->vcpus);
        cJSON_AddNumberToObject(alloc, "memory", (double)r->memory);
        cJSON_AddNumberToObject(alloc, "vms", r->vms);
        cJSON_AddItemToArray(items, o);
    }
    if ((text = cJSON_Print(list)))
        puts(text);
    free(text);
    cJSON_Delete(list);
}

/* "zone=a,disk=ssd" of a registration's labels. */
static void
labels_of(const cJSON *reg, char *buf, size_t n)
{
    const cJSON *l;
    size_t len = 0;

    buf[0] = '\0';
    cJSON_ArrayForEach(l, cJSON_GetObjectItem(reg, "labels"))
        if (cJSON_IsString(l) && len < n)
            len += (size_t)snprintf(buf + len, n - len, "%s%s=%s", len ? "," : "", l->string,
                                    l->valuestring);
    if (!buf[0])
        snprintf(buf, n, "-");
}

static void
pools_of(const cJSON *reg, char *buf, size_t n)
{
    const cJSON *p;
    size_t len = 0;

    buf[0] = '\0';
    cJSON_ArrayForEach(p, cJSON_GetObjectItem(reg, "pools")) {
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(p, "name"));

        if (name && len < n)
            len += (size_t)snprintf(buf + len, n - len, "%s%s%s", len ? "," : "", name,
                                    cJSON_IsTrue(cJSON_GetObjectItem(p, "shared")) ? "(shared)"
                                                                                    : "");
    }
    if (!buf[0])
        snprintf(buf, n, "-");
}

int
cli_get_nodes(struct cli *c)
{
    struct node_rows rows = {0};
    const char *out = c->output ? c->output : "table";
    bool wide = strcmp(out, "wide") == 0;
    int r;

    if (strcmp(out, "table") != 0 && !wide && strcmp(out, "json") != 0 &&
        strcmp(out, "name") != 0) {
        fputs("novactl: -o takes table, wide, json or name\n", stderr);
        return 2;
    }
    if (c->watch || c->selector || c->argc > 1) {
        fputs("novactl: get node takes no NAME, -l or -w\n", stderr);
        return 2;
    }
    if ((r = fetch(c, &rows)) < 0) {
        rows_clear(&rows);
        return cli_etcd_error(c, "cannot read from etcd");
    }
    if (strcmp(out, "json") == 0) {
        print_json(&rows);
    } else {
        if (strcmp(out, "name") != 0 && rows.n)
            printf("%-16s %-26s %-9s %-17s %-5s %s\n", "NAME", "STATUS", "VCPUS", "MEMORY",
                   "VMS", wide ? "AGE    LEADER LABELS                   POOLS" : "AGE");
        for (size_t i = 0; i < rows.n; i++) {
            const struct node_row *n = &rows.v[i];
            char st[48], cpu[48], mem[48], when[16], labels[256], pools[256], vms[16], name[254];

            if (strcmp(out, "name") == 0) {
                printf("node/");
                cli_puts_safe(stdout, n->name);
                putchar('\n');
                continue;
            }
            used(n, false, cpu, sizeof(cpu));
            used(n, true, mem, sizeof(mem));
            cli_age(cJSON_GetStringValue(cJSON_GetObjectItem(n->reg, "startedAt")), when,
                    sizeof(when));
            labels_of(n->reg, labels, sizeof(labels));
            pools_of(n->reg, pools, sizeof(pools));
            snprintf(vms, sizeof(vms), "%u", n->vms);
            /* Names come from keys anyone with write access may make. */
            snprintf(name, sizeof(name), "%s", n->name);
            for (char *p = name; *p; p++)
                *p = (unsigned char)*p < 0x20 || *p == 0x7f ? '?' : *p;
            printf("%-16s %-26s %-9s %-17s %-5s %s", name, status_of(n, st, sizeof(st)), cpu,
                   mem, vms, when);
            if (wide) {
                printf("%*s %-6s ", (int)(strlen(when) < 6 ? 6 - strlen(when) : 0), "",
                       strcmp(n->name, rows.leader) == 0 ? "yes" : "-");
                cli_puts_safe(stdout, labels);
                printf("%*s", labels[0] && strlen(labels) < 24 ? (int)(25 - strlen(labels)) : 1,
                       "");
                cli_puts_safe(stdout, pools);
            }
            putchar('\n');
        }
        if (!rows.n)
            fputs("No nodes found.\n", stderr);
    }
    rows_clear(&rows);
    return 0;
}

/* cordon, drain: PREFIX/cordon/NODE, which the scheduler reads; uncordon
 * deletes it. */
/* A drain under way, as one look at etcd sees it. */
struct drain_look {
    struct cli *c;
    const char *node;
    size_t plen;     /* of <prefix>placement/ */
    bool report;     /* print what stays */
    unsigned moving; /* VMs still on their way */
    unsigned stays;  /* VMs that will not move */
};

/* Why VM @ns/@name, placed on the drained node, is still there: 1 when it
 * is on its way (its drain Migration runs, or is not written yet), else 0
 * after saying why it stays. */
static int
drain_state(struct drain_look *d, const char *ns, const char *name)
{
    char key[600], mig[NC_NAME_MAX + 1], ref[200];
    const char *phase = NULL, *msg = NULL;
    struct nc_kv kv;
    cJSON *st = NULL, *cond;
    int moving = 0;

    snprintf(mig, sizeof(mig), "drain-%.57s", name);
    while (mig[strlen(mig) - 1] == '-')
        mig[strlen(mig) - 1] = '\0';
    cli_key(d->c, key, sizeof(key), "status", ns, "migration", mig);
    if (nc_etcd_get(cli_etcd(d->c), key, &kv, NULL) == 0) {
        st = cJSON_Parse(kv.value);
        nc_kv_clear(&kv);
    }
    phase = cJSON_GetStringValue(cJSON_GetObjectItem(st, "phase"));
    cJSON_ArrayForEach(cond, cJSON_GetObjectItem(st, "conditions")) {
        const char *type = cJSON_GetStringValue(cJSON_GetObjectItem(cond, "type"));

        if (type && strcmp(type, "Ready") == 0)
            msg = cJSON_GetStringValue(cJSON_GetObjectItem(cond, "message"));
    }
    if (phase && (strcmp(phase, "Failed") == 0 || strcmp(phase, "Cancelled") == 0)) {
        if (d->report) {
            printf("%s stays: migration %s %s: ",
                   cli_ref(ref, sizeof(ref), nc_kind_by_segment("vm"), ns, name), mig, phase);
            cli_puts_safe(stdout, msg ? msg : "");
            putchar('\n');
        }
    } else if (phase && strcmp(phase, "Succeeded") != 0) {
        moving = 1;
    } else if (d->report) {
        printf("%s stays: not moved\n",
               cli_ref(ref, sizeof(ref), nc_kind_by_segment("vm"), ns, name));
    }
    cJSON_Delete(st);
    return moving;
}

static int
on_drained_placement(const struct nc_kv *kv, void *data)
{
    struct drain_look *d = data;
    const char *rest = kv->key + d->plen, *slash = strchr(rest, '/');
    char ns[NC_NAME_MAX + 1];

    if (strcmp(kv->value, d->node) != 0 || !slash || slash - rest > NC_NAME_MAX)
        return 0;
    snprintf(ns, sizeof(ns), "%.*s", (int)(slash - rest), rest);
    if (drain_state(d, ns, slash + 1))
        d->moving++;
    else
        d->stays++;
    return 0;
}

/* VMs pinned to the node with spec.node stay where they are. */
static int
on_pinned(const struct nc_kv *kv, void *data)
{
    struct drain_look *d = data;
    char ns[NC_NAME_MAX + 1], kind[16], name[NC_NAME_MAX + 1], ref[200];
    cJSON *doc;
    const char *node;

    if (!nc_key_parse(kv->key + strlen(d->c->prefix) + strlen("spec/"), ns, kind, name) ||
        strcmp(kind, "vm") != 0)
        return 0;
    doc = cJSON_Parse(kv->value);
    node = cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "spec"), "node"));
    if (node && strcmp(node, d->node) == 0) {
        d->stays++;
        if (d->report)
            printf("%s stays: pinned by its spec.node\n",
                   cli_ref(ref, sizeof(ref), nc_kind_by_segment("vm"), ns, name));
    }
    cJSON_Delete(doc);
    return 0;
}

/* Waits until no VM is on its way off @node (twice in a row, a second
 * apart), then says what stays and why. Exit 0 when nothing stays. */
static int
drain_wait(struct cli *c, const char *node)
{
    char prefix[600];
    int64_t end = nc_now_ms() + c->timeout_ms;
    int quiet = 0;

    for (;;) {
        struct drain_look d = {.c = c, .node = node};

        snprintf(prefix, sizeof(prefix), "%splacement/", c->prefix);
        d.plen = strlen(prefix);
        if (nc_etcd_list(cli_etcd(c), prefix, 500, on_drained_placement, &d, NULL) < 0)
            return cli_etcd_error(c, "cannot read from etcd");
        quiet = d.moving ? 0 : quiet + 1;
        if (quiet == 2) {
            d.report = true;
            d.stays = 0;
            snprintf(prefix, sizeof(prefix), "%sspec/", c->prefix);
            if (nc_etcd_list(cli_etcd(c), prefix, 500, on_pinned, &d, NULL) < 0)
                return cli_etcd_error(c, "cannot read from etcd");
            snprintf(prefix, sizeof(prefix), "%splacement/", c->prefix);
            if (nc_etcd_list(cli_etcd(c), prefix, 500, on_drained_placement, &d, NULL) < 0)
                return cli_etcd_error(c, "cannot read from etcd");
            printf("node/%s drained%s\n", node, d.stays ? "; what stays is listed above" : "");
            return d.stays ? 1 : 0;
        }
        if (nc_now_ms() > end) {
            fprintf(stderr, "novactl: %u VMs still moving off node %s after the timeout\n",
                    d.moving, node);
            return 1;
        }
        nanosleep(&(struct timespec){1, 0}, NULL);
    }
}

int
cli_cordon(struct cli *c)
{
    bool drain = strcmp(c->verb, "drain") == 0, un = strcmp(c->verb, "uncordon") == 0;
    struct nc_etcd *e = cli_etcd(c);
    char key[600], now[32], *value;
    struct nc_kv kv;
    cJSON *o;
    int r;

    if (c->argc != 1 || !nc_is_dns_subdomain(c->argv[0])) {
        fprintf(stderr, "novactl: %s needs one NODE name\n", c->verb);
        return 2;
    }
    if (!e)
        return cli_etcd_error(c, "out of memory");
    if (un) {
        snprintf(key, sizeof(key), "%scordon/%s", c->prefix, c->argv[0]);
        if (nc_etcd_delete(e, key, false, NULL) < 0)
            return cli_etcd_error(c, "cannot write to etcd");
        printf("node/%s uncordoned\n", c->argv[0]);
        return 0;
    }
    snprintf(key, sizeof(key), "%snodes/%s", c->prefix, c->argv[0]);
    r = nc_etcd_get(e, key, &kv, NULL);
    if (r == -ENOENT) {
        fprintf(stderr, "novactl: node %s is not registered\n", c->argv[0]);
        return 1;
    }
    if (r < 0)
        return cli_etcd_error(c, "cannot read from etcd");
    nc_kv_clear(&kv);
    o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "drain", drain);
    cJSON_AddStringToObject(o, "time", nc_rfc3339_now(now));
    value = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    snprintf(key, sizeof(key), "%scordon/%s", c->prefix, c->argv[0]);
    r = value ? nc_etcd_put(e, key, value, 0, NULL) : -ENOMEM;
    free(value);
    if (r < 0)
        return cli_etcd_error(c, "cannot write to etcd");
    printf("node/%s %s\n", c->argv[0],
           drain ? "cordoned and drained: its VMs that can move are moved elsewhere"
                 : "cordoned");
    return drain && c->wait ? drain_wait(c, c->argv[0]) : 0;
}
