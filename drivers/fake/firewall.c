#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/fake/firewall.h"

#define MAX_TABLES  16
#define MAX_DEVICES 8
#define MAX_PORTS 16

static const char *const op_names[] = {"ensure_egress", "remove", "port_set", "port_forget",
                                       "policies", NULL};

struct table {
    char name[16], mark[NC_FW_MARK_MAX], via[16];
};

struct port {
    char tap[16], mac[18], ip[16];
    bool secure;
    uint64_t in, out;
    uint32_t burst;
};

struct fake {
    pthread_mutex_t lock;
    struct table tables[MAX_TABLES];
    size_t n;
    char devices[MAX_DEVICES][16];
    size_t n_devices;
    struct port ports[MAX_PORTS];
    size_t n_ports;
    char *policies; /* what fake_policies() last made, NULL: no table */
    struct fake_faults faults;
};

static struct table *
find(struct fake *f, const char *name)
{
    for (size_t i = 0; i < f->n; i++)
        if (strcmp(f->tables[i].name, name) == 0)
            return &f->tables[i];
    return NULL;
}

/* Whether table @t may be changed by the owner of @mark (cut as nft cuts). */
static int
check_owner(const struct table *t, const char *mark)
{
    char want[NC_FW_MARK_MAX];

    snprintf(want, sizeof(want), "%s", mark);
    return strcmp(t->mark, want) == 0
               ? 0
               : nc_drv_fail(-EEXIST, "fake_fw: table %s is not ours", t->name);
}

static int
fake_ensure_egress(struct nc_fw *fw, const struct nc_egress *e)
{
    struct fake *f = fw->priv;
    struct table *t;
    bool found = !e->via;
    int r;

    pthread_mutex_lock(&f->lock);
    for (size_t i = 0; i < f->n_devices && !found; i++)
        found = strcmp(f->devices[i], e->via) == 0;
    if ((r = fake_faults_enter(&f->faults, "fake_fw", "ensure_egress")) < 0)
        goto out;
    if (!found) {
        r = nc_drv_fail(-ENODEV, "no device %s", e->via);
        goto out;
    }
    if ((t = find(f, e->table)) && (r = check_owner(t, e->mark)) < 0)
        goto out;
    if (!t) {
        if (f->n == MAX_TABLES) {
            r = nc_drv_fail(-ENOSPC, "fake_fw: %d tables at most", MAX_TABLES);
            goto out;
        }
        t = &f->tables[f->n++];
        snprintf(t->name, sizeof(t->name), "%s", e->table);
        snprintf(t->mark, sizeof(t->mark), "%s", e->mark);
    }
    snprintf(t->via, sizeof(t->via), "%s", e->via ? e->via : "");
out:
    pthread_mutex_unlock(&f->lock);
    return r;
}

static int
fake_remove(struct nc_fw *fw, const char *table, const char *mark)
{
    struct fake *f = fw->priv;
    struct table *t;
    int r;

    pthread_mutex_lock(&f->lock);
    if ((r = fake_faults_enter(&f->faults, "fake_fw", "remove")) == 0 && (t = find(f, table)) &&
        (r = check_owner(t, mark)) == 0)
        *t = f->tables[--f->n];
    pthread_mutex_unlock(&f->lock);
    return r;
}

static struct port *
find_port(struct fake *f, const char *tap)
{
    for (size_t i = 0; i < f->n_ports; i++)
        if (strcmp(f->ports[i].tap, tap) == 0)
            return &f->ports[i];
    return NULL;
}

