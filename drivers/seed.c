/*
 * cloud-init NoCloud seeds, written with libisofs: an image is built in
 * memory (a few KiB) and read out of libisofs' burn source block by block
 * into a temporary file, which replaces the seed once synced.
 */
#include "drivers/seed.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h> /* before libisofs.h, which uses uint8_t */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* No libburn here: libisofs then declares struct burn_source itself. */
#define LIBISOFS_WITHOUT_LIBBURN 1
/* Its header declares some functions without prototypes. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#include <libisofs.h>
#pragma GCC diagnostic pop

#include "drivers/error.h"

#define BLOCK 2048

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int init_result;

static void
init(void)
{
    init_result = iso_init();
    /* Reasons come back through return codes: nothing on stderr. */
    if (init_result >= 0)
        iso_set_msgs_severities("NEVER", "NEVER", "libisofs");
}

static int
iso_fail(int code, const char *what)
{
    return nc_drv_fail(code == (int)ISO_OUT_OF_MEM ? -ENOMEM : -EIO, "seed image: %s: %s", what,
                       iso_error_to_msg(code));
}

/* The image of @files, as a burn source the caller frees with
 * burn_source's free_data() and free(). */
static int
build(const struct nc_seed_file *files, unsigned n, struct burn_source **ret)
{
    IsoImage *image = NULL;
    IsoWriteOpts *opts = NULL;
    int r;

    if ((r = iso_image_new(NC_SEED_LABEL, &image)) < 0)
        return iso_fail(r, "new image");
    for (unsigned i = 0; i < n; i++) {
        IsoStream *stream;
        unsigned char *copy = malloc(files[i].len ? files[i].len : 1);

        if (!copy) {
            r = -ENOMEM;
            goto out;
        }
        memcpy(copy, files[i].data, files[i].len);
        /* The stream owns @copy from here, even when it fails. */
        if ((r = iso_memory_stream_new(copy, files[i].len, &stream)) < 0) {
            r = iso_fail(r, files[i].name);
            goto out;
        }
        r = iso_image_add_new_file(image, iso_image_get_root(image), files[i].name, stream,
                                   NULL);
        if (r < 0) {
            iso_stream_unref(stream);
            r = iso_fail(r, files[i].name);
            goto out;
        }
    }
    /* Profile 2: Rock Ridge and Joliet, default permissions. */
    if ((r = iso_write_opts_new(&opts, 2)) < 0) {
        r = iso_fail(r, "write options");
        goto out;
    }
    r = iso_image_create_burn_source(image, opts, ret);
    r = r < 0 ? iso_fail(r, "start writing") : 0;
out:
    iso_write_opts_free(opts);
    iso_image_unref(image);
    return r;
}

static int
copy_out(struct burn_source *src, int fd, const char *path)
{
    unsigned char block[BLOCK];
    int got;

    while ((got = src->read_xt(src, block, BLOCK)) > 0) {
        for (int off = 0; off < got;) {
            ssize_t w = write(fd, block + off, (size_t)(got - off));

            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0)
                return nc_drv_fail(-errno, "cannot write %s: %s", path, strerror(errno));
            off += (int)w;
        }
    }
    if (got < 0)
        return nc_drv_fail(-EIO, "seed image: libisofs failed while writing %s", path);
    if (fsync(fd) < 0)
        return nc_drv_fail(-errno, "cannot sync %s: %s", path, strerror(errno));
    return 0;
}

int
nc_seed_write(const char *path, const struct nc_seed_file *files, unsigned n)
{
    struct burn_source *src = NULL;
    char tmp[4096];
    int fd, r;

    pthread_once(&once, init);
    if (init_result < 0)
        return iso_fail(init_result, "initialising libisofs");
    if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
        return nc_drv_fail(-ENAMETOOLONG, "seed path too long: %s", path);
    if ((r = build(files, n, &src)) < 0)
        return r;
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        r = nc_drv_fail(-errno, "cannot create %s: %s", tmp, strerror(errno));
        src->cancel(src);
    } else {
        r = copy_out(src, fd, tmp);
        if (r < 0)
            src->cancel(src);
        if (close(fd) < 0 && r == 0)
            r = nc_drv_fail(-errno, "cannot close %s: %s", tmp, strerror(errno));
    }
    src->free_data(src);
    free(src);
    if (r == 0 && rename(tmp, path) < 0)
        r = nc_drv_fail(-errno, "cannot rename %s: %s", tmp, strerror(errno));
    if (r < 0)
        unlink(tmp);
    return r;
}
