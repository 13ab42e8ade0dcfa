#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "core/clock.h"
#include "reconcilers/stop.h"
#include "schema/vm.h"

#define LOOK_MS 200

int
nc_stop_guest(struct nc_hv *hv, const char *domname, int grace_s,
              bool (*keep_going)(void *data), void *data, bool *ret_forced)
{
    int64_t deadline = nc_now_ms() + (int64_t)grace_s * 1000;
    struct nc_dominfo info;
    int r;

    *ret_forced = false;
    while ((r = nc_hv_lookup(hv, domname, &info)) == 0 && info.state != NC_DOM_SHUTOFF) {
        if (nc_now_ms() >= deadline || info.state == NC_DOM_PAUSED) {
            /* It may have gone off by itself in between. */
            r = nc_hv_destroy(hv, domname);
            if (r < 0 && nc_hv_lookup(hv, domname, &info) == 0 && info.state == NC_DOM_SHUTOFF)
                return 0;
            *ret_forced = r == 0;
            break;
        }
        if (info.state != NC_DOM_SHUTTING_DOWN && (r = nc_hv_shutdown(hv, domname)) < 0)
            break;
        if (keep_going && !keep_going(data))
            return -ECANCELED;
        nanosleep(&(struct timespec){0, LOOK_MS * 1000000L}, NULL);
    }
    return r == -ENOENT ? 0 : r;
}

int
nc_stop_grace(struct nc_env *env, const char *ns, const char *vm)
{
    struct nc_verr *errs = nc_verr_new();
    struct nc_vm_spec spec;
    char *value = NULL;
    int grace = 30;

    if (errs &&
        nc_informer_getf(env->specs, &value, NULL, "%sspec/%s/vm/%s", env->prefix, ns, vm) ==
            0 &&
        nc_vm_spec_parse(value, ns, vm, &spec, errs) == 0) {
        grace = spec.stop_grace_seconds;
        nc_vm_spec_clear(&spec);
    }
    free(value);
    nc_verr_free(errs);
    return grace;
}