static int
fake_port_set(struct nc_fw *fw, const struct nc_port *p)
{
    struct fake *f = fw->priv;
    struct port *q;
    int r;

    pthread_mutex_lock(&f->lock);
    if ((r = fake_faults_enter(&f->faults, "fake_fw", "port_set")) == 0) {
        if (!(q = find_port(f, p->tap)) && f->n_ports < MAX_PORTS)
            q = &f->ports[f->n_ports++];
        if (!q) {
            r = nc_drv_fail(-ENOSPC, "fake_fw: %d ports at most", MAX_PORTS);
        } else {
            memset(q, 0, sizeof(*q));
            snprintf(q->tap, sizeof(q->tap), "%s", p->tap);
            snprintf(q->mac, sizeof(q->mac), "%s", p->secure ? p->mac : "");
            snprintf(q->ip, sizeof(q->ip), "%s", p->secure ? p->ip : "");
            q->secure = p->secure;
            q->in = p->in;
            q->out = p->out;
            q->burst = p->in || p->out ? p->burst : 0;
        }
    }
    pthread_mutex_unlock(&f->lock);
    return r;
}

static int
fake_port_forget(struct nc_fw *fw, const char *table, const char *mark, const char *tap)
{
    struct fake *f = fw->priv;
    struct port *q;
    int r;

    (void)table;
    (void)mark;
    pthread_mutex_lock(&f->lock);
    if ((r = fake_faults_enter(&f->faults, "fake_fw", "port_forget")) == 0 &&
        (q = find_port(f, tap)))
        *q = f->ports[--f->n_ports];
    pthread_mutex_unlock(&f->lock);
    return r;
}

static void
print_addrs(FILE *o, const char *what, const struct nc_fw_addrs *a)
{
    fprintf(o, " %s=", what);
    for (size_t i = 0; i < a->n; i++)
        fprintf(o, "%s%s", i ? "," : "", a->a[i]);
}

/* The policies as one line per policy and per rule: "ID vms=A,B in out",
 * then " in0 any" or " in0 vms=C cidrs=D ports=tcp:80-90". */
static int
fake_policies(struct nc_fw *fw, const char *table, const char *mark,
              const struct nc_fw_policy *pols, size_t n)
{
    static const char *const proto[] = {"tcp", "udp", "sctp"};
    struct fake *f = fw->priv;
    char *text = NULL;
    size_t len = 0;
    FILE *o;
    int r;

    (void)table;
    (void)mark;
    pthread_mutex_lock(&f->lock);
    if ((r = fake_faults_enter(&f->faults, "fake_fw", "policies")) < 0)
        goto out;
    if (!(o = open_memstream(&text, &len))) {
        r = -ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        const struct nc_fw_policy *p = &pols[i];

        fprintf(o, "%s", p->id);
        print_addrs(o, "vms", &p->vms);
        fprintf(o, "%s%s\n", p->ingress ? " in" : "", p->egress ? " out" : "");
        for (size_t k = 0; k < p->n_in + p->n_out; k++) {
            const struct nc_fw_rule *rule = k < p->n_in ? &p->in[k] : &p->out[k - p->n_in];

            fprintf(o, " %s%zu", k < p->n_in ? "in" : "out", k < p->n_in ? k : k - p->n_in);
            if (rule->any)
                fprintf(o, " any");
            if (rule->has_vms)
                print_addrs(o, "vms", &rule->vms);
            if (rule->cidrs.n)
                print_addrs(o, "cidrs", &rule->cidrs);
            for (size_t j = 0; j < rule->n_ports; j++)
                fprintf(o, "%s%s:%u-%u", j ? "," : " ports=", proto[rule->ports[j].proto],
                        rule->ports[j].first, rule->ports[j].last);
            fprintf(o, "\n");
        }
    }
    fclose(o);
    free(f->policies);
    f->policies = n ? text : NULL;
    if (!n)
        free(text);
out:
    pthread_mutex_unlock(&f->lock);
    return r;
}

char *
fake_fw_policies(struct nc_fw *fw)
{
    struct fake *f = fw->priv;
    char *copy;

    pthread_mutex_lock(&f->lock);
    copy = f->policies ? strdup(f->policies) : NULL;
    pthread_mutex_unlock(&f->lock);
    return copy;
}

