/* apply, validate and delete: the verbs that take manifests. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "novactl/manifest.h"
#include "novactl/objects.h"

/* Reads the -f documents. With @act ("applied", "deleted") they are acted
 * on together: one object defined twice is an error too, and when any
 * document is invalid every problem is printed and nothing is @act. */
static int
load(struct cli *c, struct nc_manifest_set *set, const char *act)
{
    if (c->n_files == 0) {
        fprintf(stderr, "novactl: %s needs -f FILE|DIR|-\nTry 'novactl %s --help'.\n", c->verb,
                c->verb);
        return 2;
    }
    if (c->argc > 0) {
        fprintf(stderr, "novactl: %s -f takes no other arguments\n", c->verb);
        return 2;
    }
    if (nc_manifests_load(set, c->files, c->n_files) < 0)
        return 1;
    if (!act)
        return 0;
    nc_manifests_find_duplicates(set);
    if (set->n_invalid) {
        nc_manifests_print_errors(set, stderr);
        fprintf(stderr, "novactl: nothing %s: %zu of %zu documents are invalid\n", act,
                set->n_invalid, set->n);
        return 1;
    }
    return 0;
}

/* Stores one valid document unless it equals the stored one. The write
 * compares the revision read, so "unchanged" is never a stale verdict. */
static int
apply_one(struct cli *c, const struct nc_manifest *m)
{
    struct nc_etcd *etcd = cli_etcd(c);
    char key[512], ref[160];
    char *text = cJSON_PrintUnformatted(m->doc);
    int r = -ENOMEM;

    cli_key(c, key, sizeof(key), "spec", m->ns, m->kind->segment, m->name);
    cli_ref(ref, sizeof(ref), m->kind, m->ns, m->name);
    for (int attempt = 0; text && etcd && attempt < 5; attempt++) {
        struct nc_kv kv = {0};
        struct nc_cmp cmp = {.key = key, .result = NC_CMP_EQUAL};
        struct nc_op put = {.key = key, .value = text};
        bool exists, same = false, ok;

        r = nc_etcd_get(etcd, key, &kv, NULL);
        if (r < 0 && r != -ENOENT)
            break;
        exists = r == 0;
        if (exists) {
            cJSON *old = cJSON_Parse(kv.value);

            same = old && cJSON_Compare(old, m->doc, true);
            cJSON_Delete(old);
            cmp.target = NC_CMP_MOD;
            cmp.number = kv.mod_revision;
            nc_kv_clear(&kv);
        } else {
            cmp.target = NC_CMP_CREATE;
        }
        if (same || c->dry_run) {
            printf("%s %s%s\n", ref, same ? "unchanged" : exists ? "configured" : "created",
                   c->dry_run ? " (dry run)" : "");
            r = 0;
            break;
        }
        r = nc_etcd_txn(etcd, &cmp, 1, &put, 1, NULL, 0, &ok, NULL);
        if (r < 0)
            break;
        if (ok) {
            printf("%s %s\n", ref, exists ? "configured" : "created");
            break;
        }
        r = -EAGAIN; /* written by someone else meanwhile: look again */
    }
    free(text);
    if (r == -EAGAIN)
        fprintf(stderr, "novactl: %s: changed by another writer five times in a row\n", ref);
    else if (r < 0)
        cli_etcd_error(c, ref);
    return r < 0 ? 1 : 0;
}

static bool
in_set(const struct nc_manifest_set *set, const struct cli_obj *o)
{
    for (size_t i = 0; i < set->n; i++)
        if (set->items[i].kind == o->kind && strcmp(set->items[i].ns, o->ns) == 0 &&
            strcmp(set->items[i].name, o->name) == 0)
            return true;
    return false;
}

