#include <stddef.h>
#include <string.h>

#include "reconcilers/instancetype.h"
#include "reconcilers/migration.h"
#include "reconcilers/network.h"
#include "reconcilers/networkpolicy.h"
#include "reconcilers/reconciler.h"
#include "reconcilers/restore.h"
#include "reconcilers/snapshot.h"
#include "reconcilers/vm.h"
#include "reconcilers/volume.h"

const struct nc_reconciler *const nc_reconcilers[] = {
    &nc_vm_reconciler,
    &nc_volume_reconciler,
    &nc_network_reconciler,
    &nc_migration_reconciler,
    &nc_snapshot_reconciler,
    &nc_restore_reconciler,
    &nc_instancetype_reconciler,
    &nc_networkpolicy_reconciler,
    NULL,
};

const struct nc_reconciler *
nc_reconciler_for(const char *kind)
{
    for (size_t i = 0; nc_reconcilers[i]; i++)
        if (strcmp(nc_reconcilers[i]->kind, kind) == 0)
            return nc_reconcilers[i];
    return NULL;
}
