#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "drivers/domxml.h"
#include "drivers/error.h"
#include "drivers/files.h"
#include "reconcilers/hostpath.h"
#include "reconcilers/process.h"

bool
nc_process_prepare(struct nc_env *env, struct nc_vm_spec *spec, const char *domname, char *dir,
                   size_t dirsz, char *msg, size_t msgsz)
{
    char resolved[PATH_MAX], why[160], tmp[PATH_MAX], *copy;

    if (nc_hostpath_resolve(env->exec_dir, "program folder (--exec-dir)", spec->command[0],
                            resolved, why, sizeof(why))) {
        snprintf(msg, msgsz, "spec.command[0]: %s", why);
        return true;
    }
    if (strcmp(resolved, spec->command[0]) != 0) {
        if (!(copy = strdup(resolved))) {
            snprintf(msg, msgsz, "node %s: out of memory", env->node);
            return true;
        }
        free(spec->command[0]);
        spec->command[0] = copy;
    }
    snprintf(dir, dirsz, "%s/%s", env->process_dir, domname);
    snprintf(tmp, sizeof(tmp), "%s/" NC_PROCESS_TMP, dir);
    if (nc_mkdir_p(tmp) < 0) {
        snprintf(msg, msgsz, "node %s: %s", env->node, nc_drv_errmsg());
        return true;
    }
    if (chown(tmp, NC_PROCESS_ID, NC_PROCESS_ID) < 0 || chmod(tmp, 0700) < 0) {
        snprintf(msg, msgsz, "node %s: cannot prepare the process' folder: %s", env->node,
                 strerror(errno));
        return true;
    }
    return false;
}

static int
remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    return (flag == FTW_DP ? rmdir(path) : unlink(path)) < 0 && errno != ENOENT ? -errno : 0;
}

int
nc_process_remove(const char *dir)
{
    int r = nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);

    if (r < 0 && errno == ENOENT)
        return 0;
    if (r != 0)
        return nc_drv_fail(r < 0 ? -errno : r, "cannot remove %s: %s", dir,
                           strerror(r < 0 ? errno : -r));
    return 0;
}

void
nc_process_exit_read(const char *dir, struct nc_process_exit *ret)
{
    char path[PATH_MAX], text[16] = "";
    struct stat st;
    FILE *f;

    memset(ret, 0, sizeof(*ret));
    snprintf(path, sizeof(path), "%s/" NC_PROCESS_EXIT, dir);
    if (!(f = fopen(path, "re")))
        return;
    if (fstat(fileno(f), &st) == 0 && fgets(text, sizeof(text), f)) {
        char *end;
        long code = strtol(text, &end, 10);

        if (end != text && code >= 0 && code <= 255) {
            ret->exited = true;
            ret->code = (int)code;
            ret->at_ms = (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
        }
    }
    fclose(f);
}

void
nc_process_exit_forget(const char *dir)
{
    char path[PATH_MAX];

    snprintf(path, sizeof(path), "%s/" NC_PROCESS_EXIT, dir);
    unlink(path);
}

int
nc_process_exit_write(const char *dir, int code)
{
    char path[PATH_MAX], tmp[PATH_MAX];
    FILE *f;

    snprintf(path, sizeof(path), "%s/" NC_PROCESS_EXIT, dir);
    snprintf(tmp, sizeof(tmp), "%s/" NC_PROCESS_EXIT ".new", dir);
    if (!(f = fopen(tmp, "we")))
        return -errno;
    if (fprintf(f, "%d\n", code) < 0 || fclose(f) != 0 || rename(tmp, path) < 0) {
        int r = -errno;

        unlink(tmp);
        return r;
    }
    return 0;
}

bool
nc_process_restarts(enum nc_restart_policy policy, int code)
{
    return policy == NC_RESTART_ALWAYS || (policy == NC_RESTART_ON_FAILURE && code != 0);
}

int64_t
nc_process_wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
nc_process_backoff_ms(unsigned n)
{
    int64_t ms = NC_PROCESS_BACKOFF_MIN_MS;

    while (n-- && ms < NC_PROCESS_BACKOFF_MAX_MS)
        ms *= 2;
    return ms < NC_PROCESS_BACKOFF_MAX_MS ? ms : NC_PROCESS_BACKOFF_MAX_MS;
}
