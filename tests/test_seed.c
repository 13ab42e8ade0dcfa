#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "drivers/error.h"
#include "drivers/seed.h"

#define BLOCK 2048

static char dir[] = "/tmp/nc-seed-XXXXXX";

static void
setup(void)
{
    cr_assert_not_null(mkdtemp(dir));
}

static void
teardown(void)
{
    char cmd[64];

    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}

static char *
slurp(const char *path, size_t *ret_len)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long len;

    cr_assert_not_null(f, "%s: %s", path, strerror(errno));
    cr_assert_eq(fseek(f, 0, SEEK_END), 0);
    len = ftell(f);
    rewind(f);
    buf = malloc((size_t)len);
    cr_assert_eq(fread(buf, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    *ret_len = (size_t)len;
    return buf;
}

static bool
contains(const char *hay, size_t len, const char *needle)
{
    return memmem(hay, len, needle, strlen(needle)) != NULL;
}

TestSuite(seed, .init = setup, .fini = teardown);

/* ECMA-119: the primary volume descriptor in block 16 with the label,
 * Joliet's supplementary one after it, and each file's bytes and its Rock
 * Ridge name (as written, lower case) in the image. */
Test(seed, is_an_iso9660_image_labelled_cidata)
{
    static const char user[] = "#cloud-config\nruncmd:\n  - echo hello\n";
    static const char meta[] = "instance-id: i-1\nlocal-hostname: web-1\n";
    struct nc_seed_file files[] = {
        {"user-data", user, sizeof(user) - 1},
        {"meta-data", meta, sizeof(meta) - 1},
    };
    char path[256], label[33];
    size_t len;
    char *img;

    snprintf(path, sizeof(path), "%s/seed.iso", dir);
    cr_assert_eq(nc_seed_write(path, files, 2), 0, "%s", nc_drv_errmsg());
    img = slurp(path, &len);
    cr_assert_geq(len, 18 * BLOCK);
    cr_assert_eq(len % BLOCK, 0);
    cr_assert_eq(img[16 * BLOCK], 1, "primary volume descriptor");
    cr_assert_eq(memcmp(img + 16 * BLOCK + 1, "CD001", 5), 0);
    memcpy(label, img + 16 * BLOCK + 40, 32);
    label[32] = '\0';
    for (int i = 31; i >= 0 && label[i] == ' '; i--)
        label[i] = '\0';
    cr_assert_eq(strcasecmp(label, NC_SEED_LABEL), 0, "label \"%s\"", label);
    cr_assert_eq(img[17 * BLOCK], 2, "Joliet's supplementary volume descriptor");
    cr_assert(contains(img, len, user));
    cr_assert(contains(img, len, meta));
    cr_assert(contains(img, len, "user-data"), "Rock Ridge name");
    cr_assert(contains(img, len, "meta-data"), "Rock Ridge name");
    free(img);
    cr_assert_eq(access(strcat(path, ".tmp"), F_OK), -1, "no temporary file left");
}

Test(seed, rewrite_replaces_the_whole_image)
{
    struct nc_seed_file a = {"user-data", "first version", 13}, b = {"user-data", "second", 6};
    char path[256];
    size_t len;
    char *img;

    snprintf(path, sizeof(path), "%s/seed.iso", dir);
    cr_assert_eq(nc_seed_write(path, &a, 1), 0, "%s", nc_drv_errmsg());
    cr_assert_eq(nc_seed_write(path, &b, 1), 0, "%s", nc_drv_errmsg());
    img = slurp(path, &len);
    cr_assert(contains(img, len, "second"));
    cr_assert_not(contains(img, len, "first version"));
    free(img);
}

Test(seed, errors_come_back_with_a_reason)
{
    struct nc_seed_file f = {"user-data", "x", 1};
    struct nc_seed_file twice[] = {{"user-data", "x", 1}, {"user-data", "y", 1}};
    char path[256];

    snprintf(path, sizeof(path), "%s/missing/seed.iso", dir);
    cr_assert_eq(nc_seed_write(path, &f, 1), -ENOENT);
    cr_assert(strstr(nc_drv_errmsg(), "cannot create"), "%s", nc_drv_errmsg());
    snprintf(path, sizeof(path), "%s/seed.iso", dir);
    cr_assert_eq(nc_seed_write(path, twice, 2), -EIO, "a name given twice");
    cr_assert(strstr(nc_drv_errmsg(), "user-data"), "%s", nc_drv_errmsg());
    cr_assert_eq(access(path, F_OK), -1, "nothing written");
}
