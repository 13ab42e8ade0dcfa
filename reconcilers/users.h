/*
 * Which VMs use a Volume or a Network: those whose spec lists it (disks[],
 * interfaces[]) and those whose status still does while they are torn down
 * and their spec is gone. Read from the informer caches; shared by the
 * reconcilers that must not delete what is in use, and that queue the VMs
 * waiting for what they make Ready.
 */
#ifndef NC_USERS_H
#define NC_USERS_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "reconcilers/reconciler.h"
#include "reconcilers/run.h"

enum nc_use {
    NC_USE_VOLUME,  /* disks[].volume */
    NC_USE_NETWORK, /* interfaces[].network */
};

/* True when @list, an array of objects such as a VM's disks[], has one
 * whose @member ("volume", "network") is @name. */
bool nc_lists(const cJSON *list, const char *member, const char *name);

/* Calls @fn once with the name of every VM of namespace @ns using @name. */
void nc_vm_users(struct nc_env *env, enum nc_use use, const char *ns, const char *name,
                 void (*fn)(void *data, const char *vm), void *data);

/* The same names as a sorted JSON array (so a status does not flap). */
cJSON *nc_vm_users_sorted(struct nc_env *env, enum nc_use use, const char *ns, const char *name);

/* Queues every VM using @run's object: they wait for it, or it for them. */
void nc_vm_users_enqueue(struct nc_run *run, enum nc_use use);

/* The node VM @vm of @ns is on: its placement, else its spec.node, else
 * the node its status names (while it is torn down). False when none. */
bool nc_vm_node(struct nc_env *env, const char *ns, const char *vm, char *where, size_t wheresz);

/* Whether a request of @kind ("snapshot", "restore") about VM @ns/@vm is
 * InProgress on this node (its status: phase, vm, node): the VM's
 * reconciler leaves the VM to it meanwhile (a guest paused while its
 * memory is saved is not one to resume). */
bool nc_vm_in_progress(struct nc_env *env, const char *ns, const char *kind, const char *vm);

/* Writes the names of @users (nc_vm_users_sorted()) into @buf as "a, b". */
void nc_users_join(const cJSON *users, char *buf, size_t n);

#endif
