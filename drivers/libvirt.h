/*
 * The libvirt runtimes: QEMU guests (qemu:///system, or libvirt's test
 * driver) and processes in application containers of its LXC driver
 * (lxc:///system), behind the runtime table of drivers/runtime.h.
 */
#ifndef NC_DRIVER_LIBVIRT_H
#define NC_DRIVER_LIBVIRT_H

#include <stdbool.h>

#include "drivers/runtime.h"

/*
 * Connects to @uri. With @force_tcg, "auto" acceleration never picks KVM
 * (for hosts where /dev/kvm exists but guests hang). Returns 0 and sets
 * *ret_hv, or a negative errno.
 */
int nc_hv_libvirt_open(const char *uri, bool force_tcg, struct nc_hv **ret_hv)
    __attribute__((warn_unused_result));

#endif
