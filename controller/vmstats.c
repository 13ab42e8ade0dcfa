/*
 * Per-VM metrics: see vmstats.h. One libvirt call brings every domain's
 * figures; each metric family collects its samples in a stream of its
 * own while the domains go by, so that the text groups each family under
 * its HELP and TYPE as the exposition format wants, with nothing held per
 * domain.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "controller/vmstats.h"
#include "core/log.h"
#include "core/names.h"
#include "drivers/error.h"
#include "core/node.h"
#include "reconcilers/status.h"
#include "scheduler/inventory.h"

enum fam {
    F_INFO,
    F_READY,
    F_VCPUS,
    F_CPU,
    F_MEM_MAX,
    F_MEM_ACTUAL,
    F_MEM_RSS,
    F_DISK_RD_BYTES,
    F_DISK_WR_BYTES,
    F_DISK_RD_REQS,
    F_DISK_WR_REQS,
    F_NET_RX_BYTES,
    F_NET_TX_BYTES,
    F_NET_RX_PKTS,
    F_NET_TX_PKTS,
    F_NET_RX_DROP,
    F_NET_TX_DROP,
    F_NET_RX_ERRS,
    F_NET_TX_ERRS,
    F_COUNT,
};

static const struct {
    const char *name, *type, *help;
} fams[F_COUNT] = {
    [F_INFO] = {"novacron_vm_info", "gauge",
                "A VM this node runs: its libvirt domain and state (running, paused, shutoff, ...)."},
    [F_READY] = {"novacron_vm_ready", "gauge",
                 "Whether the VM's status says Ready (1) or not (0), for the VMs this node runs."},
    [F_VCPUS] = {"novacron_vm_vcpus", "gauge", "vCPUs the VM's domain has now."},
    [F_CPU] = {"novacron_vm_cpu_seconds_total", "counter",
               "CPU time the VM used, its vCPUs and its emulator together."},
    [F_MEM_MAX] = {"novacron_vm_memory_max_bytes", "gauge", "Memory the VM's domain may have."},
    [F_MEM_ACTUAL] = {"novacron_vm_memory_actual_bytes", "gauge",
                      "Memory the VM's domain has now (the balloon's size)."},
    [F_MEM_RSS] = {"novacron_vm_memory_rss_bytes", "gauge",
                   "Resident memory of the VM's emulator process on the node."},
    [F_DISK_RD_BYTES] = {"novacron_vm_disk_read_bytes_total", "counter", "Bytes the VM read from a disk."},
    [F_DISK_WR_BYTES] = {"novacron_vm_disk_write_bytes_total", "counter", "Bytes the VM wrote to a disk."},
    [F_DISK_RD_REQS] = {"novacron_vm_disk_read_requests_total", "counter", "Read requests the VM made of a disk."},
    [F_DISK_WR_REQS] = {"novacron_vm_disk_write_requests_total", "counter", "Write requests the VM made of a disk."},
    [F_NET_RX_BYTES] = {"novacron_vm_network_receive_bytes_total", "counter", "Bytes an interface of the VM received."},
    [F_NET_TX_BYTES] = {"novacron_vm_network_transmit_bytes_total", "counter", "Bytes an interface of the VM sent."},
    [F_NET_RX_PKTS] = {"novacron_vm_network_receive_packets_total", "counter", "Packets an interface of the VM received."},
    [F_NET_TX_PKTS] = {"novacron_vm_network_transmit_packets_total", "counter", "Packets an interface of the VM sent."},
    [F_NET_RX_DROP] = {"novacron_vm_network_receive_drops_total", "counter", "Packets to the VM an interface dropped."},
    [F_NET_TX_DROP] = {"novacron_vm_network_transmit_drops_total", "counter", "Packets from the VM an interface dropped."},
    [F_NET_RX_ERRS] = {"novacron_vm_network_receive_errors_total", "counter", "Receive errors of an interface of the VM."},
    [F_NET_TX_ERRS] = {"novacron_vm_network_transmit_errors_total", "counter", "Transmit errors of an interface of the VM."},
};

struct render {
    struct nc_env *env;
    struct evbuffer *f[F_COUNT]; /* each family's samples */
    bool failed;                 /* out of memory somewhere */
    size_t by_state[NC_DOM_OTHER + 1];
    uint64_t vcpus, memory_kib; /* what the running domains hold */
};

/* Appends to @f, noting a failure (out of memory) in @r. */
static void
add(struct render *r, struct evbuffer *f, const char *s, size_t n)
{
    if (evbuffer_add(f, s, n) < 0)
        r->failed = true;
}

static void
put(struct render *r, struct evbuffer *f, const char *s)
{
    add(r, f, s, strlen(s));
}

static void __attribute__((format(printf, 3, 4)))
addf(struct render *r, struct evbuffer *f, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    if (evbuffer_add_vprintf(f, fmt, ap) < 0)
        r->failed = true;
    va_end(ap);
}

/* A label value as the exposition format quotes it: \, " and newline
 * escaped (names are DNS labels already; this keeps it so whatever comes). */
