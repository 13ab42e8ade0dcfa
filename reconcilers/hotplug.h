/*
 * Hot-plug: a running domain whose new definition differs from the one it
 * runs in its disks and interfaces alone gets the new ones attached and
 * the ones gone detached (events DiskAttached, DiskDetached,
 * InterfaceAttached, InterfaceDetached), and is then marked as of the new
 * definition, with no restart.
 */
#ifndef NC_RECONCILER_HOTPLUG_H
#define NC_RECONCILER_HOTPLUG_H

#include <stddef.h>

#include "core/names.h"
#include "drivers/domxml.h"
#include "reconcilers/run.h"
#include "schema/vm.h"

/*
 * Brings running domain @domname to @spec's disks (files @disks, targets
 * vda, vdb... in order) and interfaces (@nics, found by MAC), then sets
 * its live owner mark to @owner. 0; or a negative errno with @why saying
 * why (a disk would change its file under the guest, the guest did not
 * let go of a device, libvirt refused), and the caller restarts instead.
 */
int nc_hotplug(struct nc_run *o, const char *domname, const struct nc_vm_spec *spec,
               const struct nc_disk_src *disks, const struct nc_nic_src *nics,
               const struct nc_owner *owner, char *why, size_t whysz)
    __attribute__((warn_unused_result));

#endif
