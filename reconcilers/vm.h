/* The VirtualMachine reconciler: specs under spec/<ns>/vm/ to libvirt domains. */
#ifndef NC_RECONCILER_VM_H
#define NC_RECONCILER_VM_H

#include "reconcilers/reconciler.h"

/* The reconciler's memory between calls (graceful-stop deadlines). */
struct nc_vm_state *nc_vm_state_new(void);
struct nc_vm_state *nc_vm_state_free(struct nc_vm_state *s);

int nc_vm_reconcile(struct nc_ctx *ctx, const char *ns, const char *name,
                    int64_t *ret_requeue_ms) __attribute__((warn_unused_result));

/*
 * Calls @fn with the key ("NS/vm/NAME") of every domain that carries this
 * installation's owner mark, so start-up and resync reconcile the union of
 * desired and actual. Returns 0 or a negative errno.
 */
int nc_vm_list_actual(struct nc_env *env, void (*fn)(void *data, const char *key), void *data)
    __attribute__((warn_unused_result));

#endif
