#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema/volume.h"

const char *const nc_vol_format_names[] = {"qcow2", "raw", NULL};

static const char *const spec_fields[] = {"size", "format", "pool", "source", "node", NULL};
static const char *const source_fields[] = {"image", "volume", NULL};

/* A libvirt pool name as the project accepts it: [A-Za-z0-9_-], at most
 * 63, starting alphanumeric (so never "." or ".." and never a path). */
static bool
is_pool_name(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > NC_NAME_MAX || s[0] == '-' || s[0] == '_')
        return false;
    return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == n;
}

static void
parse_source(struct nc_verr *e, const cJSON *spec, struct nc_volume_spec *vol)
{
    const cJSON *src = nc_v_object(e, spec, "spec", "source", false);
    const char *s;

    if (!src)
        return;
    nc_v_known_fields(e, src, "spec.source", source_fields);
    if (cJSON_GetArraySize(src) != 1) {
        nc_verr_add(e, "spec.source", "must have exactly one of image, volume");
        return;
    }
    if (cJSON_HasObjectItem(src, "image")) {
        vol->source = NC_SRC_IMAGE;
        if ((s = nc_v_abs_path(e, src, "spec.source", "image", true)))
            vol->image = strdup(s);
    } else if (cJSON_HasObjectItem(src, "volume")) {
        vol->source = NC_SRC_VOLUME;
        if ((s = nc_v_dns_label(e, src, "spec.source", "volume", true)))
            snprintf(vol->volume, sizeof(vol->volume), "%s", s);
    }
}

void
nc_volume_spec_clear(struct nc_volume_spec *spec)
{
    free(spec->image);
    memset(spec, 0, sizeof(*spec));
}

int
nc_volume_spec_from_json(const cJSON *doc, const char *ns, const char *name,
                         struct nc_volume_spec *ret, struct nc_verr *errs)
{
    size_t before = nc_verr_count(errs);
    const cJSON *spec = nc_v_envelope(errs, doc, NC_VOLUME_KIND, ns, name);
    const char *s;

    memset(ret, 0, sizeof(*ret));
    if (spec) {
        nc_v_known_fields(errs, spec, "spec", spec_fields);
        ret->size = nc_v_quantity(errs, spec, "spec", "size", true, NC_VOLUME_MIN_SIZE,
                                  NC_VOLUME_MAX_SIZE, 1 << 10);
        ret->format = nc_v_enum(errs, spec, "spec", "format", nc_vol_format_names, NC_VOL_QCOW2);
        snprintf(ret->pool, sizeof(ret->pool), NC_VOLUME_DEFAULT_POOL);
        if ((s = nc_v_string(errs, spec, "spec", "pool", false, NC_NAME_MAX))) {
            if (is_pool_name(s))
                snprintf(ret->pool, sizeof(ret->pool), "%s", s);
            else
                nc_verr_add(errs, "spec.pool",
                            "must be a storage pool name ([A-Za-z0-9_-], starting with a letter "
                            "or digit)");
        }
        parse_source(errs, spec, ret);
        if ((s = nc_v_string(errs, spec, "spec", "node", false, 253))) {
            if (nc_is_dns_subdomain(s))
                snprintf(ret->node, sizeof(ret->node), "%s", s);
            else
                nc_verr_add(errs, "spec.node", "must be a host name (DNS labels joined by '.')");
        }
        if (ret->source == NC_SRC_IMAGE && ret->format == NC_VOL_RAW)
            nc_verr_add(errs, "spec.format",
                        "must be qcow2 when spec.source.image is set (the clone is a "
                        "copy-on-write overlay of the image)");
    }
    if (nc_verr_count(errs) > before) {
        nc_volume_spec_clear(ret);
        return -EINVAL;
    }
    return 0;
}

int
nc_volume_spec_parse(const char *json, const char *ns, const char *name,
                     struct nc_volume_spec *ret, struct nc_verr *errs)
{
    NC_V_PARSE(nc_volume_spec_from_json, json, ns, name, ret, errs);
}

int
nc_volume_validate(const cJSON *doc, const char *ns, const char *name, struct nc_verr *errs)
{
    struct nc_volume_spec spec;
    int r = nc_volume_spec_from_json(doc, ns, name, &spec, errs);

    nc_volume_spec_clear(&spec);
    return r;
}
