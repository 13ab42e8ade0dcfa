#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "drivers/libvirt.h"

const char *const nc_dom_state_names[] = {
    [NC_DOM_RUNNING] = "running",     [NC_DOM_PAUSED] = "paused",
    [NC_DOM_SHUTOFF] = "shutoff",     [NC_DOM_SHUTTING_DOWN] = "shutting-down",
    [NC_DOM_CRASHED] = "crashed",     [NC_DOM_OTHER] = "other",
};

struct lv {
    pthread_mutex_t lock; /* guards conn while it is replaced */
    virConnectPtr conn;
    char *uri;
    char type[8];
};

static __thread char errbuf[512];

const char *
nc_hv_errmsg(void)
{
    return errbuf;
}

/* libvirt prints every error to stderr unless told otherwise; errors are
 * reported through return values and nc_hv_errmsg() instead. */
static void
silent_error(void *data, virErrorPtr err)
{
    (void)data;
    (void)err;
}

/* Records libvirt's last error for @what and maps it to an errno. */
static int
fail(const char *what, const char *name)
{
    virErrorPtr e = virGetLastError();
    int code = e ? e->code : VIR_ERR_INTERNAL_ERROR;

    snprintf(errbuf, sizeof(errbuf), "%s %s: %s", what, name ? name : "",
             e && e->message ? e->message : "unknown libvirt error");
    switch (code) {
    case VIR_ERR_NO_DOMAIN:
        return -ENOENT;
    case VIR_ERR_OPERATION_INVALID:
        return -EBUSY;
    case VIR_ERR_NO_SUPPORT:
    case VIR_ERR_ARGUMENT_UNSUPPORTED:
        return -ENOTSUP;
    case VIR_ERR_XML_ERROR:
    case VIR_ERR_CONFIG_UNSUPPORTED:
    case VIR_ERR_INVALID_ARG:
        return -EINVAL;
    default:
        return -EIO;
    }
}

/*
 * Returns the connection, reopening it when the daemon went away. The
 * caller owns one reference and releases it with virConnectClose().
 */
static virConnectPtr
conn_get(struct nc_hv *hv)
{
    struct lv *lv = hv->priv;
    virConnectPtr c;

    pthread_mutex_lock(&lv->lock);
    if (lv->conn && virConnectIsAlive(lv->conn) != 1) {
        virConnectClose(lv->conn);
        lv->conn = NULL;
    }
    if (!lv->conn)
        lv->conn = virConnectOpen(lv->uri);
    c = lv->conn;
    if (c)
        virConnectRef(c);
    else
        fail("connect", lv->uri);
    pthread_mutex_unlock(&lv->lock);
    return c;
}

static virDomainPtr
dom_get(struct nc_hv *hv, const char *name, int *ret_err)
{
    virConnectPtr c = conn_get(hv);
    virDomainPtr d;

    if (!c) {
        *ret_err = -EIO;
        return NULL;
    }
    d = virDomainLookupByName(c, name);
    if (!d)
        *ret_err = fail("look up", name);
    virConnectClose(c);
    return d;
}

static enum nc_dom_state
map_state(int s)
{
    switch (s) {
    case VIR_DOMAIN_RUNNING:
    case VIR_DOMAIN_BLOCKED:
        return NC_DOM_RUNNING;
    case VIR_DOMAIN_PAUSED:
    case VIR_DOMAIN_PMSUSPENDED:
        return NC_DOM_PAUSED;
    case VIR_DOMAIN_SHUTDOWN:
        return NC_DOM_SHUTTING_DOWN;
    case VIR_DOMAIN_SHUTOFF:
        return NC_DOM_SHUTOFF;
    case VIR_DOMAIN_CRASHED:
        return NC_DOM_CRASHED;
    default:
        return NC_DOM_OTHER;
    }
}

static bool
read_owner(virDomainPtr d, unsigned flags, struct nc_owner *ret)
{
    char *xml = virDomainGetMetadata(d, VIR_DOMAIN_METADATA_ELEMENT, NC_OWNER_URI, flags);
    bool ok = xml && nc_domxml_parse_owner(xml, ret) == 0;

    free(xml);
    return ok;
}

static int
lv_lookup(struct nc_hv *hv, const char *name, struct nc_dominfo *ret)
{
    int r = 0, state, reason;
    virDomainInfo info;
    virDomainPtr d;

    memset(ret, 0, sizeof(*ret));
    if (!(d = dom_get(hv, name, &r)))
        return r;
    if (virDomainGetUUIDString(d, ret->uuid) < 0 || virDomainGetState(d, &state, &reason, 0) < 0 ||
        virDomainGetInfo(d, &info) < 0) {
        r = fail("inspect", name);
        goto out;
    }
    ret->state = map_state(state);
    ret->owned = read_owner(d, VIR_DOMAIN_AFFECT_CONFIG, &ret->owner);
    if (virDomainIsActive(d) == 1) {
        struct nc_owner live;

        if (read_owner(d, VIR_DOMAIN_AFFECT_LIVE, &live))
            memcpy(ret->live_config, live.config, sizeof(ret->live_config));
        ret->live_vcpus = info.nrVirtCpu;
        ret->live_memory_kib = info.maxMem;
    }
out:
    virDomainFree(d);
    return r;
}

