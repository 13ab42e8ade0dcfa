/*
 * Status documents (schema/README.md §3): conditions whose lastTransitionTime
 * moves only on a transition, a comparison that says whether anything but
 * timestamps changed, and the guarded write.
 */
#ifndef NC_STATUS_H
#define NC_STATUS_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "core/clock.h"
#include "core/commit.h"
#include "core/etcd.h"


/*
 * Returns a new status with observedGeneration @generation, @phase, an
 * empty "conditions" array and firstObservedTime: when the controller first
 * reported on the object (kept from @old_status, may be NULL; else @now),
 * which novactl shows as its age. NULL on out of memory.
 */
cJSON *nc_status_new(const cJSON *old_status, int64_t generation, const char *phase,
                     const char *now);

/*
 * Appends condition @type to @status's "conditions" array. Its
 * lastTransitionTime is the one of the same condition in @old_status (may
 * be NULL) when its status did not change, @now otherwise.
 */
void nc_status_condition(cJSON *status, const cJSON *old_status, const char *type, bool ok,
                         const char *reason, const char *message, int64_t generation,
                         const char *now);

/* Returns condition @type of @status, or NULL. Borrowed. */
const cJSON *nc_status_find_condition(const cJSON *status, const char *type);

/* True when @status's condition @type has status "True". */
bool nc_status_condition_true(const cJSON *status, const char *type);

/* True when @new_status differs from @old_status (NULL: none) in anything
 * but the timestamps that nc_status_condition() carried over. */
bool nc_status_changed(const cJSON *old_status, const cJSON *new_status);

/*
 * Writes @status_text (NULL: deletes the status key; @status_key NULL:
 * leaves the status alone) together with the @extra ops, only if the spec
 * key still has @spec_revision (0: the spec key must be absent), the
 * @extra_cmp hold, and, when @status_revision is not negative, the status
 * key still has that one (0: absent): for a status more than one node
 * writes in turn. @ret_applied is false when the spec moved on, so the
 * caller's observation was stale and it must not retry with it;
 * @ret_revision gets the store revision after the transaction. It goes
 * through group commit @g (NULL: alone), from the calling thread's @c.
 */
int nc_status_write(struct nc_commit *g, struct nc_etcd *c, const char *spec_key,
                    int64_t spec_revision, const char *status_key, int64_t status_revision,
                    const char *status_text, const struct nc_op *extra, size_t n_extra,
                    const struct nc_cmp *extra_cmp, size_t n_extra_cmp, bool *ret_applied,
                    int64_t *ret_revision)
    __attribute__((warn_unused_result));

#endif
