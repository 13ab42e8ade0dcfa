#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "schema/migration.h"

const char *const nc_mig_mode_names[] = {"auto", "live", "cold", NULL};

static const char *const spec_fields[] = {"vm",           "targetNode",     "mode",
                                          "maxDowntimeMs", "bandwidthMiBps", "timeoutSeconds",
                                          NULL};

int
nc_migration_spec_from_json(const cJSON *doc, const char *ns, const char *name,
                            struct nc_migration_spec *ret, struct nc_verr *errs)
{
    size_t before = nc_verr_count(errs);
    const cJSON *spec = nc_v_envelope(errs, doc, NC_MIGRATION_KIND, ns, name);
    const char *s;

    memset(ret, 0, sizeof(*ret));
    if (spec) {
        nc_v_known_fields(errs, spec, "spec", spec_fields);
        if ((s = nc_v_dns_label(errs, spec, "spec", "vm", true)))
            snprintf(ret->vm, sizeof(ret->vm), "%s", s);
        if ((s = nc_v_string(errs, spec, "spec", "targetNode", false, 253))) {
            if (nc_is_dns_subdomain(s))
                snprintf(ret->target, sizeof(ret->target), "%s", s);
            else
                nc_verr_add(errs, "spec.targetNode", "must be a host name (DNS labels joined by '.')");
        }
        ret->mode = nc_v_enum(errs, spec, "spec", "mode", nc_mig_mode_names, NC_MIG_AUTO);
        ret->max_downtime_ms = (unsigned)nc_v_int(errs, spec, "spec", "maxDowntimeMs", false, 1,
                                                  NC_MIGRATION_MAX_DOWNTIME_MS, 0);
        ret->bandwidth_mibps = (unsigned)nc_v_int(errs, spec, "spec", "bandwidthMiBps", false, 1,
                                                  NC_MIGRATION_MAX_BANDWIDTH, 0);
        ret->timeout_s = (unsigned)nc_v_int(errs, spec, "spec", "timeoutSeconds", false, 1,
                                            NC_MIGRATION_MAX_TIMEOUT_S, 0);
    }
    return nc_verr_count(errs) > before ? -EINVAL : 0;
}

int
nc_migration_spec_parse(const char *json, const char *ns, const char *name,
                        struct nc_migration_spec *ret, struct nc_verr *errs)
{
    NC_V_PARSE(nc_migration_spec_from_json, json, ns, name, ret, errs);
}

int
nc_migration_validate(const cJSON *doc, const char *ns, const char *name, struct nc_verr *errs)
{
    struct nc_migration_spec spec;

    return nc_migration_spec_from_json(doc, ns, name, &spec, errs);
}
