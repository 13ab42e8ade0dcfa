/* The Volume kind of the API (schema/README.md §5-7): its parsed form and validator. */
#ifndef NC_SCHEMA_VOLUME_H
#define NC_SCHEMA_VOLUME_H

#include <stdint.h>

#include "schema/validate.h"

#define NC_VOLUME_KIND "Volume"
#define NC_VOLUME_MIN_SIZE (1ULL << 20) /* a multiple of 1KiB up to 64TiB */
#define NC_VOLUME_MAX_SIZE (64ULL << 40)
#define NC_VOLUME_DEFAULT_POOL "default"

enum nc_vol_format {
    NC_VOL_QCOW2,
    NC_VOL_RAW,
    NC_VOL_FORMAT_INVALID,
};

enum nc_vol_source {
    NC_SRC_BLANK,
    NC_SRC_IMAGE,  /* a copy-on-write qcow2 clone backed by an image file */
    NC_SRC_VOLUME, /* a copy of another Volume of the same namespace */
};

struct nc_volume_spec {
    uint64_t size; /* bytes */
    enum nc_vol_format format;
    char pool[NC_NAME_MAX + 1];
    enum nc_vol_source source;
    char *image;                    /* NC_SRC_IMAGE: absolute path */
    char volume[NC_NAME_MAX + 1];   /* NC_SRC_VOLUME: the Volume's name */
    char node[254];                 /* where to make it; "" for its first VM's node */
};

extern const char *const nc_vol_format_names[];

/* As nc_vm_spec_from_json() (schema/vm.h), for a Volume document. Free
 * @ret's strings with nc_volume_spec_clear(). */
int nc_volume_spec_from_json(const cJSON *doc, const char *ns, const char *name,
                             struct nc_volume_spec *ret, struct nc_verr *errs)
    __attribute__((warn_unused_result));
int nc_volume_spec_parse(const char *json, const char *ns, const char *name,
                         struct nc_volume_spec *ret, struct nc_verr *errs)
    __attribute__((warn_unused_result));
void nc_volume_spec_clear(struct nc_volume_spec *spec);
int nc_volume_validate(const cJSON *doc, const char *ns, const char *name, struct nc_verr *errs);

#endif
