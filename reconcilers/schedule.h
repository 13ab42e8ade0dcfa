/*
 * A VM's snapshot schedule (spec.snapshotSchedule): Snapshot documents
 * named <vm>-YYYYMMDD-hhmmss, written by the VM's reconciler on the VM's
 * node, one per period of `every` seconds counted from the Unix epoch in
 * UTC (the first at once), the oldest beyond `keep` deleted. They are
 * ordinary Snapshots, labelled novacron.io/scheduled-by: <vm>, owned by
 * the VM: deleting the VM deletes them.
 *
 * No period is taken twice or skipped across restarts: the document and
 * the VM status' record of the period it is for (snapshotSchedule
 * .lastScheduleTime) are written in one transaction, which also requires
 * the document's key to be absent. A period missed entirely while the
 * node was down is not made up for; the current one is taken.
 */
#ifndef NC_RECONCILER_SCHEDULE_H
#define NC_RECONCILER_SCHEDULE_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "core/etcd.h"
#include "reconcilers/run.h"
#include "schema/vm.h"

#define NC_SCHEDULED_BY "novacron.io/scheduled-by"

struct nc_schedule {
    char name[NC_NAME_MAX + 1]; /* the Snapshot this run writes, "" for none */
    char *key, *doc;
    struct nc_op op;
    struct nc_cmp cmp;
};

/*
 * Adds the schedule's record to @status (a new status of VM @run, built
 * from the last one) and, when a period began that has no snapshot yet,
 * has @run's next status write also write its Snapshot (run->extra). With
 * no schedule in @spec, the record goes. *ret_requeue_ms is lowered to
 * the start of the next period. 0 or -ENOMEM.
 */
int nc_schedule_due(struct nc_run *run, const struct nc_vm_spec *spec, cJSON *status,
                    struct nc_schedule *sch, int64_t *ret_requeue_ms)
    __attribute__((warn_unused_result));

/* After the status write: deletes the scheduled Snapshots of @run's VM
 * beyond spec.snapshotSchedule.keep, oldest first, and frees @sch. */
int nc_schedule_prune(struct nc_run *run, const struct nc_vm_spec *spec, struct nc_schedule *sch);

/* Frees what nc_schedule_due() filled in. */
void nc_schedule_clear(struct nc_schedule *sch);

/* The VM is deleted: the Snapshots its schedule wrote are deleted too. */
int nc_schedule_drop(struct nc_run *run);

#endif
