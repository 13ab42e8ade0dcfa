/*
 * Hot-plug: the disks and interfaces of a running domain brought to what
 * its new definition has, without a restart.
 */
#include "reconcilers/hotplug.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/error.h"

/* One hot-plug: the domain and what it is to have. */
struct hp_run {
    struct nc_run *o;
    const char *domname;
    const struct nc_vm_spec *spec;
    const struct nc_disk_src *disks; /* spec->n_disks */
    const struct nc_nic_src *nics;   /* spec->n_ifaces */
};

/* The live disks match the spec's: each target holds its volume's file,
 * and there is no other. */
static bool
live_disks_match(const struct hp_run *run, const struct nc_live_devs *live)
{
    if (live->n_disks != run->spec->n_disks)
        return false;
    for (unsigned i = 0; i < live->n_disks; i++) {
        char dev[8];
        bool found = false;

        nc_disk_target(i, dev);
        for (unsigned j = 0; j < live->n_disks && !found; j++)
            found = strcmp(live->disks[j].target, dev) == 0 &&
                    strcmp(live->disks[j].path, run->disks[i].path) == 0;
        if (!found)
            return false;
    }
    return true;
}

/* The live interface with @mac, or NULL. */
static const struct nc_live_nic *
live_nic(const struct nc_live_devs *live, const char *mac)
{
    for (unsigned j = 0; j < live->n_nics; j++)
        if (strcmp(live->nics[j].mac, mac) == 0)
            return &live->nics[j];
    return NULL;
}

/* The live interfaces are the spec's: each MAC on its tap, no other. */
static bool
live_nics_match(const struct hp_run *run, const struct nc_live_devs *live)
{
    if (live->n_nics != run->spec->n_ifaces)
        return false;
    for (unsigned i = 0; i < run->spec->n_ifaces; i++) {
        const struct nc_live_nic *n = live_nic(live, run->nics[i].mac);

        if (!n || strcmp(n->tap, run->nics[i].tap) != 0)
            return false;
    }
    return true;
}

/* Attaches the disks of the spec the instance lacks, detaches the ones
 * it has beyond them. 0, or a negative errno with @why. */
static int
hotplug_disks(struct hp_run *run, const struct nc_live_devs *live, char *why, size_t whysz)
{
    struct nc_env *env = run->o->ctx->env;
    char *xml;
    int r;

    for (unsigned i = 0; i < run->spec->n_disks; i++) {
        char dev[8];
        unsigned j;

        nc_disk_target(i, dev);
        for (j = 0; j < live->n_disks && strcmp(live->disks[j].target, dev) != 0; j++)
            ;
        if (j < live->n_disks && strcmp(live->disks[j].path, run->disks[i].path) == 0)
            continue;
        if (j < live->n_disks) {
            snprintf(why, whysz, "disk %s would change its file under the guest", dev);
            return -ENOTSUP;
        }
        if ((r = nc_domxml_disk(&run->disks[i], i, &xml)) < 0)
            return r;
        r = nc_hv_hotplug(env->hv, run->domname, xml, true);
        free(xml);
        if (r < 0)
            return r;
        nc_run_event(run->o, "Normal", "DiskAttached", "disk %s (volume %s) attached as %s live",
                     run->spec->disks[i].name, run->spec->disks[i].volume, dev);
    }
    for (unsigned j = 0; j < live->n_disks; j++) {
        struct nc_disk_src src = {.format = "raw"};
        const char *t = live->disks[j].target;
        unsigned idx = (unsigned)(t[2] - 'a');

        if (strncmp(t, "vd", 2) == 0 && idx < run->spec->n_disks && !t[3])
            continue; /* wanted */
        if (strncmp(t, "vd", 2) != 0 || idx >= NC_VM_MAX_DISKS || t[3]) {
            snprintf(why, whysz, "disk %s is not one NovaCron attaches", t);
            return -ENOTSUP;
        }
        /* libvirt finds the disk to detach by its target. */
        snprintf(src.path, sizeof(src.path), "%s", live->disks[j].path);
        if ((r = nc_domxml_disk(&src, idx, &xml)) < 0)
            return r;
        r = nc_hv_hotplug(env->hv, run->domname, xml, false);
        free(xml);
        if (r < 0)
            return r;
        nc_run_event(run->o, "Normal", "DiskDetached", "disk %s detached live", t);
    }
    return 0;
}