/* Deletes what carries the selector's labels but was not applied now. */
static int
prune(struct cli *c, const struct nc_manifest_set *set, const struct cli_selector *sel)
{
    struct cli_objs objs = {0};
    int r = cli_objs_fetch(c, NULL, NULL, &objs), status = 0;

    if (r < 0)
        return cli_etcd_error(c, "cannot list objects to prune");
    for (size_t i = 0; i < objs.n; i++) {
        struct cli_obj *o = &objs.items[i];
        char key[512], ref[160];
        struct nc_cmp cmp = {.key = key, .target = NC_CMP_MOD, .result = NC_CMP_EQUAL};
        struct nc_op del = {.del = true, .key = key};
        bool ok = true;

        if (!o->spec || !cli_selector_match(sel, o->spec) || in_set(set, o))
            continue;
        cli_key(c, key, sizeof(key), "spec", o->ns, o->kind->segment, o->name);
        cli_ref(ref, sizeof(ref), o->kind, o->ns, o->name);
        cmp.number = o->generation;
        if (!c->dry_run && nc_etcd_txn(cli_etcd(c), &cmp, 1, &del, 1, NULL, 0, &ok, NULL) < 0) {
            status = cli_etcd_error(c, ref);
            continue;
        }
        if (ok)
            printf("%s pruned%s\n", ref, c->dry_run ? " (dry run)" : "");
        else
            printf("%s changed while pruning, left alone\n", ref);
    }
    cli_objs_clear(&objs);
    return status;
}

int
cli_apply(struct cli *c)
{
    struct nc_manifest_set set = {0};
    struct cli_selector *sel = NULL;
    int r;

    if (c->prune != (c->selector != NULL)) {
        fputs("novactl: --prune and -l go together: prune what carries these labels\n", stderr);
        return 2;
    }
    if (c->selector && !(sel = cli_selector_parse(c->selector)))
        return 2;
    if ((r = load(c, &set, "applied")) != 0)
        goto out;
    for (size_t i = 0; i < set.n; i++)
        r |= apply_one(c, &set.items[i]);
    /* A set that did not fully apply must not prune: what failed would go. */
    if (c->prune && r == 0)
        r = prune(c, &set, sel);
out:
    nc_manifests_clear(&set);
    cli_selector_free(sel);
    return r;
}

int
cli_validate(struct cli *c)
{
    struct nc_manifest_set set = {0};
    bool json = c->output && strcmp(c->output, "json") == 0;
    int r;

    if (c->output && !json && strcmp(c->output, "text") != 0) {
        fputs("novactl: validate -o takes text or json\n", stderr);
        return 2;
    }
    if ((r = load(c, &set, NULL)) != 0)
        goto out;
    if (json) {
        cJSON *out = cJSON_CreateArray();
        char *text;

        for (size_t i = 0; i < set.n; i++) {
            const struct nc_manifest *m = &set.items[i];
            cJSON *o = cJSON_CreateObject(), *errs = cJSON_AddArrayToObject(o, "errors");

            cJSON_AddStringToObject(o, "file", m->file);
            cJSON_AddNumberToObject(o, "document", m->index);
            if (m->kind) {
                cJSON_AddStringToObject(o, "kind", m->kind->name);
                cJSON_AddStringToObject(o, "namespace", m->ns);
                cJSON_AddStringToObject(o, "name", m->name);
            }
            cJSON_AddBoolToObject(o, "valid", m->errs == NULL);
            for (size_t j = 0; m->errs && j < nc_verr_kept(m->errs); j++)
                cJSON_AddItemToArray(errs, cJSON_CreateString(nc_verr_get(m->errs, j)));
            if (m->errs && nc_verr_count(m->errs) > nc_verr_kept(m->errs))
                cJSON_AddNumberToObject(o, "moreErrors",
                                        (double)(nc_verr_count(m->errs) - nc_verr_kept(m->errs)));
            cJSON_AddItemToArray(out, o);
        }
        text = cJSON_Print(out);
        if (text)
            puts(text);
        free(text);
        cJSON_Delete(out);
    } else {
        nc_manifests_print_errors(&set, stdout);
        if (set.n_invalid)
            printf("%zu of %zu documents are invalid\n", set.n_invalid, set.n);
        else
            printf("%zu documents are valid\n", set.n);
    }
    r = set.n_invalid ? 1 : 0;
out:
    nc_manifests_clear(&set);
    return r;
}

