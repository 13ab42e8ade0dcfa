/*
 * The container runtime: OCI images run by Podman, spoken to through its
 * REST API (libpod endpoints) on its unix socket, behind the runtime table
 * of drivers/runtime.h.
 */
#ifndef NC_DRIVER_PODMAN_H
#define NC_DRIVER_PODMAN_H

#include "drivers/runtime.h"

/* The labels a container of ours carries: the owner mark, field by field,
 * and its interfaces ("mac,tap,ip/prefix,mtu" joined by ';'), which each
 * start puts into its network namespace again. */
#define NC_PODMAN_LABEL "novacron.io/"

/*
 * Connects to the Podman service listening on unix socket @socket and
 * checks that it answers. Returns 0 and sets *ret_hv, or a negative errno
 * with the reason in nc_drv_errmsg().
 */
int nc_hv_podman_open(const char *socket, struct nc_hv **ret_hv)
    __attribute__((warn_unused_result));

#endif
