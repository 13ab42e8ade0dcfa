/*
 * What of spec.resources changes live: the memory balloon, each disk's
 * limits, the CPU shares, quota and pinning. Each is in the definition
 * and, while the domain runs, set live with no restart; the status keeps
 * a record of what was set last (memoryBalloon, diskLimits, cpuTune), so
 * each change is set once, whatever the guest does with it.
 */
#include "reconcilers/tuning.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "schema/quantity.h"

/* One application: the domain, what it is to have, and the records. */
struct tuning_run {
    struct nc_run *o;
    const char *domname;
    const struct nc_vm_spec *spec;
    const unsigned *pins;
    struct nc_tuning *t;
};

/*
 * spec.resources.memoryBalloon: the memory the guest is given now, set in
 * the definition and, while it runs, live (virDomainSetMemoryFlags), with
 * no restart; the status' memoryBalloon says what was set last, so it is
 * set once per change, whatever the guest's balloon driver does with it.
 */
static int
apply_balloon(struct tuning_run *run)
{
    struct nc_env *env = run->o->ctx->env;
    const cJSON *old = cJSON_GetObjectItem(run->o->old_status, "memoryBalloon");
    uint64_t want = run->spec->memory_balloon ? run->spec->memory_balloon : run->spec->memory;
    uint64_t had = cJSON_IsNumber(old) ? (uint64_t)old->valuedouble : run->spec->memory;
    char a[32], b[32];
    int r;

    if (want == had)
        return 0;
    if ((r = nc_hv_set_memory(env->hv, run->domname, want >> 10)) < 0)
        return r == -ENOTSUP ? 0 : r;
    if (!(run->t->balloon = cJSON_CreateNumber((double)want)))
        return -ENOMEM;
    nc_run_event(run->o, "Normal", "Ballooned", "the guest is given %s of its %s, live",
                 nc_quantity_format(want, a, sizeof(a)),
                 nc_quantity_format(run->spec->memory, b, sizeof(b)));
    return 0;
}

/*
 * spec.resources.disks[]: each disk's limits (iops, bps), set in the
 * definition and, while the domain runs, live (virDomainSetBlockIoTune),
 * with no restart. The status' diskLimits says what was set last, by disk
 * name, so each change is set once.
 */
static int
apply_disk_limits(struct tuning_run *run)
{
    struct nc_env *env = run->o->ctx->env;
    const cJSON *old = cJSON_GetObjectItem(run->o->old_status, "diskLimits");
    cJSON *now = cJSON_CreateObject();
    bool changed = false;
    int r = 0;

    if (!now)
        return -ENOMEM;
    for (unsigned i = 0; i < run->spec->n_disks && r == 0; i++) {
        const struct nc_vm_disk *d = &run->spec->disks[i];
        const cJSON *had = cJSON_GetObjectItem(old, d->name);
        uint64_t iops = (uint64_t)nc_json_i64(cJSON_GetObjectItem(had, "iops"));
        uint64_t bps = (uint64_t)nc_json_i64(cJSON_GetObjectItem(had, "bps"));
        char dev[8];

        if (d->iops || d->bps) {
            cJSON *e = cJSON_AddObjectToObject(now, d->name);

            cJSON_AddNumberToObject(e, "iops", (double)d->iops);
            cJSON_AddNumberToObject(e, "bps", (double)d->bps);
        }
        if (d->iops == iops && d->bps == bps)
            continue;
        nc_disk_target(i, dev);
        if ((r = nc_hv_set_iotune(env->hv, run->domname, dev, d->iops, d->bps)) == 0) {
            changed = true;
            nc_run_event(run->o, "Normal", "DiskLimitsSet",
                         "disk %s: %" PRIu64 " IO/s, %" PRIu64 " bytes/s (0: no limit), live",
                         d->name, d->iops, d->bps);
        }
    }
    if (changed && r == 0) {
        run->t->disk_limits = now;
        return 0;
    }
    cJSON_Delete(now);
    return r == -ENOTSUP ? 0 : r;
}

/*
 * spec.resources.cpuShares, cpuQuota and pinning: the domain's <cputune>,
 * set in the definition and, while it runs, live (scheduler parameters,
 * virDomainPinVcpuFlags), with no restart. The status' cpuTune says what
 * was set last, so each change is set once.
 */
static int
apply_cputune(struct tuning_run *run)
{
    struct nc_env *env = run->o->ctx->env;
    const cJSON *old = cJSON_GetObjectItem(run->o->old_status, "cpuTune");
    const char *old_pin = cJSON_GetStringValue(cJSON_GetObjectItem(old, "pinning"));
    unsigned shares = run->spec->cpu_shares, quota = run->spec->cpu_quota;
    char pin[512];
    cJSON *now;
    int r = 0;

    if (!env->hv->caps.cpu_tune)
        return 0; /* the definition has them; nothing runs them */
    nc_cpuset_format(&run->spec->pinning, pin, sizeof(pin));
    if (nc_json_i64(cJSON_GetObjectItem(old, "shares")) == shares &&
        nc_json_i64(cJSON_GetObjectItem(old, "quota")) == quota &&
        strcmp(old_pin ? old_pin : "", pin) == 0)
        return 0;
    if (!old && !shares && !quota && !pin[0])
        return 0;
    if ((r = nc_hv_set_cputune(env->hv, run->domname, shares, NC_CPU_QUOTA_PERIOD, quota)) < 0)
        return r == -ENOTSUP ? 0 : r;
    for (unsigned i = 0; i < run->spec->vcpus && r == 0; i++)
        r = nc_hv_pin_vcpu(env->hv, run->domname, i,
                           i < run->spec->n_pinned ? (int)run->pins[i] : -1);
    if (r < 0)
        return r == -ENOTSUP ? 0 : r;
    if (!(now = run->t->cputune = cJSON_CreateObject()))
        return -ENOMEM;
    cJSON_AddNumberToObject(now, "shares", shares);
    cJSON_AddNumberToObject(now, "quota", quota);
    cJSON_AddStringToObject(now, "pinning", pin);
    nc_run_event(run->o, "Normal", "CPUTuneSet",
                 "CPU shares %u, quota %u us per %u us per vCPU (0: none), pinning \"%s\", live",
                 shares, quota, NC_CPU_QUOTA_PERIOD, pin);
    return 0;
}

int
nc_tuning_apply(struct nc_run *o, const char *domname, const struct nc_vm_spec *spec,
                const unsigned *pins, struct nc_tuning *t)
{
    struct tuning_run run = {o, domname, spec, pins, t};
    int r;

    if ((r = apply_balloon(&run)) < 0 || (r = apply_disk_limits(&run)) < 0)
        return r;
    return apply_cputune(&run);
}

void
nc_tuning_clear(struct nc_tuning *t)
{
    cJSON_Delete(t->balloon);
    cJSON_Delete(t->disk_limits);
    cJSON_Delete(t->cputune);
    memset(t, 0, sizeof(*t));
}
