/*
 * What of a VM's spec.resources changes live, with no restart: the memory
 * balloon (memoryBalloon), each disk's limits (disks[]) and the CPU
 * shares, quota and pinning. Each change is set once (events Ballooned,
 * DiskLimitsSet, CPUTuneSet) and recorded for the VM's status.
 */
#ifndef NC_RECONCILER_TUNING_H
#define NC_RECONCILER_TUNING_H

#include <cjson/cJSON.h>

#include "reconcilers/run.h"
#include "schema/vm.h"

/* The status records an application set: memoryBalloon (bytes),
 * diskLimits ({disk: {iops, bps}}), cpuTune ({shares, quota, pinning});
 * NULL for those it left as the last status says. */
struct nc_tuning {
    cJSON *balloon, *disk_limits, *cputune;
};

/*
 * Sets on domain @domname what of @spec's resources differs from what
 * @o's last status records: live when it runs, in its definition either
 * way. @pins[i] is vCPU i's host CPU (spec->n_pinned of them). What the
 * hypervisor cannot change (libvirt's test driver) is left to the
 * definition. Fills @t (clear it with nc_tuning_clear()); 0 or a negative
 * errno with the reason in nc_drv_errmsg().
 */
int nc_tuning_apply(struct nc_run *o, const char *domname, const struct nc_vm_spec *spec,
                    const unsigned *pins, struct nc_tuning *t) __attribute__((warn_unused_result));
void nc_tuning_clear(struct nc_tuning *t);

#endif
