/*
 * What the VM reconciler does differently for runtime process: the
 * program a spec names, confined to the node's --exec-dir; the process's
 * folder under --run-dir (its log and exit code, written by the init
 * drivers/domxml.c gives it); and spec.restartPolicy, with a back-off
 * that doubles from 1 s to 5 min and starts over after 10 min of running,
 * as Kubernetes restarts containers.
 */
#ifndef NC_PROCESS_H
#define NC_PROCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "reconcilers/reconciler.h"
#include "schema/vm.h"

#define NC_PROCESS_BACKOFF_MIN_MS 1000
#define NC_PROCESS_BACKOFF_MAX_MS (5 * 60 * 1000)
#define NC_PROCESS_BACKOFF_RESET_S (10 * 60)

/*
 * Resolves spec.command[0] inside env->exec_dir (replacing it by the real
 * path) and makes the process's folder, @dir (env->process_dir/@domname).
 * false, or true with @msg naming the field, when the process cannot run
 * on this node.
 */
bool nc_process_prepare(struct nc_env *env, struct nc_vm_spec *spec, const char *domname,
                        char *dir, size_t dirsz, char *msg, size_t msgsz);

/* Removes the process's folder and whatever it wrote there (symbolic
 * links are removed, never followed); a missing one is fine. 0, or a
 * negative errno with the reason in nc_drv_errmsg(). */
int nc_process_remove(const char *dir) __attribute__((warn_unused_result));

/* Its exit: the code and when, from the folder the process ran in. */
struct nc_process_exit {
    bool exited;    /* it ended by itself since it was last started */
    int code;
    int64_t at_ms;  /* wall clock, milliseconds since the epoch */
};

void nc_process_exit_read(const char *dir, struct nc_process_exit *ret);
/* Forgets the exit, so that a new definition or start runs again. */
void nc_process_exit_forget(const char *dir);

/* The exit code of a process whose init was killed (virsh destroy, the
 * OOM killer) before it could write one: 128 + SIGKILL, as a shell and
 * Kubernetes report it. */
#define NC_PROCESS_KILLED 137

/* Records an exit with @code now, for a process that ended without
 * writing one. 0, or a negative errno. */
int nc_process_exit_write(const char *dir, int code) __attribute__((warn_unused_result));

/* Whether an exit with @code is restarted under @policy. */
bool nc_process_restarts(enum nc_restart_policy policy, int code);

/* The wall clock in milliseconds since the epoch, as file times have it. */
int64_t nc_process_wall_ms(void);

/* The wait before restart @n (0 for the first): 1 s, 2 s, 4 s... 5 min. */
int64_t nc_process_backoff_ms(unsigned n);

#endif