/* The same for the interfaces, found by their MACs. */
static int
hotplug_nics(struct hp_run *run, const struct nc_live_devs *live, char *why, size_t whysz)
{
    struct nc_env *env = run->o->ctx->env;
    char *xml;
    int r;

    for (unsigned i = 0; i < run->spec->n_ifaces; i++) {
        const struct nc_live_nic *n = live_nic(live, run->nics[i].mac);
        char mtu[8];

        snprintf(mtu, sizeof(mtu), "%u", run->nics[i].mtu);
        if (n && (strcmp(n->tap, run->nics[i].tap) != 0 || strcmp(n->mtu, mtu) != 0)) {
            snprintf(why, whysz, "interface %s would change its tap or MTU under the guest",
                     run->spec->ifaces[i].name);
            return -ENOTSUP;
        }
        if (n)
            continue;
        if ((r = nc_domxml_nic(&run->nics[i], &xml)) < 0)
            return r;
        r = nc_hv_hotplug(env->hv, run->domname, xml, true);
        free(xml);
        if (r < 0)
            return r;
        nc_run_event(run->o, "Normal", "InterfaceAttached",
                     "interface %s (network %s, MAC %s) attached live", run->spec->ifaces[i].name,
                     run->spec->ifaces[i].network, run->nics[i].mac);
    }
    for (unsigned j = 0; j < live->n_nics; j++) {
        struct nc_nic_src src = {.mtu = 0};
        bool wanted = false;

        for (unsigned i = 0; i < run->spec->n_ifaces && !wanted; i++)
            wanted = strcmp(live->nics[j].mac, run->nics[i].mac) == 0;
        if (wanted)
            continue;
        snprintf(src.mac, sizeof(src.mac), "%s", live->nics[j].mac);
        snprintf(src.tap, sizeof(src.tap), "%s", live->nics[j].tap);
        src.mtu = (unsigned)strtoul(live->nics[j].mtu, NULL, 10);
        if ((r = nc_domxml_nic(&src, &xml)) < 0)
            return r;
        r = nc_hv_hotplug(env->hv, run->domname, xml, false);
        free(xml);
        if (r < 0)
            return r;
        nc_run_event(run->o, "Normal", "InterfaceDetached", "interface with MAC %s detached live",
                     live->nics[j].mac);
    }
    return 0;
}

int
nc_hotplug(struct nc_run *o, const char *domname, const struct nc_vm_spec *spec,
           const struct nc_disk_src *disks, const struct nc_nic_src *nics,
           const struct nc_owner *owner, char *why, size_t whysz)
{
    struct hp_run run_ = {o, domname, spec, disks, nics}, *run = &run_;
    struct nc_env *env = o->ctx->env;
    struct nc_live_devs live;
    char *xml;
    int r;

    why[0] = '\0';
    if ((r = nc_hv_live_devices(env->hv, domname, &live)) < 0 ||
        (r = hotplug_disks(run, &live, why, whysz)) < 0 ||
        (r = hotplug_nics(run, &live, why, whysz)) < 0 ||
        (r = nc_hv_live_devices(env->hv, domname, &live)) < 0)
        goto fail;
    if (!live_disks_match(run, &live) || !live_nics_match(run, &live)) {
        snprintf(why, whysz, "the guest has not let go of a detached device");
        return -EBUSY;
    }
    if ((r = nc_domxml_owner(owner, &xml)) < 0)
        return r;
    r = nc_hv_set_live_owner(env->hv, domname, xml);
    free(xml);
    if (r == 0)
        return 0;
fail:
    if (!why[0])
        snprintf(why, whysz, "%s", r == -ENOMEM ? "out of memory" : nc_drv_errmsg());
    return r;
}
