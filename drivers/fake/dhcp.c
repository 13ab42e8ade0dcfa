#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/fake/dhcp.h"
#include "drivers/fake/faults.h"

#define MAX_SERVERS 16
#define MAX_HOSTS 64

static const char *const op_names[] = {"ensure", "stop", NULL};

struct server {
    char bridge[16];
    struct nc_dhcp_host hosts[MAX_HOSTS];
    size_t n;
};

struct fake {
    pthread_mutex_t lock;
    struct server servers[MAX_SERVERS];
    size_t n;
    struct fake_faults faults;
};

static struct server *
find(struct fake *f, const char *bridge)
{
    for (size_t i = 0; i < f->n; i++)
        if (strcmp(f->servers[i].bridge, bridge) == 0)
            return &f->servers[i];
    return NULL;
}

static int
fake_ensure(struct nc_dhcp *dhcp, const struct nc_dnsmasq *d, bool *ret_changed)
{
    struct fake *f = dhcp->priv;
    struct server *s;
    int r;

    *ret_changed = false;
    pthread_mutex_lock(&f->lock);
    if ((r = fake_faults_enter(&f->faults, "fake_dhcp", "ensure")) < 0)
        goto out;
    if (!(s = find(f, d->bridge))) {
        if (f->n == MAX_SERVERS) {
            r = nc_drv_fail(-ENOSPC, "ensure: the fake runs %d servers at most", MAX_SERVERS);
            goto out;
        }
        s = &f->servers[f->n++];
        memset(s, 0, sizeof(*s));
        snprintf(s->bridge, sizeof(s->bridge), "%s", d->bridge);
    }
    *ret_changed = s->n != d->n_hosts ||
                   memcmp(s->hosts, d->hosts, d->n_hosts * sizeof(*d->hosts)) != 0;
    s->n = d->n_hosts < MAX_HOSTS ? d->n_hosts : MAX_HOSTS;
    memcpy(s->hosts, d->hosts, s->n * sizeof(*s->hosts));
out:
    pthread_mutex_unlock(&f->lock);
    return r;
}

static int
fake_stop(struct nc_dhcp *dhcp, const char *dir, const char *bridge)
{
    struct fake *f = dhcp->priv;
    struct server *s;
    int r;

    (void)dir;
    pthread_mutex_lock(&f->lock);
    if ((r = fake_faults_enter(&f->faults, "fake_dhcp", "stop")) == 0 && (s = find(f, bridge)))
        *s = f->servers[--f->n];
    pthread_mutex_unlock(&f->lock);
    return r;
}

static const struct nc_dhcp_ops fake_ops = {
    .ensure = fake_ensure,
    .stop = fake_stop,
};

int
fake_dhcp_open(struct nc_dhcp **ret)
{
    struct nc_dhcp *dhcp = calloc(1, sizeof(*dhcp));
    struct fake *f = calloc(1, sizeof(*f));

    if (!dhcp || !f) {
        free(dhcp);
        free(f);
        return -ENOMEM;
    }
    pthread_mutex_init(&f->lock, NULL);
    fake_faults_init(&f->faults, op_names);
    dhcp->ops = &fake_ops;
    dhcp->priv = f;
    *ret = dhcp;
    return 0;
}

void
fake_dhcp_close(struct nc_dhcp *dhcp)
{
    struct fake *f;

    if (!dhcp)
        return;
    f = dhcp->priv;
    fake_faults_fini(&f->faults);
    pthread_mutex_destroy(&f->lock);
    free(f);
    free(dhcp);
}

int
fake_dhcp_hosts(struct nc_dhcp *dhcp, const char *bridge, struct nc_dhcp_host *ret, size_t max)
{
    struct fake *f = dhcp->priv;
    struct server *s;
    int n = -1;

    pthread_mutex_lock(&f->lock);
    if ((s = find(f, bridge))) {
        n = (int)s->n;
        memcpy(ret, s->hosts, (s->n < max ? s->n : max) * sizeof(*ret));
    }
    pthread_mutex_unlock(&f->lock);
    return n;
}

void
fake_dhcp_fail(struct nc_dhcp *dhcp, const char *op, int err, unsigned times)
{
    fake_faults_set(&((struct fake *)dhcp->priv)->faults, op, err, times);
}

void
fake_dhcp_sweep(struct nc_dhcp *dhcp, struct fake_sweep *s)
{
    fake_faults_join(&((struct fake *)dhcp->priv)->faults, s, "dhcp");
}
