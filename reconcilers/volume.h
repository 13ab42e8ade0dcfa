/* The Volume reconciler: specs under spec/<ns>/volume/ to libvirt storage
 * volumes (drivers/storage.h). */
#ifndef NC_RECONCILER_VOLUME_H
#define NC_RECONCILER_VOLUME_H

#include <stdbool.h>
#include <stddef.h>

#include "drivers/storage.h"
#include "reconcilers/reconciler.h"
#include "schema/validate.h"

/* Its row of nc_reconcilers[]. */
extern const struct nc_reconciler nc_volume_reconciler;

/*
 * What libvirt says of Volume @ns/@name's volume: the one of our name in
 * the pool its spec names, never what its status says. Fills @ret_pool
 * and @ret and returns 0; -ENOENT when the spec is missing or invalid or
 * the pool holds no such volume; or a negative errno.
 */
int nc_volume_actual(struct nc_env *env, const char *ns, const char *name,
                     char ret_pool[NC_NAME_MAX + 1], struct nc_volinfo *ret)
    __attribute__((warn_unused_result));

/* The node Volume @ns/@name was made on, as its status says (a node and a
 * path), into @node; false when it was made nowhere yet. */
bool nc_volume_made_on(struct nc_env *env, const char *ns, const char *name, char *node,
                       size_t nodesz);

/* True when this node's registration calls storage pool @pool shared
 * (--shared-pool): the same volumes on every node. */
bool nc_pool_shared_here(struct nc_env *env, const char *pool);

#endif
