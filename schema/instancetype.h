/* The InstanceType kind of the API (schema/README.md): a named size a
 * VirtualMachine takes its vcpus and memory from (spec.instancetype); its
 * parsed form and validator. */
#ifndef NC_SCHEMA_INSTANCETYPE_H
#define NC_SCHEMA_INSTANCETYPE_H

#include <stdint.h>

#include "schema/validate.h"

#define NC_INSTANCETYPE_KIND "InstanceType"

struct nc_instancetype_spec {
    unsigned vcpus;
    uint64_t memory; /* bytes */
};

/* As nc_vm_spec_from_json() (schema/vm.h), for an InstanceType document. */
int nc_instancetype_spec_from_json(const cJSON *doc, const char *ns, const char *name,
                                   struct nc_instancetype_spec *ret, struct nc_verr *errs)
    __attribute__((warn_unused_result));
int nc_instancetype_spec_parse(const char *json, const char *ns, const char *name,
                               struct nc_instancetype_spec *ret, struct nc_verr *errs)
    __attribute__((warn_unused_result));
int nc_instancetype_validate(const cJSON *doc, const char *ns, const char *name,
                             struct nc_verr *errs);

#endif
