#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <uthash.h>

#include "novactl/manifest.h"

static struct nc_manifest *
add(struct nc_manifest_set *set, const char *file, int index)
{
    struct nc_manifest *m;

    if (set->n == set->cap) {
        size_t cap = set->cap ? set->cap * 2 : 16;
        struct nc_manifest *items = realloc(set->items, cap * sizeof(*items));

        if (!items)
            return NULL;
        set->items = items;
        set->cap = cap;
    }
    m = &set->items[set->n++];
    memset(m, 0, sizeof(*m));
    m->file = strdup(file);
    m->index = index;
    return m;
}

static void
invalid(struct nc_manifest_set *set, const char *file, int index, const char *field,
        const char *reason)
{
    struct nc_manifest *m = add(set, file, index);

    if (!m)
        return;
    m->errs = nc_verr_new();
    nc_verr_add(m->errs, field, "%s", reason);
    set->n_invalid++;
}

/* Validates @doc (taken over) as document @index of @file. */
static void
add_doc(struct nc_manifest_set *set, const char *file, int index, cJSON *doc)
{
    struct nc_manifest *m = add(set, file, index);
    bool too_large;
    char *text;

    if (!m) {
        cJSON_Delete(doc);
        return;
    }
    m->doc = doc;
    m->errs = nc_verr_new();
    /* As it will be stored: apply writes it compact. */
    text = cJSON_PrintUnformatted(doc);
    too_large = m->errs && nc_doc_too_large(text ? strlen(text) : 0, m->errs);
    free(text);
    if (!too_large && nc_manifest_check(doc, m->errs, &m->kind, m->ns, m->name) == 0) {
        m->errs = nc_verr_free(m->errs);
        return;
    }
    m->kind = NULL;
    set->n_invalid++;
}

static void
not_json(struct nc_manifest_set *set, const char *file, int index, const char *text,
         const char *at)
{
    int line = 1, col = 1;
    char reason[96];

    for (const char *p = text; at && p < at && *p; p++, col++)
        if (*p == '\n')
            line++, col = 0;
    snprintf(reason, sizeof(reason), "is not valid JSON (line %d, column %d)", line, col);
    invalid(set, file, index, "(document)", reason);
}

static const char *
skip_space(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    return p;
}

void
nc_manifests_parse(struct nc_manifest_set *set, const char *file, const char *text)
{
    const char *p = skip_space(text), *end = NULL;
    int index = 0;

    if (*p == '\0') {
        invalid(set, file, 1, "(document)", "the file holds no document");
        return;
    }
    if (*p == '[') {
        cJSON *arr, *doc;

        if (nc_json_has_nul_escape(p)) {
            invalid(set, file, 1, "(document)", "must not contain \\u0000");
            return;
        }
        arr = cJSON_ParseWithOpts(p, &end, true);
        if (!arr) {
            not_json(set, file, 1, text, end ? end : cJSON_GetErrorPtr());
            return;
        }
        while ((doc = cJSON_DetachItemFromArray(arr, 0)))
            add_doc(set, file, ++index, doc);
        cJSON_Delete(arr);
        /* "[]" holds no document either (found by fuzz_manifest). */
        if (index == 0)
            invalid(set, file, 1, "(document)", "the file holds no document");
        return;
    }
    /* Documents one after another: each span is checked, then parsed. */
    while (*p) {
        cJSON *doc = cJSON_ParseWithOpts(p, &end, false);
        char *span;

        index++;
        if (!doc) {
            not_json(set, file, index, text, end ? end : cJSON_GetErrorPtr());
            return;
        }
        span = strndup(p, (size_t)(end - p));
        if (span && nc_json_has_nul_escape(span)) {
            cJSON_Delete(doc);
            invalid(set, file, index, "(document)", "must not contain \\u0000");
        } else {
            add_doc(set, file, index, doc);
        }
        free(span);
        p = skip_space(end);
    }
}

static char *
slurp(FILE *f)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    char chunk[65536];
    size_t n;

    if (!mem)
        return NULL;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        fwrite(chunk, 1, n, mem);
    if (ferror(f)) {
        fclose(mem);
        free(buf);
        return NULL;
    }
    fclose(mem);
    return buf;
}

static int load_path(struct nc_manifest_set *set, const char *path, bool explicit);

static int
is_manifest_entry(const struct dirent *d)
{
    size_t n = strlen(d->d_name);

    if (d->d_name[0] == '.')
        return 0;
    return d->d_type == DT_DIR || d->d_type == DT_UNKNOWN ||
           (n > 5 && strcmp(d->d_name + n - 5, ".json") == 0);
}

