/* migrate, snapshot, restore: write a request about a VM (a Migration, a
 * Snapshot, a Restore),
 * and with --wait follow it to its end. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "novactl/objects.h"

struct follow {
    struct cli *c;
    const struct nc_kind *kind;
    const char *ns, *name;
    const char *const *ends; /* the phases it ends in, the first one success */
    char status_key[512];
    struct cli_obj last;
};

/* 1 once the request ended, 0 before, a negative errno on error. */
static int
ended(struct follow *m)
{
    const char *phase;
    int r;

    cli_obj_clear(&m->last);
    if ((r = cli_obj_fetch(m->c, m->kind, m->ns, m->name, &m->last, NULL)) < 0)
        return r == -ENOENT ? -ENOENT : r;
    phase = cli_obj_phase(&m->last);
    for (const char *const *e = m->ends; *e; e++)
        if (strcmp(phase, *e) == 0)
            return 1;
    return 0;
}

static int
on_change(void *data, const struct nc_kv *kv, bool deleted)
{
    struct follow *m = data;

    (void)deleted;
    if (kv && strcmp(kv->key, m->status_key) != 0)
        return 0;
    return ended(m);
}

/* The Ready condition's message, "" when none. */
static const char *
ready_message(const struct cli_obj *o)
{
    const cJSON *cond;

    cJSON_ArrayForEach(cond, cJSON_GetObjectItemCaseSensitive(o->status, "conditions")) {
        const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cond, "type"));
        const char *msg = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cond, "message"));

        if (type && msg && strcmp(type, "Ready") == 0)
            return msg;
    }
    return "";
}

/*
 * Writes @spec (freed) as the spec of a new object @name of @kind in the
 * namespace, and with --wait follows it until its phase is one of @ends
 * (NULL-terminated; the first one is success). The exit status.
 */
static int
request(struct cli *c, const struct nc_kind *kind, const char *name, cJSON *spec,
        const char *const *ends)
{
    struct follow m = {.c = c, .kind = kind, .ns = cli_ns(c), .name = name, .ends = ends};
    char key[600], ref[200];
    struct nc_etcd *e = cli_etcd(c);
    struct nc_kv holder;
    int64_t rev = 0;
    cJSON *doc, *meta;
    char *text;
    int r;

    if (!e) {
        cJSON_Delete(spec);
        return cli_etcd_error(c, "out of memory");
    }
    doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "apiVersion", "novacron.io/v1");
    cJSON_AddStringToObject(doc, "kind", kind->name);
    meta = cJSON_AddObjectToObject(doc, "metadata");
    cJSON_AddStringToObject(meta, "name", name);
    cJSON_AddStringToObject(meta, "namespace", m.ns);
    cJSON_AddItemToObject(doc, "spec", spec);
    text = cJSON_PrintUnformatted(doc);
    cJSON_Delete(doc);
    if (!text)
        return cli_etcd_error(c, "out of memory");
    cli_key(c, key, sizeof(key), "spec", m.ns, kind->segment, name);
    r = nc_etcd_create(e, key, text, 0, &holder, &rev);
    free(text);
    if (r == 0) {
        nc_kv_clear(&holder);
        fprintf(stderr, "novactl: %s exists already\n", key);
        return 1;
    }
    if (r < 0)
        return cli_etcd_error(c, "cannot write to etcd");
    printf("%s created\n", cli_ref(ref, sizeof(ref), kind, m.ns, name));
    if (!c->wait)
        return 0;
    cli_key(c, m.status_key, sizeof(m.status_key), "status", m.ns, kind->segment, name);
    r = ended(&m);
    if (r == 0 || r == -ENOENT)
        r = cli_follow(c, rev, c->timeout_ms, on_change, &m);
    if (r == -ETIMEDOUT) {
        fprintf(stderr, "novactl: %s did not end within the timeout (phase %s)\n", ref,
                cli_obj_phase(&m.last));
        r = 1;
    } else if (r < 0) {
        r = cli_etcd_error(c, "cannot follow etcd");
    } else if (r == 0) {
        r = 1; /* interrupted */
    } else {
        const char *phase = cli_obj_phase(&m.last);

        printf("%s %s: ", ref, phase);
        cli_puts_safe(stdout, ready_message(&m.last));
        putchar('\n');
        r = strcmp(phase, ends[0]) == 0 ? 0 : 1;
    }
    cli_obj_clear(&m.last);
    return r;
}

/* "vm NAME" as the verb's first two arguments. */
static bool
vm_args(const struct cli *c, int argc)
{
    return c->argc == argc && cli_kind(c->argv[0]) == nc_kind_by_segment("vm") &&
           nc_is_dns_label(c->argv[1]);
}

int
cli_migrate(struct cli *c)
{
    static const char *const ends[] = {"Succeeded", "Failed", "Cancelled", NULL};
    char name[NC_NAME_MAX + 1];
    cJSON *spec;

    if (!vm_args(c, 2)) {
        fprintf(stderr, "novactl: migrate needs: vm NAME\n");
        return 2;
    }
    if (c->to && !nc_is_dns_subdomain(c->to)) {
        fprintf(stderr, "novactl: --to must be a node name, got \"%s\"\n", c->to);
        return 2;
    }
    /* A name of its own for each request: the VM's, cut to leave room,
     * and the time in hex. */
    snprintf(name, sizeof(name), "%.48s-%" PRIx64, c->argv[1], (uint64_t)time(NULL));
    if (!(spec = cJSON_CreateObject()))
        return cli_etcd_error(c, "out of memory");
    cJSON_AddStringToObject(spec, "vm", c->argv[1]);
    if (c->to)
        cJSON_AddStringToObject(spec, "targetNode", c->to);
    return request(c, nc_kind_by_segment("migration"), name, spec, ends);
}

int
cli_snapshot(struct cli *c)
{
    static const char *const ends[] = {"Ready", "Failed", NULL};
    cJSON *spec;

    if (!vm_args(c, 3) || !nc_is_dns_label(c->argv[2])) {
        fprintf(stderr, "novactl: snapshot needs: vm NAME SNAPSHOT (DNS labels)\n");
        return 2;
    }
    if (!(spec = cJSON_CreateObject()))
        return cli_etcd_error(c, "out of memory");
    cJSON_AddStringToObject(spec, "vm", c->argv[1]);
    if (c->memory)
        cJSON_AddBoolToObject(spec, "memory", true);
    return request(c, nc_kind_by_segment("snapshot"), c->argv[2], spec, ends);
}

int
cli_restore(struct cli *c)
{
    static const char *const ends[] = {"Complete", "Failed", NULL};
    char name[NC_NAME_MAX + 1];
    cJSON *spec;

    if (!vm_args(c, 3) || !nc_is_dns_label(c->argv[2])) {
        fprintf(stderr, "novactl: restore needs: vm NAME SNAPSHOT (DNS labels)\n");
        return 2;
    }
    /* A name of its own for each request, as for migrate. */
    snprintf(name, sizeof(name), "%.48s-%" PRIx64, c->argv[1], (uint64_t)time(NULL));
    if (!(spec = cJSON_CreateObject()))
        return cli_etcd_error(c, "out of memory");
    cJSON_AddStringToObject(spec, "vm", c->argv[1]);
    cJSON_AddStringToObject(spec, "snapshot", c->argv[2]);
    return request(c, nc_kind_by_segment("restore"), name, spec, ends);
}