static int
lv_define(struct nc_hv *hv, const char *xml)
{
    virConnectPtr c = conn_get(hv);
    virDomainPtr d;
    int r = 0;

    if (!c)
        return -EIO;
    d = virDomainDefineXML(c, xml);
    if (!d)
        r = fail("define", "domain");
    else
        virDomainFree(d);
    virConnectClose(c);
    return r;
}

/* Runs @op on domain @name; @what names it in errors. */
static int
with_domain(struct nc_hv *hv, const char *name, const char *what, int (*op)(virDomainPtr))
{
    virDomainPtr d;
    int r = 0;

    if (!(d = dom_get(hv, name, &r)))
        return r;
    if (op(d) < 0)
        r = fail(what, name);
    virDomainFree(d);
    return r;
}

static int
undefine_all(virDomainPtr d)
{
    /* Also drops a managed-save image and snapshot metadata, which would
     * otherwise make libvirt refuse. (NovaCron's domains have no NVRAM.) */
    return virDomainUndefineFlags(d, VIR_DOMAIN_UNDEFINE_MANAGED_SAVE |
                                         VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA);
}

static int
lv_start(struct nc_hv *hv, const char *name)
{
    return with_domain(hv, name, "start", virDomainCreate);
}

static int
lv_shutdown(struct nc_hv *hv, const char *name)
{
    return with_domain(hv, name, "shut down", virDomainShutdown);
}

static int
lv_destroy(struct nc_hv *hv, const char *name)
{
    return with_domain(hv, name, "destroy", virDomainDestroy);
}

static int
lv_suspend(struct nc_hv *hv, const char *name)
{
    return with_domain(hv, name, "suspend", virDomainSuspend);
}

static int
lv_resume(struct nc_hv *hv, const char *name)
{
    return with_domain(hv, name, "resume", virDomainResume);
}

static int
lv_undefine(struct nc_hv *hv, const char *name)
{
    return with_domain(hv, name, "undefine", undefine_all);
}

static int
lv_list_owned(struct nc_hv *hv, void (*fn)(const char *, const struct nc_owner *, void *),
              void *data)
{
    virConnectPtr c = conn_get(hv);
    virDomainPtr *doms = NULL;
    int n;

    if (!c)
        return -EIO;
    n = virConnectListAllDomains(c, &doms, 0);
    if (n < 0) {
        n = fail("list", "domains");
        virConnectClose(c);
        return n;
    }
    for (int i = 0; i < n; i++) {
        struct nc_owner owner;

        if (read_owner(doms[i], VIR_DOMAIN_AFFECT_CONFIG, &owner))
            fn(virDomainGetName(doms[i]), &owner, data);
        virDomainFree(doms[i]);
    }
    free(doms);
    virConnectClose(c);
    return 0;
}

static const struct nc_hv_ops libvirt_ops = {
    .lookup = lv_lookup,
    .define = lv_define,
    .start = lv_start,
    .shutdown = lv_shutdown,
    .destroy = lv_destroy,
    .suspend = lv_suspend,
    .resume = lv_resume,
    .undefine = lv_undefine,
    .list_owned = lv_list_owned,
};

int
nc_hv_libvirt_open(const char *uri, struct nc_hv **ret_hv)
{
    struct nc_hv *hv = calloc(1, sizeof(*hv));
    struct lv *lv = calloc(1, sizeof(*lv));
    const char *drv;

    virSetErrorFunc(NULL, silent_error);
    if (!hv || !lv || !(lv->uri = strdup(uri))) {
        free(hv);
        free(lv);
        return -ENOMEM;
    }
    pthread_mutex_init(&lv->lock, NULL);
    hv->ops = &libvirt_ops;
    hv->priv = lv;
    lv->conn = virConnectOpen(uri);
    if (!lv->conn) {
        int r = fail("connect to", uri);

        nc_hv_close(hv);
        return r;
    }
    drv = virConnectGetType(lv->conn);
    snprintf(lv->type, sizeof(lv->type), "%s",
             drv && strcasecmp(drv, "test") == 0 ? "test" : "qemu");
    *ret_hv = hv;
    return 0;
}

struct nc_hv *
nc_hv_close(struct nc_hv *hv)
{
    struct lv *lv;

    if (!hv)
        return NULL;
    lv = hv->priv;
    if (lv) {
        if (lv->conn)
            virConnectClose(lv->conn);
        pthread_mutex_destroy(&lv->lock);
        free(lv->uri);
        free(lv);
    }
    free(hv);
    return NULL;
}

const char *
nc_hv_domain_type(struct nc_hv *hv)
{
    return ((struct lv *)hv->priv)->type;
}
