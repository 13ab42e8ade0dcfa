/* The Migration kind of the API (schema/README.md): a request to move a
 * running VM to another node; its parsed form and validator. */
#ifndef NC_SCHEMA_MIGRATION_H
#define NC_SCHEMA_MIGRATION_H

#include <stdint.h>

#include "schema/validate.h"

#define NC_MIGRATION_KIND "Migration"
#define NC_MIGRATION_MAX_DOWNTIME_MS 60000
#define NC_MIGRATION_MAX_BANDWIDTH 1000000 /* MiB/s */
#define NC_MIGRATION_MAX_TIMEOUT_S 86400

enum nc_mig_mode {
    NC_MIG_AUTO, /* live when it can be, else cold */
    NC_MIG_LIVE,
    NC_MIG_COLD,
    NC_MIG_MODE_INVALID,
};

struct nc_migration_spec {
    char vm[NC_NAME_MAX + 1];
    char target[254];        /* targetNode; "" lets the scheduler pick */
    enum nc_mig_mode mode;
    unsigned max_downtime_ms; /* 0: libvirt's default (300 ms) */
    unsigned bandwidth_mibps; /* 0: unlimited */
    unsigned timeout_s;       /* 0: none */
};

extern const char *const nc_mig_mode_names[];

/* As nc_vm_spec_from_json() (schema/vm.h), for a Migration document. */
int nc_migration_spec_from_json(const cJSON *doc, const char *ns, const char *name,
                                struct nc_migration_spec *ret, struct nc_verr *errs)
    __attribute__((warn_unused_result));
int nc_migration_spec_parse(const char *json, const char *ns, const char *name,
                            struct nc_migration_spec *ret, struct nc_verr *errs)
    __attribute__((warn_unused_result));
int nc_migration_validate(const cJSON *doc, const char *ns, const char *name,
                          struct nc_verr *errs);

#endif
