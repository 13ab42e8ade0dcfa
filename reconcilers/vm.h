/* The VirtualMachine reconciler: specs under spec/<ns>/vm/ to libvirt domains. */
#ifndef NC_RECONCILER_VM_H
#define NC_RECONCILER_VM_H

#include "reconcilers/reconciler.h"

/* Its row of nc_reconcilers[]. Its state (nc_env.vm) is what it keeps
 * between calls: graceful-stop deadlines. */
extern const struct nc_reconciler nc_vm_reconciler;

/* A Restore switched VM @ns/@vm's domain off to bring its disks back: the
 * reconciler starts it again as a start, not as drift it corrects. */
void nc_vm_stopped_by_restore(struct nc_env *env, const char *ns, const char *vm);

#endif
