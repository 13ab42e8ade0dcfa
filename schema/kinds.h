/*
 * The kinds of the API (schema/README.md) in one table: the key segment, the manifest's
 * "kind", the words a person may type for it, and its validator. Daemon
 * and novactl both go through it, so a kind is added in one place.
 */
#ifndef NC_SCHEMA_KINDS_H
#define NC_SCHEMA_KINDS_H

#include <cjson/cJSON.h>

#include "schema/validate.h"

struct nc_kind {
    const char *segment; /* in keys: "vm" */
    const char *name;    /* in manifests: "VirtualMachine" */
    const char *const *aliases; /* what novactl accepts besides the two, NULL-terminated */
    /* Validates @doc stored under @ns/@name (NULL: the document names itself). */
    int (*validate)(const cJSON *doc, const char *ns, const char *name, struct nc_verr *errs);
};

extern const struct nc_kind nc_kinds[];
extern const size_t nc_n_kinds;

/* By key segment ("vm"), NULL when unknown. */
const struct nc_kind *nc_kind_by_segment(const char *segment);
/* By manifest kind ("VirtualMachine"), NULL when unknown. */
const struct nc_kind *nc_kind_by_name(const char *name);
/* By any word a person types: segment, kind, plural, short form; any case. */
const struct nc_kind *nc_kind_lookup(const char *word);

/*
 * Validates a manifest that is not stored yet: its "kind" picks the
 * validator, its metadata gives the namespace ("default" when absent) and
 * the name. On success fills @ret_kind, @ret_ns and @ret_name (the key it
 * belongs under) and returns 0; otherwise appends every problem to @errs
 * and returns -EINVAL.
 */
int nc_manifest_check(const cJSON *doc, struct nc_verr *errs, const struct nc_kind **ret_kind,
                      char ret_ns[NC_NAME_MAX + 1], char ret_name[NC_NAME_MAX + 1]);

#endif
