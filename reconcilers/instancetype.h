/*
 * InstanceTypes: named sizes under spec/<ns>/instancetype/ that a VM's
 * spec.instancetype takes its vcpus and memory from. Their reconciler
 * checks each one (Ready or Failed) and queues the VMs that use it when it
 * changes; nc_instancetype_apply() is how a VM's reconciler and the
 * scheduler read one.
 */
#ifndef NC_RECONCILER_INSTANCETYPE_H
#define NC_RECONCILER_INSTANCETYPE_H

#include <stddef.h>
#include <stdint.h>

#include "reconcilers/reconciler.h"
#include "schema/vm.h"

extern const struct nc_reconciler nc_instancetype_reconciler;

/*
 * Fills @spec's vcpus and memory from its InstanceType (spec.instancetype
 * of namespace @ns), as the specs cache has it, and sets *@ret_revision
 * (may be NULL) to the InstanceType's. 0; -ENOENT when there is none,
 * -EINVAL when it is invalid or the VM's spec sets what it sets too, with
 * the reason in @why naming the fields. A spec without one is left alone.
 */
int nc_instancetype_apply(struct nc_env *env, const char *ns, struct nc_vm_spec *spec,
                          int64_t *ret_revision, char *why, size_t whysz);

#endif
