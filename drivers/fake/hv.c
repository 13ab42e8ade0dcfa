#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "drivers/fake/faults.h"
#include "drivers/fake/peers.h"
#include "drivers/fake/hv.h"

#define MAX_DOMAINS 256

static const char *const op_names[] = {
    "lookup", "define", "start", "shutdown", "destroy", "suspend", "resume", "undefine",
    "list_owned", "block_resize", "live_devices", "hotplug", "set_live_owner", "node_info",
    "snapshot_create", "snapshot_lookup", "snapshot_delete", "snapshot_revert", "snapshot_list",
    "migrate", "job", NULL,
};

#define MAX_SNAPSHOTS 8

struct snapshot {
    char name[NC_DOMAIN_NAME_MAX];
    struct nc_snapinfo info; /* memory: the domain was not off */
};


struct domain {
    char name[NC_DOMAIN_NAME_MAX];
    char uuid[37];
    enum nc_dom_state state;
    bool owned;
    struct nc_owner owner, live; /* the definition's mark, the running one's */
    unsigned vcpus, live_vcpus, live_id;
    uint64_t memory_kib, live_memory_kib;
    struct snapshot snaps[MAX_SNAPSHOTS];
    size_t n_snaps;
    struct nc_job job; /* its last completed migration's; data_total 0: none */
};

struct fake {
    pthread_mutex_t lock;
    struct domain doms[MAX_DOMAINS];
    size_t n;
    unsigned serial;
    unsigned next_id; /* the last running instance's id */
    struct fake_peers peers; /* fake_hv_link() */
    struct fake_faults faults;
};

static struct domain *
find(struct fake *f, const char *name)
{
    for (size_t i = 0; i < f->n; i++)
        if (strcmp(f->doms[i].name, name) == 0)
            return &f->doms[i];
    return NULL;
}

#define LOCKED_CALL(hv, op, name, d)                                                             \
    struct fake *f = (hv)->priv;                                                                 \
    struct domain *d;                                                                            \
    int r;                                                                                       \
                                                                                                 \
    pthread_mutex_lock(&f->lock);                                                                \
    if ((r = fake_faults_enter(&f->faults, "fake_hv", op)) < 0)                                                                  \
        goto out;                                                                                \
    if (!(d = find(f, name))) {                                                                  \
        r = nc_drv_fail(-ENOENT, "%s %s: no such domain", op, name);                            \
        goto out;                                                                                \
    }

static void
fake_close(struct nc_hv *hv)
{
    struct fake *f = hv->priv;

    fake_faults_fini(&f->faults);
    pthread_mutex_destroy(&f->lock);
    free(f);
    free(hv);
}

static const char *
fake_domain_type(struct nc_hv *hv, enum nc_accel accel)
{
    (void)hv;
    return accel == NC_ACCEL_KVM ? NULL : "qemu";
}

static int
fake_watch(struct nc_hv *hv, void (*changed)(void *data, const char *name),
           void (*reconnected)(void *data), void *data)
{
    (void)hv, (void)changed, (void)reconnected, (void)data;
    return 0;
}

static int
fake_lookup(struct nc_hv *hv, const char *name, struct nc_dominfo *ret)
{
    memset(ret, 0, sizeof(*ret));
    LOCKED_CALL(hv, "lookup", name, d);
    snprintf(ret->uuid, sizeof(ret->uuid), "%s", d->uuid);
    ret->state = d->state;
    ret->owned = d->owned;
    ret->owner = d->owner;
    if (d->state != NC_DOM_SHUTOFF) {
        memcpy(ret->live_config, d->live.config, sizeof(ret->live_config));
        memcpy(ret->live_base, d->live.base, sizeof(ret->live_base));
        ret->live_id = d->live_id;
        ret->live_vcpus = d->live_vcpus;
        ret->live_memory_kib = d->live_memory_kib;
    }
out:
    pthread_mutex_unlock(&f->lock);
    return r;
}

/* The text of @parent's first child element named @name, or "". */
static void
child_text(xmlNodePtr parent, const char *name, char *out, size_t outsz)
{
    out[0] = '\0';
    for (xmlNodePtr n = parent->children; n; n = n->next) {
        if (n->type == XML_ELEMENT_NODE && !xmlStrcmp(n->name, BAD_CAST name)) {
            xmlChar *t = xmlNodeGetContent(n);

            snprintf(out, outsz, "%s", t ? (const char *)t : "");
            xmlFree(t);
            return;
        }
    }
}

