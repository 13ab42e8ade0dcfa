/* The Volume reconciler: specs under spec/<ns>/volume/ to libvirt storage
 * volumes (drivers/storage.h). */
#ifndef NC_RECONCILER_VOLUME_H
#define NC_RECONCILER_VOLUME_H

#include "reconcilers/reconciler.h"

int nc_volume_reconcile(struct nc_ctx *ctx, const char *ns, const char *name,
                        int64_t *ret_requeue_ms) __attribute__((warn_unused_result));

/* Calls @fn with the key ("NS/volume/NAME") of every volume named as this
 * installation's, in every active pool. 0 or a negative errno. */
int nc_volume_list_actual(struct nc_env *env, void (*fn)(void *data, const char *key),
                          void *data) __attribute__((warn_unused_result));

#endif
