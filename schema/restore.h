/* The Restore kind of the API (schema/README.md): a request to bring a
 * VM's disks (and memory, when kept) back to a Snapshot; its parsed form
 * and validator. */
#ifndef NC_SCHEMA_RESTORE_H
#define NC_SCHEMA_RESTORE_H

#include "schema/validate.h"

#define NC_RESTORE_KIND "Restore"

struct nc_restore_spec {
    char vm[NC_NAME_MAX + 1];
    char snapshot[NC_NAME_MAX + 1];
};

/* As nc_vm_spec_from_json() (schema/vm.h), for a Restore document. */
int nc_restore_spec_from_json(const cJSON *doc, const char *ns, const char *name,
                              struct nc_restore_spec *ret, struct nc_verr *errs)
    __attribute__((warn_unused_result));
int nc_restore_spec_parse(const char *json, const char *ns, const char *name,
                          struct nc_restore_spec *ret, struct nc_verr *errs)
    __attribute__((warn_unused_result));
int nc_restore_validate(const cJSON *doc, const char *ns, const char *name,
                        struct nc_verr *errs);

#endif
