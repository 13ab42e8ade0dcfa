#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "core/clock.h"
#include "reconcilers/run.h"
#include "reconcilers/stop.h"
#include "schema/vm.h"

#define LOOK_MS 200

int
nc_stop_guest(struct nc_run *run, const char *domname, const char *vm, int grace_s,
              bool (*keep_going)(void *data), void *data)
{
    struct nc_hv *hv = run->ctx->env->hv;
    int64_t deadline = nc_now_ms() + (int64_t)grace_s * 1000;
    struct nc_dominfo info;
    int r;

    while ((r = nc_hv_lookup(hv, domname, &info)) == 0 && info.state != NC_DOM_SHUTOFF) {
        if (nc_now_ms() >= deadline || info.state == NC_DOM_PAUSED) {
            bool paused = info.state == NC_DOM_PAUSED;

            /* It may have gone off by itself in between. */
            r = nc_hv_destroy(hv, domname);
            if (r < 0 && nc_hv_lookup(hv, domname, &info) == 0 && info.state == NC_DOM_SHUTOFF)
                return 0;
            if (r == 0 && paused)
                nc_run_event(run, "Warning", "ForcedStop", "VM %s was paused: forced off", vm);
            else if (r == 0)
                nc_run_event(run, "Warning", "ForcedStop",
                             "VM %s did not stop within %d s: forced off", vm, grace_s);
            break;
        }
        if (info.state != NC_DOM_SHUTTING_DOWN && (r = nc_hv_shutdown(hv, domname)) < 0) {
            /* The power button of the last look may have done it already:
             * libvirt refuses to shut down a domain that is off. */
            int gone = nc_hv_lookup(hv, domname, &info);

            if (gone == -ENOENT || (gone == 0 && info.state == NC_DOM_SHUTOFF))
                r = 0;
            break;
        }
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