/* One object to delete, from the command line or a manifest: 0 when its
 * spec is gone (or was not there and that is fine), else the exit status. */
static int
delete_one(struct cli *c, const struct nc_kind *k, const char *ns, const char *name)
{
    char key[512], ref[160];
    int64_t deleted = 0;
    struct nc_etcd *etcd = cli_etcd(c);

    cli_key(c, key, sizeof(key), "spec", ns, k->segment, name);
    cli_ref(ref, sizeof(ref), k, ns, name);
    if (!etcd || nc_etcd_delete(etcd, key, false, &deleted) < 0)
        return cli_etcd_error(c, ref);
    if (deleted == 0 && !c->ignore_not_found) {
        fprintf(stderr, "novactl: %s not found\n", ref);
        return 1;
    }
    if (deleted)
        printf("%s deleted\n", ref);
    return 0;
}

/* What delete --wait waits for once every spec is deleted: all at once, so
 * that a Network waiting for its VMs is not waited for before them. */
struct doomed {
    const struct nc_kind *kind;
    char ns[NC_NAME_MAX + 1], name[NC_NAME_MAX + 1];
};

int
cli_delete(struct cli *c)
{
    struct nc_manifest_set set = {0};
    const struct nc_kind *k = NULL;
    struct doomed *doomed = calloc((size_t)c->argc + 1, sizeof(*doomed));
    size_t n_doomed = 0;
    int r = 0;

    if (!doomed)
        return 1;
    if (c->n_files) {
        struct doomed *more;

        if ((r = load(c, &set, "deleted")) != 0)
            goto out;
        if (!(more = realloc(doomed, (set.n + 1) * sizeof(*doomed)))) {
            r = 1;
            goto out;
        }
        doomed = more;
        for (size_t i = 0; i < set.n; i++) {
            int one = delete_one(c, set.items[i].kind, set.items[i].ns, set.items[i].name);

            r |= one;
            if (one == 0) {
                doomed[n_doomed].kind = set.items[i].kind;
                snprintf(doomed[n_doomed].ns, sizeof(doomed->ns), "%s", set.items[i].ns);
                snprintf(doomed[n_doomed++].name, sizeof(doomed->name), "%s", set.items[i].name);
            }
        }
        goto wait;
    }
    /* "KIND NAME..." or "KIND/NAME..." */
    for (int i = 0; i < c->argc; i++) {
        char word[128], *slash;
        const char *name;
        int one;

        snprintf(word, sizeof(word), "%s", c->argv[i]);
        if ((slash = strchr(word, '/'))) {
            *slash = '\0';
            if (!(k = cli_kind(word))) {
                r = 2;
                goto out;
            }
        } else if (!k) {
            if (!(k = cli_kind(word))) {
                r = 2;
                goto out;
            }
            continue;
        }
        name = slash ? slash + 1 : word;
        if (!nc_is_dns_label(name)) {
            fputs("novactl: not a name: \"", stderr);
            cli_puts_safe(stderr, c->argv[i]);
            fputs("\"\n", stderr);
            r = 1;
            continue;
        }
        one = delete_one(c, k, cli_ns(c), name);
        r |= one;
        if (one == 0) {
            doomed[n_doomed].kind = k;
            snprintf(doomed[n_doomed].ns, sizeof(doomed->ns), "%s", cli_ns(c));
            /* A DNS label: at most NC_NAME_MAX characters, checked above. */
            snprintf(doomed[n_doomed++].name, sizeof(doomed->name), "%.63s", name);
        }
        k = slash ? NULL : k;
    }
    if (c->argc == 0 || (k && c->argc == 1)) {
        fputs("novactl: delete needs KIND NAME..., KIND/NAME... or -f FILE\n", stderr);
        r = 2;
        goto out;
    }
wait:
    for (size_t i = 0; c->wait && i < n_doomed; i++)
        r |= cli_wait_until(c, doomed[i].kind, doomed[i].ns, doomed[i].name, "delete");
out:
    free(doomed);
    nc_manifests_clear(&set);
    return r;
}
