#include <errno.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "drivers/error.h"
#include "drivers/libvirt.h"
#include "drivers/lvconn.h"

const char *const nc_dom_state_names[] = {
    [NC_DOM_RUNNING] = "running",     [NC_DOM_PAUSED] = "paused",
    [NC_DOM_SHUTOFF] = "shutoff",     [NC_DOM_SHUTTING_DOWN] = "shutting-down",
    [NC_DOM_CRASHED] = "crashed",     [NC_DOM_OTHER] = "other",
};

struct lv {
    pthread_mutex_t lock; /* guards conn while it is replaced */
    virConnectPtr conn;
    char *uri;
    bool is_test, is_lxc, kvm, force_tcg;
    /* Lifecycle events, once nc_hv_watch() was called. */
    void (*changed)(void *data, const char *name);
    void (*reconnected)(void *data);
    void *data;
    int timer;        /* the reconnect tick, > 0 once watching */
    bool lost;        /* the close callback fired; guarded by lock */
    bool reconnected_pending;
};

/* libvirt prints every error to stderr unless told otherwise; errors are
 * reported through return values and nc_drv_errmsg() instead. */
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

    nc_drv_fail(0, "%s %s: %s", what, name ? name : "",
                e && e->message ? e->message : "unknown libvirt error");
    switch (code) {
    case VIR_ERR_NO_DOMAIN:
    case VIR_ERR_NO_STORAGE_POOL:
    case VIR_ERR_NO_STORAGE_VOL:
    case VIR_ERR_NO_DOMAIN_SNAPSHOT:
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

static void
on_lifecycle(virConnectPtr conn, virDomainPtr dom, int event, int detail, void *opaque)
{
    struct lv *lv = opaque;
    void (*changed)(void *, const char *);
    void *data;

    (void)conn;
    (void)event;
    (void)detail;
    pthread_mutex_lock(&lv->lock);
    changed = lv->changed;
    data = lv->data;
    pthread_mutex_unlock(&lv->lock);
    if (changed)
        changed(data, virDomainGetName(dom));
}

static void
on_close(virConnectPtr conn, int reason, void *opaque)
{
    struct lv *lv = opaque;

    (void)conn;
    (void)reason;
    pthread_mutex_lock(&lv->lock);
    lv->lost = true;
    pthread_mutex_unlock(&lv->lock);
}

/* Opens the connection and hooks it up. Caller holds the lock. */
static void
reopen_locked(struct lv *lv)
{
    if (lv->conn) {
        virConnectUnregisterCloseCallback(lv->conn, on_close);
        virConnectClose(lv->conn);
        lv->reconnected_pending = true;
    }
    lv->lost = false;
    lv->conn = virConnectOpen(lv->uri);
    if (!lv->conn)
        return;
    /* Keepalive finds a libvirtd that died without closing the socket. The
     * test driver has no socket and refuses, which is fine. */
    virConnectSetKeepAlive(lv->conn, 5, 3);
    virConnectRegisterCloseCallback(lv->conn, on_close, lv, NULL);
    if (lv->changed)
        virConnectDomainEventRegisterAny(lv->conn, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                         VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle), lv, NULL);
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
    if (!lv->conn || lv->lost || virConnectIsAlive(lv->conn) != 1)
        reopen_locked(lv);
    c = lv->conn;
    if (c)
        virConnectRef(c);
    else
        fail("connect to", lv->uri);
    pthread_mutex_unlock(&lv->lock);
    return c;
}

virConnectPtr
nc_lv_conn(struct nc_hv *hv)
{
    return conn_get(hv);
}

virConnectPtr
nc_lv_conn_new(struct nc_hv *hv)
{
    struct lv *lv = hv->priv;
    virConnectPtr c = virConnectOpen(lv->uri);

    if (!c)
        fail("connect to", lv->uri);
    return c;
}

int
nc_lv_fail(const char *what, const char *name)
{
    return fail(what, name);
}

virDomainPtr
nc_lv_domain(struct nc_hv *hv, const char *name, int *ret_err)
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
    if (!(d = nc_lv_domain(hv, name, &r)))
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

        if (read_owner(d, VIR_DOMAIN_AFFECT_LIVE, &live)) {
            memcpy(ret->live_config, live.config, sizeof(ret->live_config));
            memcpy(ret->live_base, live.base, sizeof(ret->live_base));
        }
        ret->live_id = virDomainGetID(d) == (unsigned)-1 ? 0 : virDomainGetID(d);
        ret->live_vcpus = info.nrVirtCpu;
        ret->live_memory_kib = info.maxMem;
    }
