/* The Restore reconciler: a VM's disks (and memory) brought back to one of
 * its Snapshots on their node, specs under spec/<ns>/restore/. */
#ifndef NC_RECONCILER_RESTORE_H
#define NC_RECONCILER_RESTORE_H

#include "reconcilers/reconciler.h"

extern const struct nc_reconciler nc_restore_reconciler;

#endif
