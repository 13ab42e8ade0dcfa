/*
 * Reading manifests from files, directories (recursively, *.json) and
 * standard input. A file holds one document, a JSON array of documents,
 * or documents one after another. Every document is validated with the
 * daemon's own validators; problems are kept per document so callers
 * report all of them at once, with file, document number and field.
 */
#ifndef NC_MANIFEST_H
#define NC_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "schema/kinds.h"

struct nc_manifest {
    char *file;  /* as named on the command line, or found in a directory; "-": stdin */
    int index;   /* 1-based position in the file */
    cJSON *doc;  /* NULL when the text was not JSON */
    struct nc_verr *errs; /* NULL when valid */
    /* When valid: */
    const struct nc_kind *kind;
    char ns[NC_NAME_MAX + 1], name[NC_NAME_MAX + 1];
};

struct nc_manifest_set {
    struct nc_manifest *items;
    size_t n, cap;
    size_t n_invalid;
};

/*
 * Reads every document under @paths into @set. Returns 0, or -1 after
 * printing why a path could not be read at all (missing file, I/O error);
 * invalid documents are not an error here, they are counted in
 * set->n_invalid.
 */
int nc_manifests_load(struct nc_manifest_set *set, const char *const *paths, size_t n_paths);
/* Marks each document that defines an object an earlier one of @set
 * defines too as invalid: applied together, the later would silently win. */
/* Reads the documents of @text, the contents of @file (a name for the
 * messages), into @set, as nc_manifests_load() does for each file. */
void nc_manifests_parse(struct nc_manifest_set *set, const char *file, const char *text);
void nc_manifests_find_duplicates(struct nc_manifest_set *set);
void nc_manifests_clear(struct nc_manifest_set *set);

/* Prints every problem of @set as "FILE: document N (kind/ns/name): ERROR". */
void nc_manifests_print_errors(const struct nc_manifest_set *set, FILE *f);

#endif