static void
put_value(struct render *r, struct evbuffer *f, const char *v)
{
    size_t n;

    for (;;) {
        n = strcspn(v, "\\\"\n");
        add(r, f, v, n);
        v += n;
        if (!*v)
            return;
        add(r, f, *v == '\n' ? "\\n" : *v == '"' ? "\\\"" : "\\\\", 2);
        v++;
    }
}

/* The start of a sample of @fam: its name and the labels every VM's
 * sample has, up to the closing quote of the last. */
static struct evbuffer *
labels(struct render *r, enum fam fam, const char *ns, const char *name)
{
    struct evbuffer *f = r->f[fam];

    put(r, f, fams[fam].name);
    put(r, f, "{namespace=\"");
    put_value(r, f, ns);
    put(r, f, "\",name=\"");
    put_value(r, f, name);
    put(r, f, "\",node=\"");
    put_value(r, f, r->env->node);
    return f;
}

/* One sample: @fam{namespace, name, node[, @key="@value"]} @v. */
static void
sample(struct render *r, enum fam fam, const char *ns, const char *name, const char *key,
       const char *value, double v)
{
    struct evbuffer *f = labels(r, fam, ns, name);

    if (key && value) {
        addf(r, f, "\",%s=\"", key);
        put_value(r, f, value);
    }
    addf(r, f, "\"} %.17g\n", v);
}

/* The names the VM's status gives its disks (by file) and interfaces (by
 * tap): the spec's, which people know, rather than libvirt's vda, vnet3. */
static const char *
device_name(const cJSON *list, const char *member, const char *value, const char *fallback)
{
    const cJSON *e;

    cJSON_ArrayForEach(e, list) {
        const char *v = cJSON_GetStringValue(cJSON_GetObjectItem(e, member));
        const char *n = cJSON_GetStringValue(cJSON_GetObjectItem(e, "name"));

        if (v && n && value[0] && strcmp(v, value) == 0)
            return n;
    }
    return fallback;
}

static void
on_domain(const struct nc_domstats *st, void *data)
{
    struct render *r = data;
    char ns[NC_NAME_MAX + 1], name[NC_NAME_MAX + 1], *text = NULL;
    cJSON *status = NULL, *disks, *ifaces;
    struct evbuffer *f;

    if (!nc_domain_name_parse(r->env->install_hash, st->name, ns, name))
        return; /* not ours */
    r->by_state[st->state]++;
    if (st->state != NC_DOM_SHUTOFF) {
        r->vcpus += st->vcpus;
        r->memory_kib += st->memory_max_kib;
    }
    if (nc_informer_getf(r->env->statuses, &text, NULL, "%sstatus/%s/vm/%s", r->env->prefix, ns,
                         name) == 0)
        status = cJSON_Parse(text);
    free(text);
    disks = cJSON_GetObjectItem(status, "disks");
    ifaces = cJSON_GetObjectItem(status, "interfaces");

    f = labels(r, F_INFO, ns, name);
    put(r, f, "\",domain=\"");
    put_value(r, f, st->name);
    addf(r, f, "\",state=\"%s\"} 1\n", nc_dom_state_names[st->state]);
    if (status)
        sample(r, F_READY, ns, name, NULL, NULL, nc_status_condition_true(status, "Ready"));
    if (st->has_vcpus && st->state != NC_DOM_SHUTOFF)
        sample(r, F_VCPUS, ns, name, NULL, NULL, st->vcpus);
    if (st->has_cpu)
        sample(r, F_CPU, ns, name, NULL, NULL, (double)st->cpu_time_ns / 1e9);
    if (st->has_balloon) {
        sample(r, F_MEM_MAX, ns, name, NULL, NULL, (double)st->memory_max_kib * 1024);
        sample(r, F_MEM_ACTUAL, ns, name, NULL, NULL, (double)st->memory_actual_kib * 1024);
        if (st->memory_rss_kib)
            sample(r, F_MEM_RSS, ns, name, NULL, NULL, (double)st->memory_rss_kib * 1024);
    }
    for (unsigned i = 0; i < st->n_disks; i++) {
        const struct nc_blockstats *b = &st->disks[i];
        const char *disk = device_name(disks, "path", b->path, b->dev);

        sample(r, F_DISK_RD_BYTES, ns, name, "disk", disk, (double)b->rd_bytes);
        sample(r, F_DISK_WR_BYTES, ns, name, "disk", disk, (double)b->wr_bytes);
        sample(r, F_DISK_RD_REQS, ns, name, "disk", disk, (double)b->rd_reqs);
        sample(r, F_DISK_WR_REQS, ns, name, "disk", disk, (double)b->wr_reqs);
    }
    for (unsigned i = 0; i < st->n_nets; i++) {
        const struct nc_netstats *n = &st->nets[i];
        const char *ifc = device_name(ifaces, "device", n->dev, n->dev);

        sample(r, F_NET_RX_BYTES, ns, name, "interface", ifc, (double)n->rx_bytes);
        sample(r, F_NET_TX_BYTES, ns, name, "interface", ifc, (double)n->tx_bytes);
        sample(r, F_NET_RX_PKTS, ns, name, "interface", ifc, (double)n->rx_pkts);
        sample(r, F_NET_TX_PKTS, ns, name, "interface", ifc, (double)n->tx_pkts);
        sample(r, F_NET_RX_DROP, ns, name, "interface", ifc, (double)n->rx_drop);
        sample(r, F_NET_TX_DROP, ns, name, "interface", ifc, (double)n->tx_drop);
        sample(r, F_NET_RX_ERRS, ns, name, "interface", ifc, (double)n->rx_errs);
        sample(r, F_NET_TX_ERRS, ns, name, "interface", ifc, (double)n->tx_errs);
    }
    cJSON_Delete(status);
}

