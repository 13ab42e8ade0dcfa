#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "schema/snapshot.h"

static const char *const spec_fields[] = {"vm", "memory", "quiesce", "retainSeconds", NULL};

int
nc_snapshot_spec_from_json(const cJSON *doc, const char *ns, const char *name,
                           struct nc_snapshot_spec *ret, struct nc_verr *errs)
{
    size_t before = nc_verr_count(errs);
    const cJSON *spec = nc_v_envelope(errs, doc, NC_SNAPSHOT_KIND, ns, name);
    const char *s;

    memset(ret, 0, sizeof(*ret));
    if (spec) {
        nc_v_known_fields(errs, spec, "spec", spec_fields);
        if ((s = nc_v_dns_label(errs, spec, "spec", "vm", true)))
            snprintf(ret->vm, sizeof(ret->vm), "%s", s);
        ret->memory = nc_v_bool(errs, spec, "spec", "memory", false);
        ret->quiesce = nc_v_bool(errs, spec, "spec", "quiesce", false);
        ret->retain_s = (unsigned)nc_v_int(errs, spec, "spec", "retainSeconds", false,
                                           NC_SNAPSHOT_MIN_RETAIN_S, NC_SNAPSHOT_MAX_RETAIN_S, 0);
    }
    return nc_verr_count(errs) > before ? -EINVAL : 0;
}

int
nc_snapshot_spec_parse(const char *json, const char *ns, const char *name,
                       struct nc_snapshot_spec *ret, struct nc_verr *errs)
{
    NC_V_PARSE(nc_snapshot_spec_from_json, json, ns, name, ret, errs);
}

int
nc_snapshot_validate(const cJSON *doc, const char *ns, const char *name, struct nc_verr *errs)
{
    struct nc_snapshot_spec spec;

    return nc_snapshot_spec_from_json(doc, ns, name, &spec, errs);
}
