#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reconcilers/hostpath.h"

/* @path lies below folder @dir (given without its trailing slashes, @n
 * bytes of it). */
static bool
below(const char *path, const char *dir, size_t n)
{
    return strncmp(path, dir, n) == 0 && path[n] == '/' && path[n + 1] != '\0';
}

const char *
nc_hostpath_resolve(const char *dir, const char *folder, const char *path,
                    char resolved[PATH_MAX], char *why, size_t whysz)
{
    char dir_real[PATH_MAX];
    size_t n = dir ? strlen(dir) : 0;
    struct stat st;

    while (n > 1 && dir[n - 1] == '/')
        n--;
    if (!dir || !realpath(dir, dir_real)) {
        snprintf(why, whysz, "cannot be used: the node's %s does not exist", folder);
        return why;
    }
    /* As written first: nothing outside is looked at. The resolved folder
     * counts too, for operators who name it through a symbolic link. */
    if (!below(path, dir, n) && !below(path, dir_real, strlen(dir_real)))
        goto outside;
    if (!realpath(path, resolved)) {
        snprintf(why, whysz, "does not exist on this node");
        return why;
    }
    if (!below(resolved, dir_real, strlen(dir_real)))
        goto outside;
    if (stat(resolved, &st) < 0 || !S_ISREG(st.st_mode)) {
        snprintf(why, whysz, "is not a regular file");
        return why;
    }
    if (access(resolved, R_OK) < 0) {
        snprintf(why, whysz, "cannot be read (%s)", strerror(errno));
        return why;
    }
    return NULL;
outside:
    snprintf(why, whysz, "must be inside the node's %s", folder);
    return why;
}
