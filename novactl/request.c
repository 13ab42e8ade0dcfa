/* migrate, snapshot, restore, restart: write a request about a VM (a
 * Migration, a Snapshot, a Restore, a restart annotation), and with --wait
 * follow it to its end. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "novactl/objects.h"
#include "schema/vm.h"

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
        r = cli_follow(c, (const char *const[]){m.status_key}, 1, rev, c->timeout_ms, on_change, &m);
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

/* restart: the annotation novacron.io/restartedAt set to a new value on
 * the VM's spec, as `kubectl rollout restart` does; the VM's node restarts
 * it once for that value and records it in status.restart. */
struct restarted {
    struct cli *c;
    char status_key[512];
    const char *token;
    cJSON *status; /* the last status read */
};

static int
restart_done(void *data, const struct nc_kv *kv, bool deleted)
{
    struct restarted *w = data;
    const cJSON *rec;
    const char *at;

    if (kv && strcmp(kv->key, w->status_key) != 0)
        return 0;
    if (deleted)
        return -ENOENT;
    if (kv) {
        cJSON_Delete(w->status);
        w->status = cJSON_Parse(kv->value);
    }
    rec = cJSON_GetObjectItem(w->status, "restart");
    at = cJSON_GetStringValue(cJSON_GetObjectItem(rec, "requestedAt"));
    return at && strcmp(at, w->token) == 0 && cJSON_GetObjectItem(rec, "restartTime") ? 1 : 0;
}

int
cli_restart(struct cli *c)
{
    const struct nc_kind *vm = nc_kind_by_segment("vm");
    struct nc_etcd *e = cli_etcd(c);
    struct restarted w = {.c = c};
    char key[600], ref[200], token[64];
    struct nc_verr *errs = NULL;
    struct timespec ts;
    struct nc_kv kv = {0};
    struct tm tm;
    cJSON *doc = NULL, *meta, *ann;
    char *text = NULL;
    int64_t rev = 0;
    bool ok = false;
    int r;

    if (!vm_args(c, 2)) {
        fprintf(stderr, "novactl: restart needs: vm NAME\n");
        return 2;
    }
    if (!e)
        return cli_etcd_error(c, "out of memory");
    /* The request's value: now, to the microsecond, so that two differ. */
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(token, sizeof(token), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(token + strlen(token), sizeof(token) - strlen(token), ".%06ldZ", ts.tv_nsec / 1000);
    w.token = token;
    cli_key(c, key, sizeof(key), "spec", cli_ns(c), "vm", c->argv[1]);
    cli_ref(ref, sizeof(ref), vm, cli_ns(c), c->argv[1]);
    /* Read, change, write only over what was read: a user's concurrent
     * edit is never lost, the loser tries again. */
    for (int attempt = 0; attempt < 5 && !ok; attempt++) {
        struct nc_cmp cmp = {.key = key, .target = NC_CMP_MOD, .result = NC_CMP_EQUAL};
        struct nc_op put = {.key = key};

        nc_kv_clear(&kv);
        cJSON_Delete(doc);
        free(text);
        text = NULL;
        nc_verr_free(errs);
        if ((r = nc_etcd_get(e, key, &kv, NULL)) == -ENOENT) {
            fprintf(stderr, "novactl: %s not found\n", ref);
            r = 1;
            goto out;
        }
        if (r < 0) {
            r = cli_etcd_error(c, "cannot read from etcd");
            goto out;
        }
        doc = cJSON_Parse(kv.value);
        meta = cJSON_GetObjectItem(doc, "metadata");
        if (!cJSON_IsObject(meta)) {
            fprintf(stderr, "novactl: %s is not a valid document; fix it first\n", ref);
            r = 1;
            goto out;
        }
        if (!(ann = cJSON_GetObjectItem(meta, "annotations")))
            ann = cJSON_AddObjectToObject(meta, "annotations");
        cJSON_DeleteItemFromObject(ann, NC_VM_RESTART_AT);
        cJSON_AddStringToObject(ann, NC_VM_RESTART_AT, token);
        cJSON_DeleteItemFromObject(ann, NC_VM_RESTART_REASON);
        if (c->reason)
            cJSON_AddStringToObject(ann, NC_VM_RESTART_REASON, c->reason);
        /* Nothing invalid is written: the controller would only say Failed. */
        if (!(errs = nc_verr_new()) || vm->validate(doc, cli_ns(c), c->argv[1], errs) < 0) {
            char *why = errs ? nc_verr_join(errs) : NULL;

            fprintf(stderr, "novactl: %s: ", ref);
            cli_puts_safe(stderr, why ? why : "out of memory");
            fputc('\n', stderr);
            free(why);
            r = 1;
            goto out;
        }
        if (!(text = cJSON_PrintUnformatted(doc))) {
            r = cli_etcd_error(c, "out of memory");
            goto out;
        }
        cmp.number = kv.mod_revision;
        put.value = text;
        if ((r = nc_etcd_txn(e, &cmp, 1, &put, 1, NULL, 0, &ok, &rev)) < 0) {
            r = cli_etcd_error(c, "cannot write to etcd");
            goto out;
        }
    }
    if (!ok) {
        fprintf(stderr, "novactl: %s changed under every attempt; try again\n", ref);
        r = 1;
        goto out;
    }
    printf("%s restart requested (%s %s)\n", ref, NC_VM_RESTART_AT, token);
    r = 0;
    if (!c->wait)
        goto out;
    cli_key(c, w.status_key, sizeof(w.status_key), "status", cli_ns(c), "vm", c->argv[1]);
    r = cli_follow(c, (const char *const[]){w.status_key}, 1, rev, c->timeout_ms, restart_done,
                   &w);
    if (r == -ETIMEDOUT) {
        fprintf(stderr, "novactl: %s was not restarted within the timeout\n", ref);
        r = 1;
    } else if (r == -ENOENT) {
        fprintf(stderr, "novactl: %s was deleted\n", ref);
        r = 1;
    } else if (r < 0) {
        r = cli_etcd_error(c, "cannot follow etcd");
    } else if (r == 0) {
        r = 1; /* interrupted */
    } else {
        const cJSON *rec = cJSON_GetObjectItem(w.status, "restart");
        const char *msg = cJSON_GetStringValue(cJSON_GetObjectItem(rec, "message"));

        printf("%s restarted at %s%s", ref,
               cJSON_GetStringValue(cJSON_GetObjectItem(rec, "restartTime")), msg ? ": " : "");
        cli_puts_safe(stdout, msg ? msg : "");
        putchar('\n');
        r = 0;
    }
out:
    cJSON_Delete(w.status);
    cJSON_Delete(doc);
    free(text);
    nc_kv_clear(&kv);
    nc_verr_free(errs);
    return r;
}
