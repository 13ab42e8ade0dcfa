#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "schema/restore.h"

static const char *const spec_fields[] = {"vm", "snapshot", NULL};

int
nc_restore_spec_from_json(const cJSON *doc, const char *ns, const char *name,
                          struct nc_restore_spec *ret, struct nc_verr *errs)
{
    size_t before = nc_verr_count(errs);
    const cJSON *spec = nc_v_envelope(errs, doc, NC_RESTORE_KIND, ns, name);
    const char *s;

    memset(ret, 0, sizeof(*ret));
    if (spec) {
        nc_v_known_fields(errs, spec, "spec", spec_fields);
        if ((s = nc_v_dns_label(errs, spec, "spec", "vm", true)))
            snprintf(ret->vm, sizeof(ret->vm), "%s", s);
        if ((s = nc_v_dns_label(errs, spec, "spec", "snapshot", true)))
            snprintf(ret->snapshot, sizeof(ret->snapshot), "%s", s);
    }
    return nc_verr_count(errs) > before ? -EINVAL : 0;
}

int
nc_restore_spec_parse(const char *json, const char *ns, const char *name,
                      struct nc_restore_spec *ret, struct nc_verr *errs)
{
    NC_V_PARSE(nc_restore_spec_from_json, json, ns, name, ret, errs);
}

int
nc_restore_validate(const cJSON *doc, const char *ns, const char *name, struct nc_verr *errs)
{
    struct nc_restore_spec spec;

    return nc_restore_spec_from_json(doc, ns, name, &spec, errs);
}
