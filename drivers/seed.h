/*
 * cloud-init's NoCloud seed: an ISO 9660 image with volume label "cidata"
 * holding a few small files (user-data, meta-data, network-config) at its
 * root, made with libisofs (Rock Ridge and Joliet, so the lower-case names
 * read back as written). The reconciler decides what the files say; this
 * only writes them.
 */
#ifndef NC_DRIVER_SEED_H
#define NC_DRIVER_SEED_H

#include <stddef.h>

#define NC_SEED_LABEL "cidata"

struct nc_seed_file {
    const char *name; /* a plain file name, no '/' */
    const char *data; /* @len bytes, borrowed */
    size_t len;
};

/*
 * Writes the image of @files (@n of them) to @path, through a temporary
 * file beside it that is renamed over @path once complete and synced: a
 * reader (QEMU) sees the old image or the new one, never half of one.
 * Returns 0 or a negative errno, with the reason in nc_drv_errmsg().
 */
int nc_seed_write(const char *path, const struct nc_seed_file *files, unsigned n)
    __attribute__((warn_unused_result));

#endif
