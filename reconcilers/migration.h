/* The Migration reconciler: the source and target nodes' part of moving
 * a VM, specs under spec/<ns>/migration/ (the leader's part is in
 * controller/leader.c). */
#ifndef NC_RECONCILER_MIGRATION_H
#define NC_RECONCILER_MIGRATION_H

#include "reconcilers/reconciler.h"

extern const struct nc_reconciler nc_migration_reconciler;

#endif
