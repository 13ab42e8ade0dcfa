/*
 * The migrations in flight, by VM: what every node must know while a VM
 * moves (schema/README.md, "Migration"). Built from the Migration
 * statuses as the informer brings them (nc_moves_note()), read by the VM
 * reconciler (a moving VM is the migration's, not its own), the Network
 * reconciler (a VM's Networks are realised on its target first) and the
 * scheduler (a moving VM holds room on both nodes). Thread-safe.
 */
#ifndef NC_MOVES_H
#define NC_MOVES_H

#include <stdbool.h>
#include <stdint.h>

#include "schema/validate.h"

struct nc_moves;

/* A migration in flight: phase Scheduling (the target is chosen and made
 * ready) or Running (the hypervisor moves the guest). */
struct nc_move {
    char migration[NC_NAME_MAX + 1];
    char vm[NC_NAME_MAX + 1];
    char source[254], target[254];
    bool running;
};

struct nc_moves *nc_moves_new(void);
void nc_moves_free(struct nc_moves *m);

/* Migration @name of @ns now has status @json (NULL: none), written at
 * store revision @rev. */
void nc_moves_note(struct nc_moves *m, const char *ns, const char *name, const char *json,
                   int64_t rev);

/* The migration in flight of VM @vm of @ns into @ret; false when none. */
bool nc_moves_of_vm(struct nc_moves *m, const char *ns, const char *vm, struct nc_move *ret);

/*
 * Where VM @vm of @ns went in a migration that Succeeded and the revision
 * that moved its placement: a placement cache that is older has not heard
 * of the move yet (its watch is not the statuses' one). False when none.
 */
bool nc_moves_landed(struct nc_moves *m, const char *ns, const char *vm, char node[254],
                     int64_t *ret_rev);

/* Calls @fn for every migration in flight (under the lock: @fn must not
 * call back into @m). */
void nc_moves_foreach(struct nc_moves *m,
                      void (*fn)(void *data, const char *ns, const struct nc_move *mv),
                      void *data);

#endif
