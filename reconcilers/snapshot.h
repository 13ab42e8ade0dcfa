/* The Snapshot reconciler: snapshots of a VM's disks (and memory) taken on
 * its node, specs under spec/<ns>/snapshot/. */
#ifndef NC_RECONCILER_SNAPSHOT_H
#define NC_RECONCILER_SNAPSHOT_H

#include "reconcilers/reconciler.h"

extern const struct nc_reconciler nc_snapshot_reconciler;

/* How many Snapshot specs of @ns name VM @vm and were taken (or are being
 * taken); their names into @names as "a, b". A VM is not deleted under
 * them. */
int nc_snapshots_of_vm(struct nc_env *env, const char *ns, const char *vm, char *names,
                       size_t size);

/* The same for Volume @volume: the taken Snapshots whose disks hold it. A
 * Volume is not deleted under them either. */
int nc_snapshots_of_volume(struct nc_env *env, const char *ns, const char *volume, char *names,
                           size_t size);

/* Deletes every snapshot of domain @domname that carries the owner mark of
 * a Snapshot of @ns (whose specs are gone by then): a domain going away
 * takes its snapshots out of the images first. 0 or a negative errno. */
int nc_snapshots_drop(struct nc_env *env, const char *ns, const char *domname);

#endif
