/* The Snapshot kind of the API (schema/README.md): a point-in-time copy of
 * every disk of a VM (and of its memory, when asked and it runs); its
 * parsed form and validator. */
#ifndef NC_SCHEMA_SNAPSHOT_H
#define NC_SCHEMA_SNAPSHOT_H

#include <stdbool.h>

#include "schema/validate.h"

#define NC_SNAPSHOT_KIND "Snapshot"
#define NC_SNAPSHOT_MIN_RETAIN_S 60
#define NC_SNAPSHOT_MAX_RETAIN_S (10 * 366 * 86400)

struct nc_snapshot_spec {
    char vm[NC_NAME_MAX + 1];
    bool memory;        /* the guest's memory and device state too, when it runs */
    bool quiesce;       /* the guest's file systems frozen through its agent */
    unsigned retain_s;  /* deleted this long after it was taken; 0: kept */
};

/* As nc_vm_spec_from_json() (schema/vm.h), for a Snapshot document. */
int nc_snapshot_spec_from_json(const cJSON *doc, const char *ns, const char *name,
                               struct nc_snapshot_spec *ret, struct nc_verr *errs)
    __attribute__((warn_unused_result));
int nc_snapshot_spec_parse(const char *json, const char *ns, const char *name,
                           struct nc_snapshot_spec *ret, struct nc_verr *errs)
    __attribute__((warn_unused_result));
int nc_snapshot_validate(const cJSON *doc, const char *ns, const char *name,
                         struct nc_verr *errs);

#endif