static int
load_dir(struct nc_manifest_set *set, const char *path)
{
    struct dirent **list;
    int n = scandir(path, &list, is_manifest_entry, alphasort);
    int r = 0;

    if (n < 0) {
        fprintf(stderr, "novactl: %s: %s\n", path, strerror(errno));
        return -1;
    }
    for (int i = 0; i < n; i++) {
        char *sub;

        if (r == 0 && asprintf(&sub, "%s%s%s", path, path[strlen(path) - 1] == '/' ? "" : "/",
                               list[i]->d_name) >= 0) {
            r = load_path(set, sub, false);
            free(sub);
        }
        free(list[i]);
    }
    free(list);
    return r;
}

static int
load_path(struct nc_manifest_set *set, const char *path, bool explicit)
{
    struct stat st;
    FILE *f;
    char *text;

    if (strcmp(path, "-") == 0) {
        f = stdin;
    } else {
        if (stat(path, &st) < 0) {
            fprintf(stderr, "novactl: %s: %s\n", path, strerror(errno));
            return -1;
        }
        if (S_ISDIR(st.st_mode))
            return load_dir(set, path);
        /* Found in a directory walk: only *.json files (a DT_UNKNOWN entry
         * that turns out to be a file is checked here). */
        if (!explicit && (strlen(path) < 5 || strcmp(path + strlen(path) - 5, ".json") != 0))
            return 0;
        f = fopen(path, "r");
        if (!f) {
            fprintf(stderr, "novactl: %s: %s\n", path, strerror(errno));
            return -1;
        }
    }
    text = slurp(f);
    if (f != stdin)
        fclose(f);
    if (!text) {
        fprintf(stderr, "novactl: %s: cannot read\n", path);
        return -1;
    }
    nc_manifests_parse(set, path, text);
    free(text);
    return 0;
}

struct seen {
    char key[3 * (NC_NAME_MAX + 1)];
    const struct nc_manifest *first;
    UT_hash_handle hh;
};

void
nc_manifests_find_duplicates(struct nc_manifest_set *set)
{
    struct seen *table = NULL, *s, *tmp;

    for (size_t i = 0; i < set->n; i++) {
        struct nc_manifest *m = &set->items[i];
        char key[sizeof(s->key)];

        if (!m->kind)
            continue;
        snprintf(key, sizeof(key), "%s/%s/%s", m->kind->segment, m->ns, m->name);
        HASH_FIND_STR(table, key, s);
        if (s) {
            m->errs = nc_verr_new();
            nc_verr_add(m->errs, "metadata.name",
                        "%s \"%s\" in namespace \"%s\" is also defined in %s, document %d",
                        m->kind->name, m->name, m->ns, s->first->file, s->first->index);
            m->kind = NULL;
            set->n_invalid++;
            continue;
        }
        s = calloc(1, sizeof(*s));
        if (!s)
            continue;
        snprintf(s->key, sizeof(s->key), "%s", key);
        s->first = m;
        HASH_ADD_STR(table, key, s);
    }
    HASH_ITER(hh, table, s, tmp) {
        HASH_DEL(table, s);
        free(s);
    }
}

int
nc_manifests_load(struct nc_manifest_set *set, const char *const *paths, size_t n_paths)
{
    for (size_t i = 0; i < n_paths; i++)
        if (load_path(set, paths[i], true) < 0)
            return -1;
    return 0;
}

void
nc_manifests_clear(struct nc_manifest_set *set)
{
    for (size_t i = 0; i < set->n; i++) {
        free(set->items[i].file);
        cJSON_Delete(set->items[i].doc);
        nc_verr_free(set->items[i].errs);
    }
    free(set->items);
    memset(set, 0, sizeof(*set));
}

void
nc_manifests_print_errors(const struct nc_manifest_set *set, FILE *f)
{
    for (size_t i = 0; i < set->n; i++) {
        const struct nc_manifest *m = &set->items[i];

        for (size_t j = 0; m->errs && j < nc_verr_kept(m->errs); j++)
            fprintf(f, "%s: document %d: %s\n", m->file, m->index, nc_verr_get(m->errs, j));
        if (m->errs && nc_verr_count(m->errs) > nc_verr_kept(m->errs))
            fprintf(f, "%s: document %d: and %zu more errors\n", m->file, m->index,
                    nc_verr_count(m->errs) - nc_verr_kept(m->errs));
    }
}
