#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/fake/faults.h"
#include "drivers/fake/overlay.h"

#define MAX_DEVICES 64

static const char *const op_names[] = {"ensure", "remove", "list", "attach", "ipv4_of", NULL};

struct device {
    char name[NC_IFNAME_MAX], alias[160], master[NC_IFNAME_MAX], addr[20];
    unsigned mtu;
    uint32_t vni;
};

struct fake {
    pthread_mutex_t lock;
    unsigned handles; /* open handles on this set of devices */
    struct device devs[MAX_DEVICES];
    size_t n;
    struct fake_faults faults;
};

static struct device *
find(struct fake *f, const char *name)
{
    for (size_t i = 0; i < f->n; i++)
        if (strcmp(f->devs[i].name, name) == 0)
            return &f->devs[i];
    return NULL;
}

/* Device @name with @alias, made when absent; NULL (-EEXIST) when one of
 * that name carries another alias. Caller holds the lock. */
static struct device *
ensure_device(struct fake *f, const char *name, const char *alias, int *ret_err)
{
    struct device *d = find(f, name);

    if (d && strcmp(d->alias, alias) != 0) {
        *ret_err = nc_drv_fail(-EEXIST, "device %s is not this Network's: left alone", name);
        return NULL;
    }
    if (!d && f->n == MAX_DEVICES) {
        *ret_err = nc_drv_fail(-ENOSPC, "the fake holds %d devices at most", MAX_DEVICES);
        return NULL;
    }
    if (!d) {
        d = &f->devs[f->n++];
        memset(d, 0, sizeof(*d));
        snprintf(d->name, sizeof(d->name), "%s", name);
        snprintf(d->alias, sizeof(d->alias), "%s", alias);
    }
    return d;
}

static void
fake_close(struct nc_overlay *ov)
{
    struct fake *f = ov->priv;
    bool last;

    pthread_mutex_lock(&f->lock);
    last = --f->handles == 0;
    pthread_mutex_unlock(&f->lock);
    if (last) {
        fake_faults_fini(&f->faults);
        pthread_mutex_destroy(&f->lock);
        free(f);
    }
    free(ov);
}

static int
fake_ensure(struct nc_overlay *ov, const struct nc_overlay_net *net)
{
    struct fake *f = ov->priv;
    struct device *br, *vx;
    int r;

    pthread_mutex_lock(&f->lock);
    if ((r = fake_faults_enter(&f->faults, "fake_ov", "ensure")) < 0 ||
        !(br = ensure_device(f, net->bridge, net->alias, &r)))
        goto out;
    br->mtu = net->mtu;
    snprintf(br->addr, sizeof(br->addr), "%s", net->bridge_cidr ? net->bridge_cidr : "");
    if (net->vxlan && (vx = ensure_device(f, net->vxlan, net->alias, &r))) {
        vx->vni = net->vni;
        vx->mtu = net->mtu;
        snprintf(vx->master, sizeof(vx->master), "%s", net->bridge);
    }
    if (r == 0 && net->vlan && !net->vlan_parent)
        r = nc_drv_fail(-ENODEV, "no VLAN parent device for %s", net->vlan);
    else if (r == 0 && net->vlan && (vx = ensure_device(f, net->vlan, net->alias, &r))) {
        vx->vni = net->vlan_id; /* the fake keeps a VLAN's id where a VXLAN's VNI goes */
        vx->mtu = net->mtu;
        snprintf(vx->master, sizeof(vx->master), "%s", net->bridge);
    }
out:
    pthread_mutex_unlock(&f->lock);
    return r;
}

static int
fake_remove(struct nc_overlay *ov, const char *name, const char *alias)
{
    struct fake *f = ov->priv;
    struct device *d;
    int r;

    pthread_mutex_lock(&f->lock);
    if ((r = fake_faults_enter(&f->faults, "fake_ov", "remove")) == 0 && (d = find(f, name))) {
        if (strcmp(d->alias, alias) != 0)
            r = nc_drv_fail(-EEXIST, "device %s is someone else's: left alone", name);
        else
            *d = f->devs[--f->n];
    }
    pthread_mutex_unlock(&f->lock);
    return r;
}