out:
    virDomainFree(d);
    return r;
}

static int
lv_define(struct nc_hv *hv, const struct nc_domain_def *def)
{
    virConnectPtr c;
    virDomainPtr d;
    char *xml;
    int r = 0;

    /* The spec was validated, so this fails only when out of memory or
     * when validation let through what XML cannot carry. */
    if (nc_domxml_build(def, &xml) < 0)
        return nc_drv_fail(-EBADMSG, "define %s: the definition cannot be written as XML",
                           def->name);
    if (!(c = conn_get(hv))) {
        free(xml);
        return -EIO;
    }
    d = virDomainDefineXML(c, xml);
    free(xml);
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

    if (!(d = nc_lv_domain(hv, name, &r)))
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

/* A process's init is told by a SIGTERM: libvirt's default, /dev/initctl
 * first, reaches no such init and reports success all the same. */
static int
shutdown_by_signal(virDomainPtr d)
{
    return virDomainShutdownFlags(d, VIR_DOMAIN_SHUTDOWN_SIGNAL);
}

static int
lv_shutdown(struct nc_hv *hv, const char *name)
{
    const struct lv *lv = hv->priv;

    return with_domain(hv, name, "shut down", lv->is_lxc ? shutdown_by_signal : virDomainShutdown);
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

/* Where a change of what runs live goes: the definition, and the running
 * instance when there is one. */
static unsigned
affect(virDomainPtr d)
{
    return VIR_DOMAIN_AFFECT_CONFIG | (virDomainIsActive(d) == 1 ? VIR_DOMAIN_AFFECT_LIVE : 0);
}

static int
lv_set_memory(struct nc_hv *hv, const char *name, uint64_t kib)
{
    int r = 0;
    virDomainPtr d = nc_lv_domain(hv, name, &r);

    if (!d)
        return r;
    if (virDomainSetMemoryFlags(d, (unsigned long)kib, affect(d)) < 0)
        r = fail("set the memory balloon of", name);
    virDomainFree(d);
    return r;
}

/* Typed parameter @p: @field = @v, an unsigned long long. */
static void
param_ull(virTypedParameterPtr p, const char *field, unsigned long long v)
{
    memset(p, 0, sizeof(*p));
    snprintf(p->field, sizeof(p->field), "%s", field);
    p->type = VIR_TYPED_PARAM_ULLONG;
    p->value.ul = v;
}

static int
lv_set_iotune(struct nc_hv *hv, const char *name, const char *dev, uint64_t iops, uint64_t bps)
{
    int r = 0;
    virDomainPtr d = nc_lv_domain(hv, name, &r);
    virTypedParameter p[2];

    if (!d)
        return r;
    param_ull(&p[0], VIR_DOMAIN_BLOCK_IOTUNE_TOTAL_IOPS_SEC, iops);
    param_ull(&p[1], VIR_DOMAIN_BLOCK_IOTUNE_TOTAL_BYTES_SEC, bps);
    if (virDomainSetBlockIoTune(d, dev, p, 2, affect(d)) < 0)
        r = fail("set the disk limits of", name);
    virDomainFree(d);
    return r;
}

static int
lv_set_cputune(struct nc_hv *hv, const char *name, unsigned shares, unsigned period,
               unsigned quota)
{
    int r = 0;
    virDomainPtr d = nc_lv_domain(hv, name, &r);
    virTypedParameter p[3];

    if (!d)
        return r;
    param_ull(&p[0], VIR_DOMAIN_SCHEDULER_CPU_SHARES, shares ? shares : 1024);
    param_ull(&p[1], VIR_DOMAIN_SCHEDULER_VCPU_PERIOD, period);
    /* -1: no limit, as cgroups say it. */
    memset(&p[2], 0, sizeof(p[2]));
    snprintf(p[2].field, sizeof(p[2].field), "%s", VIR_DOMAIN_SCHEDULER_VCPU_QUOTA);
    p[2].type = VIR_TYPED_PARAM_LLONG;
    p[2].value.l = quota ? (long long)quota : -1;
    if (virDomainSetSchedulerParametersFlags(d, p, 3, affect(d)) < 0)
        r = fail("set the CPU shares and quota of", name);
    virDomainFree(d);
    return r;
}

static int
lv_pin_vcpu(struct nc_hv *hv, const char *name, unsigned vcpu, int cpu)
{
    int r = 0;
    virDomainPtr d = nc_lv_domain(hv, name, &r);
    unsigned char *map = NULL;
    int n;

    if (!d)
        return r;
    /* Any CPU: the map of every CPU the host has. */
    n = cpu >= 0 ? cpu + 1 : virNodeGetCPUMap(virDomainGetConnect(d), NULL, NULL, 0);
    if (n < 0) {
        r = fail("count the host CPUs for", name);
        goto out;
    }
    if (!(map = calloc(1, (size_t)VIR_CPU_MAPLEN(n)))) {
        r = -ENOMEM;
        goto out;
    }
    for (int c = cpu >= 0 ? cpu : 0; c < n; c++)
        VIR_USE_CPU(map, c);
    if (virDomainPinVcpuFlags(d, vcpu, map, VIR_CPU_MAPLEN(n), affect(d)) < 0)
        r = fail("pin a vCPU of", name);
out:
    free(map);
    virDomainFree(d);
    return r;
}

/* The LXC driver has neither and takes no flags. */
static int
undefine_container(virDomainPtr d)
{
    return virDomainUndefine(d);
}

static int
lv_undefine(struct nc_hv *hv, const char *name)
{
    struct lv *lv = hv->priv;

    return with_domain(hv, name, "undefine", lv->is_lxc ? undefine_container : undefine_all);
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


/*
 * libvirt delivers events through an event loop that the application
 * provides; its default implementation, run on a thread of its own, must
 * be registered before the first connection is opened. It serves the
 * whole process, so it is set up once and never stopped.
 */
static void *
event_thread(void *arg)
{
    (void)arg;
    for (;;)
        virEventRunDefaultImpl();
    return NULL;
}

static int event_setup_result;

static void
event_setup(void)
{
    pthread_t t;

    if (virEventRegisterDefaultImpl() < 0 || pthread_create(&t, NULL, event_thread, NULL) != 0) {
        event_setup_result = -EIO;
        return;
    }
    pthread_detach(t);
}

static bool
kvm_offered(virConnectPtr c)
{
    char *caps = virConnectGetDomainCapabilities(c, NULL, "x86_64", NULL, "kvm", 0);
    bool ok = caps && strstr(caps, "<domain>kvm</domain>");

    free(caps);
    return ok;
}

static const struct nc_hv_ops libvirt_ops;
static void lv_close(struct nc_hv *hv);

int
nc_hv_libvirt_open(const char *uri, bool force_tcg, struct nc_hv **ret_hv)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    struct nc_hv *hv = calloc(1, sizeof(*hv));
    struct lv *lv = calloc(1, sizeof(*lv));
    const char *drv;

    virSetErrorFunc(NULL, silent_error);
    pthread_once(&once, event_setup);
    if (event_setup_result < 0) {
        nc_drv_fail(0, "cannot start libvirt's event loop");
        free(hv);
        free(lv);
        return event_setup_result;
    }
    if (!hv || !lv || !(lv->uri = strdup(uri))) {
        free(hv);
        free(lv);
        return -ENOMEM;
    }
    pthread_mutex_init(&lv->lock, NULL);
    hv->ops = &libvirt_ops;
    hv->priv = lv;
    lv->force_tcg = force_tcg;
    reopen_locked(lv);
    if (!lv->conn) {
        int r = fail("connect to", uri);

        lv_close(hv);
        return r;
    }
    drv = virConnectGetType(lv->conn);
    lv->is_test = drv && strcasecmp(drv, "test") == 0;
    lv->is_lxc = drv && strcasecmp(drv, "LXC") == 0;
    lv->kvm = !lv->is_test && !lv->is_lxc && kvm_offered(lv->conn);
    /* The test driver's guests are not processes: no ACPI, no console, no
     * tap devices, no cgroups. The LXC driver's processes are asked to
     * stop by a SIGTERM to their init and have veths for taps, but no
     * serial console, vCPUs to tune or devices to plug in live. */
    hv->caps = (struct nc_hv_caps){
        .acpi = !lv->is_test, .console_log = !lv->is_test && !lv->is_lxc,
        .taps = !lv->is_test, .cpu_tune = !lv->is_test && !lv->is_lxc,
        .hotplug = !lv->is_lxc,
    };
    *ret_hv = hv;
    return 0;
}

static void
lv_free(void *opaque)
{
    struct lv *lv = opaque;

    if (!lv)
        return;
    if (lv->conn)
        virConnectClose(lv->conn);
    pthread_mutex_destroy(&lv->lock);
    free(lv->uri);
    free(lv);
}

/* Every second on libvirt's event thread: reconnect when the connection
 * was lost, and say so once it is back. */
static void
on_tick(int timer, void *opaque)
{
    struct lv *lv = opaque;
    bool tell;

    (void)timer;
    pthread_mutex_lock(&lv->lock);
    if (!lv->changed) {
        pthread_mutex_unlock(&lv->lock);
        return; /* closing */
    }
    if (!lv->conn || lv->lost || virConnectIsAlive(lv->conn) != 1)
        reopen_locked(lv);
    tell = lv->conn && lv->reconnected_pending;
    if (tell)
        lv->reconnected_pending = false;
    pthread_mutex_unlock(&lv->lock);
    if (tell)
        lv->reconnected(lv->data);
}

static int
lv_watch(struct nc_hv *hv, void (*changed)(void *data, const char *name),
            void (*reconnected)(void *data), void *data)
{
    struct lv *lv = hv->priv;
    int r = 0;

    pthread_mutex_lock(&lv->lock);
    lv->changed = changed;
    lv->reconnected = reconnected;
    lv->data = data;
    if (lv->conn &&
        virConnectDomainEventRegisterAny(lv->conn, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                         VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle), lv, NULL) < 0)
        r = fail("watch events of", lv->uri);
    pthread_mutex_unlock(&lv->lock);
    if (r == 0 && (lv->timer = virEventAddTimeout(1000, on_tick, lv, lv_free)) < 0)
        r = fail("add a timer to", lv->uri);
    return r;
}

static void
lv_close(struct nc_hv *hv)
{
    struct lv *lv;

    lv = hv->priv;
    if (lv && lv->timer > 0) {
        /* The event thread may be in on_tick() right now: stop watching,
         * and let the loop free @lv once the timer is really gone. */
        pthread_mutex_lock(&lv->lock);
        lv->changed = NULL;
        if (lv->conn) {
            virConnectUnregisterCloseCallback(lv->conn, on_close);
            virConnectClose(lv->conn);
            lv->conn = NULL;
        }
        pthread_mutex_unlock(&lv->lock);
        virEventRemoveTimeout(lv->timer);
    } else {
        lv_free(lv);
    }
    free(hv);
}

static const char *
lv_domain_type(struct nc_hv *hv, enum nc_accel accel)
{
    struct lv *lv = hv->priv;

    if (lv->is_test)
        return "test";
    if (lv->is_lxc)
        return "lxc";
    switch (accel) {
    case NC_ACCEL_KVM:
        return lv->kvm ? "kvm" : NULL;
    case NC_ACCEL_TCG:
        return "qemu";
    default:
        return lv->kvm && !lv->force_tcg ? "kvm" : "qemu";
    }
}

static int
lv_block_resize(struct nc_hv *hv, const char *name, const char *path, uint64_t bytes)
{
    int r = 0;
    virDomainPtr d = nc_lv_domain(hv, name, &r);

    if (!d)
        return r;
    if (virDomainBlockResize(d, path, bytes, VIR_DOMAIN_BLOCK_RESIZE_BYTES) < 0)
        r = fail("resize a disk of", name);
    virDomainFree(d);
    return r;
}

/* Attribute @attr of the first child element @elem of @n into @out. */
static void
child_attr(xmlNodePtr n, const char *elem, const char *attr, char *out, size_t outsz)
{
    for (xmlNodePtr c = n->children; c; c = c->next) {
        xmlChar *v;

        if (c->type != XML_ELEMENT_NODE || xmlStrcmp(c->name, BAD_CAST elem) ||
            !(v = xmlGetProp(c, BAD_CAST attr)))
            continue;
        snprintf(out, outsz, "%s", (const char *)v);
        xmlFree(v);
        return;
    }
}

static int
lv_live_devices(struct nc_hv *hv, const char *name, struct nc_live_devs *ret)
{
    int r = 0;
    virDomainPtr d = nc_lv_domain(hv, name, &r);
    char *xml;
    xmlDocPtr doc;
    xmlNodePtr root, devices = NULL;

    memset(ret, 0, sizeof(*ret));
    if (!d)
        return r;
    xml = virDomainGetXMLDesc(d, 0);
    virDomainFree(d);
    if (!xml)
        return fail("describe", name);
    doc = xmlReadMemory(xml, (int)strlen(xml), NULL, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR);
    free(xml);
    root = doc ? xmlDocGetRootElement(doc) : NULL;
    for (xmlNodePtr n = root ? root->children : NULL; n; n = n->next)
        if (n->type == XML_ELEMENT_NODE && !xmlStrcmp(n->name, BAD_CAST "devices"))
            devices = n;
    for (xmlNodePtr n = devices ? devices->children : NULL; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (!xmlStrcmp(n->name, BAD_CAST "disk") && ret->n_disks < NC_LIVE_MAX) {
            struct nc_live_disk *disk = &ret->disks[ret->n_disks];
            xmlChar *device = xmlGetProp(n, BAD_CAST "device");
            /* A CD-ROM (the cloud-init seed) is not one of the disks. */
            bool cdrom = device && xmlStrcmp(device, BAD_CAST "disk") != 0;

            xmlFree(device);
            if (cdrom)
                continue;
            child_attr(n, "target", "dev", disk->target, sizeof(disk->target));
            child_attr(n, "source", "file", disk->path, sizeof(disk->path));
            ret->n_disks += disk->target[0] != '\0';
        } else if (!xmlStrcmp(n->name, BAD_CAST "interface") && ret->n_nics < NC_LIVE_MAX) {
            struct nc_live_nic *nic = &ret->nics[ret->n_nics];

            child_attr(n, "mac", "address", nic->mac, sizeof(nic->mac));
            child_attr(n, "target", "dev", nic->tap, sizeof(nic->tap));
            child_attr(n, "mtu", "size", nic->mtu, sizeof(nic->mtu));
            ret->n_nics += nic->mac[0] != '\0';
        }
    }
    if (doc)
        xmlFreeDoc(doc);
    return doc ? 0 : nc_drv_fail(-EIO, "cannot parse the XML of %s", name);
}

static int
lv_hotplug(struct nc_hv *hv, const char *name, const char *xml, bool attach)
{
    int r = 0;
    virDomainPtr d = nc_lv_domain(hv, name, &r);

    if (!d)
        return r;
    if ((attach ? virDomainAttachDeviceFlags(d, xml, VIR_DOMAIN_AFFECT_LIVE)
                : virDomainDetachDeviceFlags(d, xml, VIR_DOMAIN_AFFECT_LIVE)) < 0)
        r = fail(attach ? "attach a disk to" : "detach a disk from", name);
    virDomainFree(d);
    return r;
}

static int
lv_set_live_owner(struct nc_hv *hv, const char *name, const char *xml)
{
    int r = 0;
    virDomainPtr d = nc_lv_domain(hv, name, &r);

    if (!d)
        return r;
    if (virDomainSetMetadata(d, VIR_DOMAIN_METADATA_ELEMENT, xml, NC_OWNER_PREFIX, NC_OWNER_URI,
                             VIR_DOMAIN_AFFECT_LIVE) < 0)
        r = fail("mark the running instance of", name);
    virDomainFree(d);
    return r;
}

static int
lv_node_info(struct nc_hv *hv, unsigned *ret_cpus, uint64_t *ret_memory)
{
    virConnectPtr c = nc_lv_conn(hv);
    virNodeInfo info;
    int r = 0;

    if (!c)
        return -EIO;
    if (virNodeGetInfo(c, &info) < 0) {
        r = fail("read the node information of", virConnectGetURI(c));
    } else {
        *ret_cpus = info.cpus;
        *ret_memory = (uint64_t)info.memory << 10;
    }
    virConnectClose(c);
    return r;
}

static const struct nc_hv_ops libvirt_ops = {
    .close = lv_close,
    .domain_type = lv_domain_type,
    .watch = lv_watch,
    .lookup = lv_lookup,
    .define = lv_define,
    .start = lv_start,
    .shutdown = lv_shutdown,
    .destroy = lv_destroy,
    .suspend = lv_suspend,
    .resume = lv_resume,
    .undefine = lv_undefine,
    .list_owned = lv_list_owned,
    .block_resize = lv_block_resize,
    .live_devices = lv_live_devices,
    .hotplug = lv_hotplug,
    .set_live_owner = lv_set_live_owner,
    .node_info = lv_node_info,
    .migrate = nc_lv_migrate,
    .job = nc_lv_job,
    .snapshot_create = nc_lv_snapshot_create,
    .snapshot_lookup = nc_lv_snapshot_lookup,
    .snapshot_delete = nc_lv_snapshot_delete,
    .snapshot_revert = nc_lv_snapshot_revert,
    .snapshot_list = nc_lv_snapshot_list,
    .stats = nc_lv_stats,
    .set_memory = lv_set_memory,
    .set_iotune = lv_set_iotune,
    .set_cputune = lv_set_cputune,
    .pin_vcpu = lv_pin_vcpu,
};
