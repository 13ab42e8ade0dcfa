/*
 * A VM's cloud-init NoCloud seed (spec.cloudInit): what its files say and
 * where its image is. A seed is named by its content,
 * <seed dir>/<domain>/<hash>.iso, so a changed seed is a changed domain
 * definition (the domain restarts to take it, as for vcpus), a kill -9
 * at any point leaves complete images only, and the ones no definition
 * names any more are removed once the new one is in place.
 *
 * The files: user-data as given (empty when not), meta-data with
 * instance-id (the VM's uid: the etcd cluster id and its spec key's create
 * revision, so a VM deleted and made again is a new instance, and one
 * that moves or restarts is not) and local-hostname (its name) before the
 * spec's entries, and network-config as given or, when not, version 2
 * matching each interface's MAC to its IP.
 */
#ifndef NC_RECONCILER_CLOUDINIT_H
#define NC_RECONCILER_CLOUDINIT_H

#include <stddef.h>

#include "reconcilers/ifaces.h"
#include "reconcilers/run.h"
#include "schema/vm.h"

#define NC_INSTANCE_ID_MAX 48

/*
 * The seed of @spec for domain @domname, whose interfaces @ifs hold their
 * addresses: its path into @ret_path (@pathsz bytes), made when missing,
 * and the instance-id it gives into @ret_instance_id. 0 (@ret_path ""
 * when the spec has no cloudInit), or a negative errno with the reason in
 * nc_drv_errmsg().
 */
int nc_cloudinit_seed(struct nc_run *run, const struct nc_vm_spec *spec,
                      const struct nc_iface *ifs, const char *domname, char *ret_path,
                      size_t pathsz, char ret_instance_id[NC_INSTANCE_ID_MAX])
    __attribute__((warn_unused_result));

/* Removes the seeds of @domname other than @keep (NULL or "": all of
 * them, and their folder). 0, or a negative errno with the reason in
 * nc_drv_errmsg(). */
int nc_cloudinit_prune(const struct nc_env *env, const char *domname, const char *keep)
    __attribute__((warn_unused_result));

#endif
