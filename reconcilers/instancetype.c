/*
 * The InstanceType reconciler and reader: see instancetype.h. An
 * InstanceType creates nothing: its status says whether it is valid and
 * what it gives, and every change of it queues the VMs of its namespace
 * that name it, whose reconciler decides what the change means for them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reconcilers/instancetype.h"
#include "reconcilers/run.h"
#include "reconcilers/status.h"
#include "schema/instancetype.h"
#include "schema/quantity.h"

int
nc_instancetype_apply(struct nc_env *env, const char *ns, struct nc_vm_spec *spec,
                      int64_t *ret_revision, char *why, size_t whysz)
{
    struct nc_instancetype_spec it;
    struct nc_verr *errs;
    char *value = NULL, size[32];
    int64_t rev = 0;
    int r;

    why[0] = '\0';
    if (!spec->instancetype[0])
        return 0;
    r = nc_informer_getf(env->specs, &value, &rev, "%sspec/%s/instancetype/%s", env->prefix, ns,
                         spec->instancetype);
    if (r == -ENOENT) {
        snprintf(why, whysz, "spec.instancetype: no InstanceType \"%s\" in namespace %s",
                 spec->instancetype, ns);
        return r;
    }
    if (r < 0) {
        free(value);
        snprintf(why, whysz, "spec.instancetype: out of memory");
        return r;
    }
    if (!(errs = nc_verr_new()) ||
        nc_instancetype_spec_parse(value, ns, spec->instancetype, &it, errs) < 0) {
        nc_verr_free(errs);
        free(value);
        snprintf(why, whysz, "spec.instancetype: InstanceType \"%s\" is invalid (see its status)",
                 spec->instancetype);
        return -EINVAL;
    }
    nc_verr_free(errs);
    free(value);
    /* As KubeVirt does: what the instance type gives, the VM may not say. */
    if (spec->vcpus) {
        snprintf(why, whysz,
                 "spec.vcpus: conflicts with InstanceType \"%s\", which gives spec.vcpus (%u); "
                 "leave it out, or the instancetype",
                 spec->instancetype, it.vcpus);
        return -EINVAL;
    }
    if (spec->memory) {
        snprintf(why, whysz,
                 "spec.memory: conflicts with InstanceType \"%s\", which gives spec.memory (%s); "
                 "leave it out, or the instancetype",
                 spec->instancetype, nc_quantity_format(it.memory, size, sizeof(size)));
        return -EINVAL;
    }
    spec->vcpus = it.vcpus;
    spec->memory = it.memory;
    if (ret_revision)
        *ret_revision = rev;
    return 0;
}

struct users {
    struct nc_run *run;
    size_t skip; /* length of "<prefix>spec/<ns>/vm/" */
};

static void
on_vm_key(void *data, const char *key)
{
    struct users *u = data;
    const char *name = key + u->skip;
    char *value = NULL;
    cJSON *doc = NULL;
    const char *it;

    if (nc_informer_get(u->run->ctx->env->specs, key, &value, &(int64_t){0}) == 0)
        doc = cJSON_Parse(value);
    it = cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "spec"), "instancetype"));
    if (it && strcmp(it, u->run->name) == 0 && nc_is_dns_label(name))
        nc_run_enqueue(u->run, "vm", name);
    cJSON_Delete(doc);
    free(value);
}

/* The VMs naming this InstanceType look again. */
static void
enqueue_users(struct nc_run *run)
{
    struct nc_env *env = run->ctx->env;
    struct users u = {.run = run};
    char prefix[256];

    u.skip = (size_t)snprintf(prefix, sizeof(prefix), "%sspec/%s/vm/", env->prefix, run->ns);
    nc_informer_foreach_prefix(env->specs, prefix, on_vm_key, &u);
}

static int
reconcile(struct nc_ctx *ctx, const char *ns, const char *name, int64_t *ret_requeue_ms)
{
    struct nc_instancetype_spec it;
    struct nc_run run;
    struct nc_verr *errs = NULL;
    char *value = NULL, msg[160], size[32];
    cJSON *s;
    int r;

    *ret_requeue_ms = 0;
    if ((r = nc_run_begin(&run, ctx, ns, "instancetype", name)) < 0)
        goto out;
    enqueue_users(&run);
    r = nc_run_spec(&run, &value);
    if (r == -ENOENT) {
        r = run.old_status ? nc_run_delete_status(&run) : 0;
        goto out;
    }
    if (r < 0 || !(errs = nc_verr_new())) {
        r = r < 0 ? r : -ENOMEM;
        goto out;
    }
    if (nc_instancetype_spec_parse(value, ns, name, &it, errs) < 0) {
        r = nc_run_report_invalid(
            &run, nc_status_new(run.old_status, run.generation, "Failed", run.now), errs);
        goto out;
    }
    if (!(s = nc_status_new(run.old_status, run.generation, "Ready", run.now))) {
        r = -ENOMEM;
        goto out;
    }
    cJSON_AddNumberToObject(s, "vcpus", it.vcpus);
    cJSON_AddStringToObject(s, "memory", nc_quantity_format(it.memory, size, sizeof(size)));
    snprintf(msg, sizeof(msg), "gives %u vCPU and %s", it.vcpus, size);
    nc_status_condition(s, run.old_status, "Ready", true, "Valid", msg, run.generation, run.now);
    r = nc_run_report(&run, s);
    cJSON_Delete(s);
out:
    if (r == -ESTALE)
        r = 0;
    nc_verr_free(errs);
    free(value);
    nc_run_end(&run);
    return r;
}

const struct nc_reconciler nc_instancetype_reconciler = {
    .kind = "instancetype",
    .reconcile = reconcile,
};
