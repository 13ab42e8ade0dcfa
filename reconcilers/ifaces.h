/*
 * A VM's interfaces on its Networks: the MAC and IP each one holds under
 * alloc/ (schema/README.md §1), stable across restarts and updates and given back
 * when the VM or the interface goes away; the tap each one is in the domain;
 * and the interfaces[] of the VM's status.
 *
 * The status is the memory: before a first allocation the VM's status lists
 * the interface (name and network) without its MAC and IP, so that a crash
 * between the allocation and the next status write leaves a trace, and
 * whatever such an entry may hold is found by its value when the interface
 * is gone.
 */
#ifndef NC_IFACES_H
#define NC_IFACES_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "drivers/domxml.h"
#include "reconcilers/run.h"
#include "schema/vm.h"

/* One spec interface as this reconcile works it out. */
struct nc_iface {
    /* The Network's: its bridge and the owner mark the bridge must carry,
     * its CIDR and MTU, from its name and spec (never its status). */
    char bridge[16], bridge_alias[160];
    uint32_t network; /* host byte order */
    unsigned prefix;
    /* Held; before nc_ifaces_hold(), what the last status says. */
    char ip[16];
    bool listed;      /* the last status lists it: an allocation may be in flight */
    struct nc_nic_src nic; /* MAC, tap and MTU for the domain */
};

/* Fills @ifc's bridge, its owner mark, CIDR and MTU from Network @ns/@network:
 * its spec, read from the informer, and the device names its reconciler
 * gives it. false when the spec is missing or invalid. */
bool nc_iface_from_network(struct nc_iface *ifc, struct nc_env *env, const char *ns,
                           const char *network);

/* Interface @si's bandwidth limits, to the guest (@in) and from it
 * (@out), in bytes a second (0: none), and the burst in bytes. */
void nc_iface_bandwidth(const struct nc_vm_iface *si, uint64_t *in, uint64_t *out,
                        uint32_t *burst);

/*
 * Holds the guest of interface @i (held in @ifs) to its MAC and IP, or
 * lets it send anything (spec.interfaces[].portSecurity false), and to
 * its bandwidth limits, in the node's port table; done before its tap
 * joins the bridge. 0, or a negative errno with @msg naming the field.
 */
int nc_iface_port_set(struct nc_run *run, const struct nc_vm_spec *spec, const struct nc_iface *ifs,
                      unsigned i, char *msg, size_t msgsz) __attribute__((warn_unused_result));

/* Fills the tap name and what the last status @old_status says of each of
 * @spec's interfaces. */
void nc_ifaces_begin(struct nc_run *run, const struct nc_vm_spec *spec, const cJSON *old_status,
                     struct nc_iface *ifs);

/* True when the last status lists every interface of @spec (so holding
 * their addresses leaves a trace). */
bool nc_ifaces_listed(const struct nc_vm_spec *spec, const struct nc_iface *ifs);

/*
 * Holds a MAC and an IP for every interface of @spec: the spec's own when
 * given, else the ones held before, else new ones. 0; 1 with @msg naming
 * the field when the spec asks for one another holds or that the network
 * cannot have; or a negative errno.
 */
int nc_ifaces_hold(struct nc_run *run, const struct nc_vm_spec *spec, struct nc_iface *ifs,
                   char *msg, size_t msgsz) __attribute__((warn_unused_result));

/* Gives back what the entries of @old (a status' interfaces[]) hold and
 * @spec's interfaces (held in @ifs) do not; @spec NULL: everything. */
int nc_ifaces_release(struct nc_run *run, const cJSON *old, const struct nc_vm_spec *spec,
                      const struct nc_iface *ifs) __attribute__((warn_unused_result));

/* The status' interfaces[]: name, network, and the MAC, IP and device
 * when held. */
cJSON *nc_ifaces_status(const struct nc_vm_spec *spec, const struct nc_iface *ifs);

/* The owner mark of interface @i's tap. */
void nc_iface_alias(struct nc_run *run, const struct nc_vm_spec *spec, unsigned i, char *out,
                    size_t outsz);

#endif
