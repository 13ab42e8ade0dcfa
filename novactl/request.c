/* migrate: writes a Migration for a VM, and with --wait follows it to its end. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "novactl/objects.h"

struct follow_mig {
    struct cli *c;
    const struct nc_kind *kind;
    const char *ns, *name;
    char status_key[512];
    struct cli_obj last;
};

/* 1 once the migration ended, 0 before, a negative errno on error. */
static int
ended(struct follow_mig *m)
{
    const char *phase;
    int r;

    cli_obj_clear(&m->last);
    if ((r = cli_obj_fetch(m->c, m->kind, m->ns, m->name, &m->last, NULL)) < 0)
        return r == -ENOENT ? -ENOENT : r;
    phase = cli_obj_phase(&m->last);
    return strcmp(phase, "Succeeded") == 0 || strcmp(phase, "Failed") == 0 ||
           strcmp(phase, "Cancelled") == 0;
}

static int
on_change(void *data, const struct nc_kv *kv, bool deleted)
{
    struct follow_mig *m = data;

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

int
cli_migrate(struct cli *c)
{
    const struct nc_kind *vm_kind = nc_kind_by_segment("vm");
    struct follow_mig m = {.c = c, .kind = nc_kind_by_segment("migration"), .ns = cli_ns(c)};
    char name[NC_NAME_MAX + 1], key[600], ref[200];
    struct nc_etcd *e = cli_etcd(c);
    struct nc_kv holder;
    int64_t rev = 0;
    cJSON *doc, *meta, *spec;
    char *text;
    int r;

    if (c->argc != 2 || !cli_kind(c->argv[0]) || cli_kind(c->argv[0]) != vm_kind ||
        !nc_is_dns_label(c->argv[1])) {
        fprintf(stderr, "novactl: migrate needs: vm NAME\n");
        return 2;
    }
    if (c->to && !nc_is_dns_subdomain(c->to)) {
        fprintf(stderr, "novactl: --to must be a node name, got \"%s\"\n", c->to);
        return 2;
    }
    if (!e)
        return cli_etcd_error(c, "out of memory");
    /* A name of its own for each request: the VM's, cut to leave room,
     * and the time in hex. */
    snprintf(name, sizeof(name), "%.48s-%" PRIx64, c->argv[1], (uint64_t)time(NULL));
    m.name = name;
    doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "apiVersion", "novacron.io/v1");
    cJSON_AddStringToObject(doc, "kind", m.kind->name);
    meta = cJSON_AddObjectToObject(doc, "metadata");
    cJSON_AddStringToObject(meta, "name", name);
    cJSON_AddStringToObject(meta, "namespace", m.ns);
    spec = cJSON_AddObjectToObject(doc, "spec");
    cJSON_AddStringToObject(spec, "vm", c->argv[1]);
    if (c->to)
        cJSON_AddStringToObject(spec, "targetNode", c->to);
    text = cJSON_PrintUnformatted(doc);
    cJSON_Delete(doc);
    if (!text)
        return cli_etcd_error(c, "out of memory");
    cli_key(c, key, sizeof(key), "spec", m.ns, m.kind->segment, name);
    r = nc_etcd_create(e, key, text, 0, &holder, &rev);
    free(text);
    if (r == 0) {
        nc_kv_clear(&holder);
        fprintf(stderr, "novactl: %s exists already\n", key);
        return 1;
    }
    if (r < 0)
        return cli_etcd_error(c, "cannot write to etcd");
    printf("%s created\n", cli_ref(ref, sizeof(ref), m.kind, m.ns, name));
    if (!c->wait)
        return 0;
    cli_key(c, m.status_key, sizeof(m.status_key), "status", m.ns, m.kind->segment, name);
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
        r = strcmp(phase, "Succeeded") == 0 ? 0 : 1;
    }
    cli_obj_clear(&m.last);
    return r;
}
