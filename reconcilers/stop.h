/* A guest stopped the way a person would: the power button, then, after
 * the VM's grace period, forced off. What moves or restores a VM's disks
 * does this first, so that nothing writes to them meanwhile. */
#ifndef NC_RECONCILER_STOP_H
#define NC_RECONCILER_STOP_H

#include <stdbool.h>

#include "reconcilers/reconciler.h"

struct nc_run;

/*
 * Stops the guest of domain @domname, VM @vm of @run: ACPI shutdown, and
 * once @grace_s passed, forced off, which a Warning event ForcedStop on
 * @run says. A paused guest cannot hear the power button: it is forced
 * off at once (and the event says it was paused). @keep_going (may be
 * NULL) is asked about every 200 ms; when it says false, waiting ends with
 * -ECANCELED and the guest as it is. 0 once it is off or there is no such
 * domain, or a negative errno with the reason in nc_drv_errmsg().
 */
int nc_stop_guest(struct nc_run *run, const char *domname, const char *vm, int grace_s,
                  bool (*keep_going)(void *data), void *data);

/* The spec.stopGracePeriodSeconds of VM @ns/@vm, or 30 when it has no
 * valid spec. */
int nc_stop_grace(struct nc_env *env, const char *ns, const char *vm);

#endif