/* The node's own figures: its registration's allocatable resources and
 * what its domains hold, its domains by state, and what this took. */
static void
node_metrics(struct render *r, struct evbuffer *out, double seconds)
{
    struct nc_sched_node n;
    char *text = NULL;
    bool registered;

    addf(r, out,
         "# HELP novacron_node_domains NovaCron's domains on the node, by state.\n"
         "# TYPE novacron_node_domains gauge\n");
    for (int s = 0; s <= NC_DOM_OTHER; s++)
        addf(r, out, "novacron_node_domains{node=\"%s\",state=\"%s\"} %zu\n", r->env->node,
             nc_dom_state_names[s], r->by_state[s]);
    addf(r, out,
         "# HELP novacron_node_domain_vcpus vCPUs the node's running domains hold.\n"
         "# TYPE novacron_node_domain_vcpus gauge\n"
         "novacron_node_domain_vcpus{node=\"%s\"} %llu\n"
         "# HELP novacron_node_domain_memory_bytes Memory the node's running domains may "
         "have.\n"
         "# TYPE novacron_node_domain_memory_bytes gauge\n"
         "novacron_node_domain_memory_bytes{node=\"%s\"} %llu\n",
         r->env->node, (unsigned long long)r->vcpus, r->env->node,
         (unsigned long long)r->memory_kib * 1024);
    registered = nc_informer_getf(r->env->nodes, &text, NULL, "%snodes/%s", r->env->prefix,
                                  r->env->node) == 0;
    addf(r, out,
         "# HELP novacron_node_registered Whether the node's registration (bound to its "
         "etcd lease) is there.\n"
         "# TYPE novacron_node_registered gauge\n"
         "novacron_node_registered{node=\"%s\"} %d\n",
         r->env->node, registered && r->env->self && nc_node_lease(r->env->self) != 0);
    if (registered && nc_sched_node_parse(r->env->node, text, &n) == 0) {
        addf(r, out,
             "# HELP novacron_node_allocatable_vcpus vCPUs the node offers VMs (its CPUs "
             "less --reserve-cpu, before overcommit).\n"
             "# TYPE novacron_node_allocatable_vcpus gauge\n"
             "novacron_node_allocatable_vcpus{node=\"%s\"} %u\n"
             "# HELP novacron_node_allocatable_memory_bytes Memory the node offers VMs (less "
             "--reserve-memory, before overcommit).\n"
             "# TYPE novacron_node_allocatable_memory_bytes gauge\n"
             "novacron_node_allocatable_memory_bytes{node=\"%s\"} %llu\n",
             r->env->node, n.vcpus, r->env->node, (unsigned long long)n.memory);
        nc_sched_node_clear(&n);
    }
    free(text);
    addf(r, out,
         "# HELP novacron_vm_stats_duration_seconds How long reading and writing the VM "
         "metrics took at this scrape.\n"
         "# TYPE novacron_vm_stats_duration_seconds gauge\n"
         "novacron_vm_stats_duration_seconds{node=\"%s\"} %.6f\n",
         r->env->node, seconds);
}

int
nc_vmstats_render(struct nc_env *env, struct evbuffer *out)
{
    struct render r = {.env = env};
    struct timespec t0, t1;
    int err;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < F_COUNT && !r.failed; i++)
        r.failed = !(r.f[i] = evbuffer_new());
    for (int rt = 0; !r.failed && rt < NC_RUNTIME_COUNT; rt++)
        if (nc_env_runtime(env, rt) &&
            (err = nc_hv_stats(nc_env_runtime(env, rt), on_domain, &r)) < 0 && err != -ENOTSUP)
            nc_warn(NULL, "metrics of %s VMs left out of this scrape: %s", nc_runtime_names[rt],
                    nc_drv_errmsg());
    /* Each family's samples move into @out, chunk by chunk, uncopied. */
    for (int i = 0; i < F_COUNT && !r.failed; i++)
        if (evbuffer_get_length(r.f[i])) {
            addf(&r, out, "# HELP %s %s\n# TYPE %s %s\n", fams[i].name, fams[i].help,
                 fams[i].name, fams[i].type);
            r.failed |= evbuffer_add_buffer(out, r.f[i]) < 0;
        }
    for (int i = 0; i < F_COUNT; i++)
        if (r.f[i])
            evbuffer_free(r.f[i]);
    if (r.failed)
        return -ENOMEM;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    node_metrics(&r, out, (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
    return r.failed ? -ENOMEM : 0;
}
