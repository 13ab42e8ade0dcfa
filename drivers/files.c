#include "drivers/files.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "drivers/error.h"

int
nc_mkdir_p(const char *dir)
{
    char buf[4096];

    if (snprintf(buf, sizeof(buf), "%s", dir) >= (int)sizeof(buf))
        return nc_drv_fail(-ENAMETOOLONG, "path too long: %s", dir);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) < 0 && errno != EEXIST)
            return nc_drv_fail(-errno, "cannot create %s: %s", buf, strerror(errno));
        *p = '/';
    }
    if (mkdir(buf, 0755) < 0 && errno != EEXIST)
        return nc_drv_fail(-errno, "cannot create %s: %s", buf, strerror(errno));
    return 0;
}

int
nc_rmdir_files(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;

    if (!d)
        return errno == ENOENT ? 0 : nc_drv_fail(-errno, "cannot open %s: %s", dir, strerror(errno));
    while ((e = readdir(d)))
        if (e->d_name[0] != '.' && unlinkat(dirfd(d), e->d_name, 0) < 0 && errno != ENOENT) {
            int r = nc_drv_fail(-errno, "cannot remove %s/%s: %s", dir, e->d_name, strerror(errno));

            closedir(d);
            return r;
        }
    closedir(d);
    if (rmdir(dir) < 0 && errno != ENOENT)
        return nc_drv_fail(-errno, "cannot remove %s: %s", dir, strerror(errno));
    return 0;
}
