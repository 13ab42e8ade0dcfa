/*
 * Objects as novactl shows them: a spec and its status, read from etcd
 * together, and label selectors.
 */
#ifndef NC_CLI_OBJECTS_H
#define NC_CLI_OBJECTS_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "novactl/cli.h"

struct cli_obj {
    const struct nc_kind *kind;
    char ns[NC_NAME_MAX + 1], name[NC_NAME_MAX + 1];
    cJSON *spec;         /* the stored document, NULL when absent or not JSON */
    bool has_spec;
    int64_t generation;  /* the spec's mod_revision */
    cJSON *status;       /* NULL when absent */
    bool shown;          /* printed by get -w, whose later changes follow */
};

struct cli_objs {
    struct cli_obj *items; /* sorted by namespace, then kind, then name */
    size_t n, cap;
    int64_t revision; /* watch from revision + 1 to miss nothing */
    /* Listed across every namespace by a user who may not read them all:
     * the namespaces it may read, which it listed instead (sorted). */
    char **namespaces;
    size_t n_namespaces;
};

/* Lists kind @k (NULL: every kind) in namespace @ns (NULL: every one the
 * user may read; see namespaces above). Returns 0 or a negative errno (see
 * nc_etcd_errmsg()). */
int cli_objs_fetch(struct cli *c, const struct nc_kind *k, const char *ns, struct cli_objs *ret);
void cli_objs_clear(struct cli_objs *objs);
/* The entry for @k/@ns/@name, added (empty) when @create. */
struct cli_obj *cli_objs_find(struct cli_objs *objs, const struct nc_kind *k, const char *ns,
                              const char *name, bool create);

/* Reads one object. 0, -ENOENT when it has neither spec nor status, or a
 * negative errno. @ret_revision (may be NULL) gets the store revision. */
int cli_obj_fetch(struct cli *c, const struct nc_kind *k, const char *ns, const char *name,
                  struct cli_obj *ret, int64_t *ret_revision);
void cli_obj_clear(struct cli_obj *o);

/* The VM a verb's "vm NAME" arguments name, read with its status into
 * @ret, and "vm/NAME" in @ref. 0; or the verb's exit code after saying why
 * not: 2 for other arguments, 1 when etcd fails or there is no status. */
int cli_vm_fetch(struct cli *c, const char *verb, char *ref, size_t refsz, struct cli_obj *ret);
/* @s, a domain or container name from a status (the node's word), is one
 * novacrond gives: checked before it is used. */
bool cli_domain_name_ok(const char *s);

/*
 * Applies a watch event to @objs when @kv is a spec or status key of kind
 * @k (NULL: any) in @ns (NULL: any). Returns the object it changed, or
 * NULL when the key is not one of them.
 */
struct cli_obj *cli_objs_update(struct cli *c, struct cli_objs *objs, const struct nc_kind *k,
                                const char *ns, const struct nc_kv *kv, bool deleted);

/* The status's phase; "Pending" with none yet, "Deleting" with no spec. */
const char *cli_obj_phase(const struct cli_obj *o);
/* Ready=True for the current generation: converged (schema/README.md §3). */
bool cli_obj_ready(const struct cli_obj *o);
/* True when the status was written for the current generation. */
bool cli_obj_observed(const struct cli_obj *o);

struct cli_selector;
/* Parses "a=b,c!=d,e,!f"; prints why and returns NULL when invalid. */
struct cli_selector *cli_selector_parse(const char *text);
struct cli_selector *cli_selector_free(struct cli_selector *sel);
/* Whether the labels of manifest @doc satisfy @sel (NULL: everything). */
bool cli_selector_match(const struct cli_selector *sel, const cJSON *doc);

#endif