static int
fake_list(struct nc_overlay *ov, const char *alias_prefix,
          void (*fn)(const char *name, const char *alias, void *data), void *data)
{
    struct fake *f = ov->priv;
    struct device copy[MAX_DEVICES];
    size_t n = 0;
    int r;

    pthread_mutex_lock(&f->lock);
    if ((r = fake_faults_enter(&f->faults, "fake_ov", "list")) == 0)
        for (size_t i = 0; i < f->n; i++)
            if (strncmp(f->devs[i].alias, alias_prefix, strlen(alias_prefix)) == 0)
                copy[n++] = f->devs[i];
    pthread_mutex_unlock(&f->lock);
    /* Outside the lock: @fn may call back into the fake. */
    for (size_t i = 0; i < n; i++)
        fn(copy[i].name, copy[i].alias, data);
    return r;
}

static int
fake_attach(struct nc_overlay *ov, const char *tap, const char *bridge, const char *bridge_alias,
            const char *alias, unsigned mtu)
{
    struct fake *f = ov->priv;
    struct device *t, *br;
    int r;

    pthread_mutex_lock(&f->lock);
    if ((r = fake_faults_enter(&f->faults, "fake_ov", "attach")) < 0)
        goto out;
    if (!(t = find(f, tap)) || !(br = find(f, bridge))) {
        r = nc_drv_fail(-ENOENT, "attach %s to %s: no such device", tap, bridge);
    } else if ((t->alias[0] && strcmp(t->alias, alias) != 0) ||
               strcmp(br->alias, bridge_alias) != 0) {
        r = nc_drv_fail(-EEXIST, "attach %s to %s: not ours, left alone", tap, bridge);
    } else {
        snprintf(t->alias, sizeof(t->alias), "%s", alias);
        snprintf(t->master, sizeof(t->master), "%s", bridge);
        t->mtu = mtu;
    }
out:
    pthread_mutex_unlock(&f->lock);
    return r;
}

static int
fake_ipv4_of(struct nc_overlay *ov, const char *ifname, char out[16])
{
    struct fake *f = ov->priv;
    struct device *d;
    int r;

    pthread_mutex_lock(&f->lock);
    if ((r = fake_faults_enter(&f->faults, "fake_ov", "ipv4_of")) == 0) {
        if (!(d = find(f, ifname)) || !d->addr[0])
            r = nc_drv_fail(-ENOENT, "%s has no IPv4 address", ifname);
        else
            snprintf(out, 16, "%.*s", (int)strcspn(d->addr, "/"), d->addr);
    }
    pthread_mutex_unlock(&f->lock);
    return r;
}

static const struct nc_overlay_ops fake_ops = {
    .close = fake_close,
    .ensure = fake_ensure,
    .remove = fake_remove,
    .list = fake_list,
    .attach = fake_attach,
    .ipv4_of = fake_ipv4_of,
};

int
fake_ov_open(struct nc_overlay *share, struct nc_overlay **ret)
{
    struct nc_overlay *ov = calloc(1, sizeof(*ov));
    struct fake *f = share ? share->priv : calloc(1, sizeof(*f));

    if (!ov || !f) {
        free(ov);
        if (!share)
            free(f);
        return -ENOMEM;
    }
    if (!share) {
        pthread_mutex_init(&f->lock, NULL);
        fake_faults_init(&f->faults, op_names);
    }
    pthread_mutex_lock(&f->lock);
    f->handles++;
    pthread_mutex_unlock(&f->lock);
    ov->ops = &fake_ops;
    ov->priv = f;
    *ret = ov;
    return 0;
}

int
fake_ov_add(struct nc_overlay *ov, const char *name, const char *alias)
{
    struct fake *f = ov->priv;
    int r = 0;

    pthread_mutex_lock(&f->lock);
    ensure_device(f, name, alias ? alias : "", &r);
    pthread_mutex_unlock(&f->lock);
    return r;
}

bool
fake_ov_has(struct nc_overlay *ov, const char *name, char *ret_alias, char *ret_master)
{
    struct fake *f = ov->priv;
    struct device *d;

    pthread_mutex_lock(&f->lock);
    if ((d = find(f, name))) {
        if (ret_alias)
            snprintf(ret_alias, 160, "%s", d->alias);
        if (ret_master)
            snprintf(ret_master, NC_IFNAME_MAX, "%s", d->master);
    }
    pthread_mutex_unlock(&f->lock);
    return d != NULL;
}

void
fake_ov_fail(struct nc_overlay *ov, const char *op, int err, unsigned times)
{
    fake_faults_set(&((struct fake *)ov->priv)->faults, op, err, times);
}

unsigned
fake_ov_calls(struct nc_overlay *ov, const char *op)
{
    return fake_faults_calls(&((struct fake *)ov->priv)->faults, op);
}

void
fake_ov_sweep(struct nc_overlay *ov, struct fake_sweep *s)
{
    fake_faults_join(&((struct fake *)ov->priv)->faults, s, "ov");
}
