#include <errno.h>
#include <string.h>

#include "schema/instancetype.h"
#include "schema/vm.h"

static const char *const spec_fields[] = {"vcpus", "memory", NULL};

int
nc_instancetype_spec_from_json(const cJSON *doc, const char *ns, const char *name,
                               struct nc_instancetype_spec *ret, struct nc_verr *errs)
{
    size_t before = nc_verr_count(errs);
    const cJSON *spec = nc_v_envelope(errs, doc, NC_INSTANCETYPE_KIND, ns, name);

    memset(ret, 0, sizeof(*ret));
    if (spec) {
        nc_v_known_fields(errs, spec, "spec", spec_fields);
        ret->vcpus = (unsigned)nc_v_int(errs, spec, "spec", "vcpus", true, 1, NC_VM_MAX_VCPUS, 1);
        ret->memory = nc_v_quantity(errs, spec, "spec", "memory", true, NC_VM_MIN_MEMORY,
                                    NC_VM_MAX_MEMORY, 1 << 10);
    }
    return nc_verr_count(errs) > before ? -EINVAL : 0;
}

int
nc_instancetype_spec_parse(const char *json, const char *ns, const char *name,
                           struct nc_instancetype_spec *ret, struct nc_verr *errs)
{
    NC_V_PARSE(nc_instancetype_spec_from_json, json, ns, name, ret, errs);
}

int
nc_instancetype_validate(const cJSON *doc, const char *ns, const char *name,
                         struct nc_verr *errs)
{
    struct nc_instancetype_spec spec;

    return nc_instancetype_spec_from_json(doc, ns, name, &spec, errs);
}