/* Reads what a domain definition says of itself: name, vCPUs, memory and
 * the owner mark in its <metadata>. */
static int
parse_domain(const char *xml, struct domain *ret)
{
    xmlDocPtr doc = xmlReadMemory(xml, (int)strlen(xml), "domain.xml", NULL,
                                  XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
    char num[32];
    int r = nc_drv_fail(-EINVAL, "define: not a domain definition");

    if (!root || xmlStrcmp(root->name, BAD_CAST "domain"))
        goto out;
    child_text(root, "name", ret->name, sizeof(ret->name));
    child_text(root, "vcpu", num, sizeof(num));
    ret->vcpus = (unsigned)strtoul(num, NULL, 10);
    child_text(root, "memory", num, sizeof(num));
    ret->memory_kib = strtoull(num, NULL, 10);
    ret->owned = false;
    for (xmlNodePtr m = root->children; m; m = m->next) {
        if (m->type != XML_ELEMENT_NODE || xmlStrcmp(m->name, BAD_CAST "metadata"))
            continue;
        for (xmlNodePtr o = m->children; o; o = o->next) {
            xmlBufferPtr buf;

            if (o->type != XML_ELEMENT_NODE || !o->ns ||
                xmlStrcmp(o->ns->href, BAD_CAST NC_OWNER_URI) || !(buf = xmlBufferCreate()))
                continue;
            xmlNodeDump(buf, doc, o, 0, 0);
            ret->owned = nc_domxml_parse_owner((const char *)xmlBufferContent(buf),
                                               &ret->owner) == 0;
            xmlBufferFree(buf);
        }
    }
    r = ret->name[0] ? 0 : nc_drv_fail(-EINVAL, "define: a domain without a name");
out:
    if (doc)
        xmlFreeDoc(doc);
    return r;
}

static int
fake_define(struct nc_hv *hv, const struct nc_domain_def *def)
{
    struct fake *f = hv->priv;
    struct domain parsed = {0}, *d;
    char *xml = NULL;
    int r;

    /* Through the XML libvirt would get, so the fake sees what it sees. */
    if (nc_domxml_build(def, &xml) < 0)
        return nc_drv_fail(-EBADMSG, "define: the definition cannot be written as XML");
    pthread_mutex_lock(&f->lock);
    if ((r = fake_faults_enter(&f->faults, "fake_hv", "define")) < 0 || (r = parse_domain(xml, &parsed)) < 0)
        goto out;
    if (!(d = find(f, parsed.name))) {
        if (f->n == MAX_DOMAINS) {
            r = nc_drv_fail(-ENOSPC, "define: the fake holds %d domains at most", MAX_DOMAINS);
            goto out;
        }
        d = &f->doms[f->n++];
        *d = parsed;
        d->state = NC_DOM_SHUTOFF;
        snprintf(d->uuid, sizeof(d->uuid), "00000000-0000-4000-8000-%012u", ++f->serial);
        goto out;
    }
    /* A redefinition changes the persistent definition, not the running
     * instance, as libvirt's does. */
    d->owned = parsed.owned;
    d->owner = parsed.owner;
    d->vcpus = parsed.vcpus;
    d->memory_kib = parsed.memory_kib;
out:
    pthread_mutex_unlock(&f->lock);
    free(xml);
    return r;
}

static int
fake_start(struct nc_hv *hv, const char *name)
{
    LOCKED_CALL(hv, "start", name, d);
    if (d->state != NC_DOM_SHUTOFF) {
        r = nc_drv_fail(-EBUSY, "start %s: the domain is already running", name);
        goto out;
    }
    d->state = NC_DOM_RUNNING;
    d->live = d->owner;
    d->live_id = ++f->next_id;
    d->live_vcpus = d->vcpus;
    d->live_memory_kib = d->memory_kib;
out:
    pthread_mutex_unlock(&f->lock);
    return r;
}

/* Sets @d's state to @to when it is in @from (NC_DOM_INVALID: any running
 * state), else fails as libvirt does on a domain in the wrong state. */
static int
transition(struct nc_hv *hv, const char *op, const char *name, enum nc_dom_state from,
           enum nc_dom_state to)
{
    LOCKED_CALL(hv, op, name, d);
    if (from == NC_DOM_INVALID ? d->state == NC_DOM_SHUTOFF : d->state != from) {
        r = nc_drv_fail(-EINVAL, "%s %s: the domain is %s", op, name,
                        nc_dom_state_names[d->state]);
        goto out;
    }
    d->state = to;
out:
    pthread_mutex_unlock(&f->lock);
    return r;
}

static int
fake_shutdown(struct nc_hv *hv, const char *name)
{
    return transition(hv, "shutdown", name, NC_DOM_INVALID, NC_DOM_SHUTOFF);
}

static int
fake_destroy(struct nc_hv *hv, const char *name)
{
    return transition(hv, "destroy", name, NC_DOM_INVALID, NC_DOM_SHUTOFF);
}

static int
fake_suspend(struct nc_hv *hv, const char *name)
{
    return transition(hv, "suspend", name, NC_DOM_RUNNING, NC_DOM_PAUSED);
}

static int
fake_resume(struct nc_hv *hv, const char *name)
{
    return transition(hv, "resume", name, NC_DOM_PAUSED, NC_DOM_RUNNING);
}

static int
fake_undefine(struct nc_hv *hv, const char *name)
{
    LOCKED_CALL(hv, "undefine", name, d);
    if (d->state != NC_DOM_SHUTOFF) {
        r = nc_drv_fail(-EBUSY, "undefine %s: the domain runs", name);
        goto out;
    }
    *d = f->doms[--f->n];
out:
    pthread_mutex_unlock(&f->lock);
    return r;
}

static int
fake_list_owned(struct nc_hv *hv,
                void (*fn)(const char *name, const struct nc_owner *owner, void *data),
                void *data)
{
    struct fake *f = hv->priv;
    struct domain copy[MAX_DOMAINS];
    size_t n = 0;
    int r;

    pthread_mutex_lock(&f->lock);
    if ((r = fake_faults_enter(&f->faults, "fake_hv", "list_owned")) == 0)
        for (size_t i = 0; i < f->n; i++)
            if (f->doms[i].owned)
                copy[n++] = f->doms[i];
    pthread_mutex_unlock(&f->lock);
    /* Outside the lock: @fn may call back into the fake. */
    for (size_t i = 0; i < n; i++)
        fn(copy[i].name, &copy[i].owner, data);
    return r;
}

static int
fake_block_resize(struct nc_hv *hv, const char *name, const char *path, uint64_t bytes)
{
    (void)path, (void)bytes;
    LOCKED_CALL(hv, "block_resize", name, d);
    (void)d;
out:
    pthread_mutex_unlock(&f->lock);
    return r;
}

static int
fake_live_devices(struct nc_hv *hv, const char *name, struct nc_live_devs *ret)
{
    ret->n_disks = ret->n_nics = 0;
    LOCKED_CALL(hv, "live_devices", name, d);
    (void)d;
out:
    pthread_mutex_unlock(&f->lock);
    return r;
}

static int
fake_hotplug(struct nc_hv *hv, const char *name, const char *xml, bool attach)
{
    (void)xml, (void)attach;
    LOCKED_CALL(hv, "hotplug", name, d);
    (void)d;
out:
    pthread_mutex_unlock(&f->lock);
    return r;
}

static int
fake_set_live_owner(struct nc_hv *hv, const char *name, const char *xml)
{
    LOCKED_CALL(hv, "set_live_owner", name, d);
    if (nc_domxml_parse_owner(xml, &d->live) < 0)
        r = nc_drv_fail(-EINVAL, "set_live_owner %s: not an owner mark", name);
out:
    pthread_mutex_unlock(&f->lock);
    return r;
}

/* A host of 8 CPUs and 16 GiB. */
static int
fake_node_info(struct nc_hv *hv, unsigned *ret_cpus, uint64_t *ret_memory)
{
    struct fake *f = hv->priv;
    int r;

    pthread_mutex_lock(&f->lock);
    r = fake_faults_enter(&f->faults, "fake_hv", "node_info");
    pthread_mutex_unlock(&f->lock);
    *ret_cpus = 8;
    *ret_memory = 16ULL << 30;
    return r;
}

/* Snapshot @snap of @d, or NULL (with @ret_err, when given, set to
 * -ENOENT and the reason recorded). */
static struct snapshot *
snap_of(struct domain *d, const char *snap, int *ret_err)
{
    for (size_t i = 0; i < d->n_snaps; i++)
        if (strcmp(d->snaps[i].name, snap) == 0)
            return &d->snaps[i];
    if (ret_err)
        *ret_err = nc_drv_fail(-ENOENT, "snapshot %s of %s: none", snap, d->name);
    return NULL;
}

static int
fake_snapshot_create(struct nc_hv *hv, const char *name, const char *snap, const char *mark)
{
    struct snapshot *s;

    LOCKED_CALL(hv, "snapshot_create", name, d);
    if (snap_of(d, snap, NULL) || d->n_snaps == MAX_SNAPSHOTS) {
        r = nc_drv_fail(-EEXIST, "snapshot %s of %s: exists, or too many", snap, name);
        goto out;
    }
    s = &d->snaps[d->n_snaps++];
    snprintf(s->name, sizeof(s->name), "%s", snap);
    s->info.memory = d->state != NC_DOM_SHUTOFF;
    s->info.created = 1700000000 + f->serial++;
    snprintf(s->info.mark, sizeof(s->info.mark), "%s", mark);
out:
    pthread_mutex_unlock(&f->lock);
    return r;
}

static int
fake_snapshot_lookup(struct nc_hv *hv, const char *name, const char *snap,
                     struct nc_snapinfo *ret)
{
    struct snapshot *s;

    memset(ret, 0, sizeof(*ret));
    LOCKED_CALL(hv, "snapshot_lookup", name, d);
    if ((s = snap_of(d, snap, &r)))
        *ret = s->info;
out:
    pthread_mutex_unlock(&f->lock);
    return r;
}

static int
fake_snapshot_delete(struct nc_hv *hv, const char *name, const char *snap)
{
    struct snapshot *s;

    LOCKED_CALL(hv, "snapshot_delete", name, d);
    if ((s = snap_of(d, snap, &r)))
        *s = d->snaps[--d->n_snaps];
out:
    pthread_mutex_unlock(&f->lock);
    return r;
}

static int
fake_snapshot_revert(struct nc_hv *hv, const char *name, const char *snap, bool paused)
{
    struct snapshot *s;

    LOCKED_CALL(hv, "snapshot_revert", name, d);
    if ((s = snap_of(d, snap, &r)))
        d->state = !s->info.memory ? NC_DOM_SHUTOFF : paused ? NC_DOM_PAUSED : NC_DOM_RUNNING;
out:
    pthread_mutex_unlock(&f->lock);
    return r;
}

static int
fake_snapshot_list(struct nc_hv *hv, const char *name, void (*fn)(const char *snap, void *data),
                   void *data)
{
    char names[MAX_SNAPSHOTS][NC_DOMAIN_NAME_MAX];
    size_t n = 0;

    {
        LOCKED_CALL(hv, "snapshot_list", name, d);
        for (n = 0; n < d->n_snaps; n++)
            memcpy(names[n], d->snaps[n].name, sizeof(names[n]));
    out:
        pthread_mutex_unlock(&f->lock);
        if (r < 0)
            return r;
    }
    /* Called unlocked: @fn may delete what it is given. */
    for (size_t i = 0; i < n; i++)
        fn(names[i], data);
    return 0;
}

/* Peer to peer, as libvirt's: the guest runs on at the peer, its
 * definition with it, and is gone here (UNDEFINE_SOURCE). One tick, with
 * half the memory sent; the peer keeps the completed job's figures. */
static int
fake_migrate(struct nc_hv *hv, const char *name, const struct nc_migrate_params *p,
             unsigned tick_ms, bool (*tick)(void *data, const struct nc_job *job), void *data)
{
    struct fake *f = hv->priv, *to = NULL;
    struct nc_job job = {.active = true};
    struct domain *d, moving;
    int r;

    (void)tick_ms;
    pthread_mutex_lock(&f->lock);
    if ((r = fake_faults_enter(&f->faults, "fake_hv", "migrate")) == 0) {
        to = fake_peers_find(&f->peers, p->dest_uri);
        if (!(d = find(f, name)))
            r = nc_drv_fail(-ENOENT, "migrate %s: no such domain", name);
        else if (d->state == NC_DOM_SHUTOFF)
            r = nc_drv_fail(-EINVAL, "migrate %s: the domain is not running", name);
        else if (!to)
            r = nc_drv_fail(-ECONNREFUSED, "migrate %s: cannot reach %s", name, p->dest_uri);
        else
            job.data_total = d->live_memory_kib * 1024;
    }
    pthread_mutex_unlock(&f->lock);
    if (r == 0) {
        pthread_mutex_lock(&to->lock);
        if (find(to, name))
            r = nc_drv_fail(-EEXIST, "migrate %s: %s has a domain of that name", name,
                            p->dest_uri);
        else if (to->n == MAX_DOMAINS)
            r = nc_drv_fail(-ENOSPC, "migrate %s: the fake holds %d domains at most", name,
                            MAX_DOMAINS);
        pthread_mutex_unlock(&to->lock);
    }
    if (r < 0)
        return r;
    job.data_processed = job.data_total / 2;
    job.data_remaining = job.data_total - job.data_processed;
    if (!tick(data, &job))
        return nc_drv_fail(-ECANCELED, "migrate %s: aborted", name);
    pthread_mutex_lock(&f->lock);
    if ((d = find(f, name))) {
        moving = *d;
        *d = f->doms[--f->n];
    }
    pthread_mutex_unlock(&f->lock);
    if (!d)
        return nc_drv_fail(-ENOENT, "migrate %s: the domain went meanwhile", name);
    moving.job = (struct nc_job){.elapsed_ms = 30, .data_processed = job.data_total,
                                 .data_total = job.data_total, .downtime_ms = 5};
    pthread_mutex_lock(&to->lock);
    moving.live_id = ++to->next_id;
    to->doms[to->n++] = moving;
    pthread_mutex_unlock(&to->lock);
    return 0;
}

static int
fake_job(struct nc_hv *hv, const char *name, bool completed, struct nc_job *ret)
{
    memset(ret, 0, sizeof(*ret));
    LOCKED_CALL(hv, "job", name, d);
    /* A migration here ends before the call that started it returns. */
    if (completed && !d->job.data_total)
        r = nc_drv_fail(-ENOENT, "job of %s: none completed", name);
    else if (completed)
        *ret = d->job;
out:
    pthread_mutex_unlock(&f->lock);
    return r;
}

static const struct nc_hv_ops fake_ops = {
    .close = fake_close,
    .domain_type = fake_domain_type,
    .watch = fake_watch,
    .lookup = fake_lookup,
    .define = fake_define,
    .start = fake_start,
    .shutdown = fake_shutdown,
    .destroy = fake_destroy,
    .suspend = fake_suspend,
    .resume = fake_resume,
    .undefine = fake_undefine,
    .list_owned = fake_list_owned,
    .block_resize = fake_block_resize,
    .live_devices = fake_live_devices,
    .hotplug = fake_hotplug,
    .set_live_owner = fake_set_live_owner,
    .node_info = fake_node_info,
    .snapshot_create = fake_snapshot_create,
    .snapshot_lookup = fake_snapshot_lookup,
    .snapshot_delete = fake_snapshot_delete,
    .snapshot_revert = fake_snapshot_revert,
    .snapshot_list = fake_snapshot_list,
    .migrate = fake_migrate,
    .job = fake_job,
};

int
fake_hv_open(struct nc_hv **ret_hv)
{
    struct nc_hv *hv = calloc(1, sizeof(*hv));
    struct fake *f = calloc(1, sizeof(*f));

    if (!hv || !f) {
        free(hv);
        free(f);
        return -ENOMEM;
    }
    pthread_mutex_init(&f->lock, NULL);
    fake_faults_init(&f->faults, op_names);
    hv->ops = &fake_ops;
    hv->priv = f;
    *ret_hv = hv;
    return 0;
}

void
fake_hv_fail(struct nc_hv *hv, const char *op, int err, unsigned times)
{
    fake_faults_set(&((struct fake *)hv->priv)->faults, op, err, times);
}

unsigned
fake_hv_calls(struct nc_hv *hv, const char *op)
{
    return fake_faults_calls(&((struct fake *)hv->priv)->faults, op);
}

int
fake_hv_set_state(struct nc_hv *hv, const char *name, enum nc_dom_state state)
{
    struct fake *f = hv->priv;
    struct domain *d;

    pthread_mutex_lock(&f->lock);
    if ((d = find(f, name)))
        d->state = state;
    pthread_mutex_unlock(&f->lock);
    return d ? 0 : -ENOENT;
}

size_t
fake_hv_count(struct nc_hv *hv)
{
    struct fake *f = hv->priv;
    size_t n;

    pthread_mutex_lock(&f->lock);
    n = f->n;
    pthread_mutex_unlock(&f->lock);
    return n;
}

void
fake_hv_sweep(struct nc_hv *hv, struct fake_sweep *s, const char *table)
{
    fake_faults_join(&((struct fake *)hv->priv)->faults, s, table);
}

void
fake_hv_link(struct nc_hv *hv, const char *uri, struct nc_hv *peer)
{
    struct fake *f = hv->priv;

    pthread_mutex_lock(&f->lock);
    fake_peers_add(&f->peers, uri, peer->priv);
    pthread_mutex_unlock(&f->lock);
}