static void
fake_close(struct nc_fw *fw)
{
    struct fake *f = fw->priv;

    fake_faults_fini(&f->faults);
    pthread_mutex_destroy(&f->lock);
    free(f->policies);
    free(f);
    free(fw);
}

static const struct nc_fw_ops fake_ops = {
    .close = fake_close,
    .ensure_egress = fake_ensure_egress,
    .remove = fake_remove,
    .port_set = fake_port_set,
    .port_forget = fake_port_forget,
    .policies = fake_policies,
};

int
fake_fw_open(struct nc_fw **ret)
{
    struct nc_fw *fw = calloc(1, sizeof(*fw));
    struct fake *f = calloc(1, sizeof(*f));

    if (!fw || !f) {
        free(fw);
        free(f);
        return -ENOMEM;
    }
    pthread_mutex_init(&f->lock, NULL);
    fake_faults_init(&f->faults, op_names);
    *fw = (struct nc_fw){.ops = &fake_ops, .priv = f};
    *ret = fw;
    return 0;
}

bool
fake_fw_has(struct nc_fw *fw, const char *table, char via[16])
{
    struct fake *f = fw->priv;
    struct table *t;

    pthread_mutex_lock(&f->lock);
    if ((t = find(f, table)) && via)
        snprintf(via, 16, "%s", t->via);
    pthread_mutex_unlock(&f->lock);
    return t != NULL;
}

size_t
fake_fw_count(struct nc_fw *fw)
{
    struct fake *f = fw->priv;
    size_t n;

    pthread_mutex_lock(&f->lock);
    n = f->n;
    pthread_mutex_unlock(&f->lock);
    return n;
}

void
fake_fw_add_foreign(struct nc_fw *fw, const char *table, const char *mark)
{
    struct fake *f = fw->priv;

    pthread_mutex_lock(&f->lock);
    if (f->n < MAX_TABLES) {
        snprintf(f->tables[f->n].name, sizeof(f->tables[0].name), "%s", table);
        snprintf(f->tables[f->n].mark, sizeof(f->tables[0].mark), "%s", mark);
        f->tables[f->n++].via[0] = '\0';
    }
    pthread_mutex_unlock(&f->lock);
}

void
fake_fw_add_device(struct nc_fw *fw, const char *name)
{
    struct fake *f = fw->priv;

    pthread_mutex_lock(&f->lock);
    if (f->n_devices < MAX_DEVICES)
        snprintf(f->devices[f->n_devices++], sizeof(f->devices[0]), "%s", name);
    pthread_mutex_unlock(&f->lock);
}

void
fake_fw_fail(struct nc_fw *fw, const char *op, int err, unsigned times)
{
    fake_faults_set(&((struct fake *)fw->priv)->faults, op, err, times);
}

void
fake_fw_sweep(struct nc_fw *fw, struct fake_sweep *s)
{
    fake_faults_join(&((struct fake *)fw->priv)->faults, s, "fw");
}

int
fake_fw_port(struct nc_fw *fw, const char *tap, char mac[18], char ip[16])
{
    struct fake *f = fw->priv;
    struct port *q;
    int r = -1;

    pthread_mutex_lock(&f->lock);
    if ((q = find_port(f, tap))) {
        r = q->secure;
        snprintf(mac, 18, "%s", q->mac);
        snprintf(ip, 16, "%s", q->ip);
    }
    pthread_mutex_unlock(&f->lock);
    return r;
}

int
fake_fw_port_bandwidth(struct nc_fw *fw, const char *tap, uint64_t *in, uint64_t *out,
                       uint32_t *burst)
{
    struct fake *f = fw->priv;
    struct port *q;
    int r = -1;

    pthread_mutex_lock(&f->lock);
    if ((q = find_port(f, tap))) {
        *in = q->in;
        *out = q->out;
        *burst = q->burst;
        r = 0;
    }
    pthread_mutex_unlock(&f->lock);
    return r;
}
