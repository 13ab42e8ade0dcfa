/*
 * novacrond: wires the pieces together (README.md, "Layout"). The main thread
 * runs the libevent loop, which owns the etcd watch, the HTTP endpoint,
 * the timers and the signals; worker threads take keys from the work queue
 * and reconcile them.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <libxml/parser.h>
#include <systemd/sd-daemon.h>

#include "controller/config.h"
#include "controller/http.h"
#include "controller/vmstats.h"
#include "controller/leader.h"
#include "controller/workers.h"
#include "core/clock.h"
#include "core/commit.h"
#include "core/informer.h"
#include "core/log.h"
#include "core/names.h"
#include "core/node.h"
#include "core/workqueue.h"
#include "drivers/dnsmasq.h"
#include "drivers/firewall.h"
#include "drivers/libvirt.h"
#include "drivers/podman.h"
#include "drivers/overlay.h"
#include "drivers/storage.h"
#include "reconcilers/moves.h"
#include "reconcilers/networkpolicy.h"
#include "reconcilers/reconciler.h"
#include "schema/validate.h"

struct daemon {
    struct nc_config cfg;
    struct nc_etcd_conf etcd_conf;
    struct event_base *base;
    struct nc_env env;
    struct nc_wq *q;
    struct nc_workers *workers;
    struct nc_http *http;
    struct nc_leader *leader;
    struct nc_informer *cordons, *leader_key;
    struct event *sig_term, *sig_int, *tick, *resync, *watchdog;
    size_t spec_prefix_len, status_prefix_len, placement_prefix_len;
    bool notified_ready;
    bool lease_lost_seen; /* the resync that a lost lease calls for is queued */
    int64_t last_queue_report_ms;
    int lock_fd; /* <run-dir>/<node>.lock, held while the process lives */
};

/* Queues "<ns>/<kind>/<name>" from the end of a spec or status key. A key
 * of any other shape can name no object (a name that is not a DNS label,
 * an unknown kind, a key too long for any of them): it is logged and left
 * alone, never queued in a form cut short. */
static void
queue_object(const char *rest, struct nc_wq *q)
{
    char ns[NC_NAME_MAX + 1], kind[16], name[NC_NAME_MAX + 1];
    int r;

    if (!nc_key_parse(rest, ns, kind, name)) {
        nc_warn(rest, "ignored: a key ends in NAMESPACE/KIND/NAME, namespace and name DNS "
                      "labels (at most 63 characters), KIND one of the API's (vm, network...)");
        return;
    }
    if ((r = nc_wq_add(q, rest)) < 0)
        nc_error(rest, "cannot queue: %s", strerror(-r));
}

/* spec/<ns>/<kind>/<name> changed. */
static void
on_spec_changed(void *data, const char *key)
{
    struct daemon *d = data;

    if (strlen(key) > d->spec_prefix_len) {
        queue_object(key + d->spec_prefix_len, d->q);
        if (strstr(key + d->spec_prefix_len, "/vm/"))
            nc_netpol_vm_changed(&d->env); /* its labels */
    }
    nc_leader_note(d->leader, key);
}

static void queue_networks(struct daemon *d, const char *ns, const char *name);

/* A Migration's status changed: the index of moves follows, and the VM
 * (whose node it decides) and its Networks (realised on its target
 * first) are looked at again. */
static void
migration_changed(struct daemon *d, const char *key)
{
    char ns[NC_NAME_MAX + 1], kind[16], name[NC_NAME_MAX + 1], vmkey[160];
    char *value = NULL;
    const char *vm;
    int64_t rev;
    cJSON *st = NULL;

    nc_leader_note(d->leader, key);
    if (!nc_key_parse(key + d->status_prefix_len, ns, kind, name))
        return;
    if (nc_informer_get(d->env.statuses, key, &value, &rev) == 0)
        st = cJSON_Parse(value);
    nc_moves_note(d->env.moves, ns, name, value, rev);
    vm = cJSON_GetStringValue(cJSON_GetObjectItem(st, "vm"));
    if (vm && nc_is_dns_label(vm)) {
        snprintf(vmkey, sizeof(vmkey), "%s/vm/%s", ns, vm);
        queue_object(vmkey, d->q);
        queue_networks(d, ns, vm);
    }
    cJSON_Delete(st);
    free(value);
}

/*
 * status/<ns>/<kind>/<name> changed, and not by this process: its own
 * writes usually reach the cache before the watch brings them back, which
 * is then no news, and one the watch brings first comes while its object
 * is in flight, so that one is let be. So another node wrote it, or
 * someone who should not have (status is output, never input, but etcd
 * may let anyone write it): the object is looked at again, and a status
 * that is not the truth is written again within moments, not at the next
 * resync. A Volume's status that names a node is that node's (where the
 * Volume lives), so only that node answers.
 */
static void
on_status_changed(void *data, const char *key)
{
    struct daemon *d = data;
    const char *rest = key + d->status_prefix_len, *seg = strchr(rest, '/');
    char *value = NULL;
    int64_t rev;

    if (strlen(key) <= d->status_prefix_len)
        return;
    if (seg && strncmp(seg, "/volume/", 8) == 0)
        nc_leader_note(d->leader, key); /* where a Volume is binds its VMs */
    if (seg && strncmp(seg, "/migration/", 11) == 0)
        migration_changed(d, key);
    if (seg && strncmp(seg, "/vm/", 4) == 0) {
        nc_netpol_vm_changed(&d->env); /* its addresses or node */
        nc_leader_note(d->leader, key); /* its phase, which a Migration may wait for */
    }
    if (nc_wq_in_flight(d->q, rest))
        return;
    if (seg && strncmp(seg, "/volume/", 8) == 0 &&
        nc_informer_get(d->env.statuses, key, &value, &rev) == 0) {
        cJSON *st = cJSON_Parse(value);
        const char *node = cJSON_GetStringValue(cJSON_GetObjectItem(st, "node"));
        bool other = node && strcmp(node, d->env.node) != 0;

        cJSON_Delete(st);
        free(value);
        if (other)
            return;
    }
    queue_object(rest, d->q);
}

/* Queues the Networks VM @ns/@name is on (its spec's, else its status'),
 * whose nodes and forwarding entries follow where their VMs are. */
static void
queue_networks(struct daemon *d, const char *ns, const char *name)
{
    const char *spaces[] = {"spec/%s/vm/%s", "status/%s/vm/%s"};
    const cJSON *ifc;

    for (int i = 0; i < 2; i++) {
        char key[400], path[200], *value = NULL;
        int64_t rev;
        cJSON *doc, *list;

        snprintf(path, sizeof(path), spaces[i], ns, name);
        snprintf(key, sizeof(key), "%s%s", d->cfg.prefix, path);
        if (nc_informer_get(i ? d->env.statuses : d->env.specs, key, &value, &rev) < 0)
            continue;
        doc = cJSON_Parse(value);
        free(value);
        list = i ? cJSON_GetObjectItem(doc, "interfaces")
                 : cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "spec"), "interfaces");
        cJSON_ArrayForEach(ifc, list) {
            const char *net = cJSON_GetStringValue(cJSON_GetObjectItem(ifc, "network"));
            char netkey[160];

            if (net && nc_is_dns_label(net)) {
                snprintf(netkey, sizeof(netkey), "%s/network/%s", ns, net);
                queue_object(netkey, d->q);
            }
        }
        cJSON_Delete(doc);
        return;
    }
}

/* placement/<ns>/<name> changed (placed, moved, or let go after its
 * teardown): the VM is looked at again, and so are its Networks. */
static void
on_placement_changed(void *data, const char *key)
{
    struct daemon *d = data;
    const char *rest = key + d->placement_prefix_len;
    const char *slash = strchr(rest, '/');
    char vmkey[160], ns[NC_NAME_MAX + 1];

    nc_leader_note(d->leader, key);
    if (strlen(key) <= d->placement_prefix_len || !slash || slash - rest > NC_NAME_MAX)
        return;
    snprintf(vmkey, sizeof(vmkey), "%.*s/vm/%s", (int)(slash - rest), rest, slash + 1);
    if (nc_wq_add(d->q, vmkey) < 0)
        nc_error(key, "cannot queue: out of memory");
    snprintf(ns, sizeof(ns), "%.*s", (int)(slash - rest), rest);
    queue_networks(d, ns, slash + 1);
}

/* A node came or went: every Network looks again at its peers. */
static void
on_network_spec(void *data, const char *key)
{
    struct daemon *d = data;
    const char *rest = key + d->spec_prefix_len, *seg = strchr(rest, '/');

    if (seg && strncmp(seg, "/network/", 9) == 0)
        on_spec_changed(d, key);
}

/* A Volume with a status and no spec: deleted, and not yet deleted by its
 * node, which may be one that just went (a node sharing its pool then
 * stands in for it, reconcilers/volume.c). */
static void
on_deleted_volume(void *data, const char *key)
{
    struct daemon *d = data;
    const char *rest = key + d->status_prefix_len, *seg = strchr(rest, '/');
    char *value = NULL;

    if (strlen(key) > d->status_prefix_len && seg && strncmp(seg, "/volume/", 8) == 0 &&
        nc_informer_getf(d->env.specs, &value, NULL, "%sspec/%s", d->env.prefix, rest) ==
            -ENOENT)
        queue_object(rest, d->q);
    free(value);
}

static void
on_node_changed(void *data, const char *key)
{
    struct daemon *d = data;
    char *value = NULL;
    int64_t rev;

    nc_leader_note(d->leader, key);
    nc_informer_foreach(d->env.specs, on_network_spec, d);
    /* A node went, maybe with Volumes deleted on its way out that it had
     * yet to delete. */
    if (nc_informer_get(d->env.nodes, key, &value, &rev) == -ENOENT)
        nc_informer_foreach(d->env.statuses, on_deleted_volume, d);
    free(value);
    /* This node registered again after its lease expired: it was taken for
     * dead, and what the cluster deleted meanwhile is now its to collect
     * (nc_run_may_collect()). Its workers may have looked at those before
     * the lease was found gone, so they look again. */
    if (!d->lease_lost_seen && nc_node_lease_lost(d->env.self)) {
        d->lease_lost_seen = true;
        nc_info(NULL, "this node was taken for dead: re-examining what it keeps");
        if (nc_wq_add(d->q, NC_KEY_RESYNC_ACTUAL) < 0)
            nc_error(NULL, "cannot queue the resync: out of memory");
    }
}

/* A cordon or the leader key changed: the scheduler looks again. */
static void
on_scheduling_changed(void *data, const char *key)
{
    struct daemon *d = data;

    nc_leader_note(d->leader, key);
}

/* A reconciler asks for another object to be looked at (any thread). */
static void
enqueue_key(void *data, const char *key)
{
    struct daemon *d = data;
    int r = nc_wq_add(d->q, key);

    if (r < 0)
        nc_error(key, "cannot queue: %s", strerror(-r));
}

/* libvirt saw one of our domains change (on libvirt's event thread). */
static void
on_domain_event(void *data, const char *domname)
{
    struct daemon *d = data;
    char ns[NC_NAME_MAX + 1], name[NC_NAME_MAX + 1], key[160];

    if (!nc_domain_name_parse(d->env.install_hash, domname, ns, name))
        return;
    snprintf(key, sizeof(key), "%s/vm/%s", ns, name);
    if (nc_wq_add(d->q, key) < 0)
        nc_error(key, "cannot queue: out of memory");
}

/* libvirtd came back: events may have been missed, so look at everything. */
/*
 * The process runtime: libvirt's LXC driver, by default the one of the
 * libvirtd that runs the guests (qemu...:// becomes lxc...://, so every
 * node keeps its processes where it keeps its guests). A node without it
 * runs no processes, and says so in their status.
 */
static void
open_process_runtime(struct daemon *d)
{
    const char *uri = d->cfg.process_libvirt;
    char derived[512];

    if (!uri && strncmp(d->cfg.libvirt_uri, "qemu", 4) == 0) {
        snprintf(derived, sizeof(derived), "lxc%s", d->cfg.libvirt_uri + 4);
        uri = derived;
    }
    if (!uri || strcmp(uri, "none") == 0)
        return;
    if (nc_hv_libvirt_open(uri, false, &d->env.process_hv) < 0)
        nc_warn(NULL, "process runtime: %s; processes cannot run here", nc_drv_errmsg());
    else
        nc_info(NULL, "process runtime: %s", uri);
}

/*
 * The container runtime: the Podman service on --podman-socket. A node
 * without it runs no containers, and says so in their status.
 */
static void
open_container_runtime(struct daemon *d)
{
    const char *sock = d->cfg.podman_socket;

    if (!sock && strncmp(d->cfg.libvirt_uri, "test", 4) != 0)
        sock = "/run/podman/podman.sock";
    if (!sock || strcmp(sock, "none") == 0)
        return;
    if (nc_hv_podman_open(sock, &d->env.container_hv) < 0)
        nc_warn(NULL, "container runtime: %s; containers cannot run here", nc_drv_errmsg());
    else
        nc_info(NULL, "container runtime: Podman at %s", sock);
}

static void
on_libvirt_reconnected(void *data)
{
    struct daemon *d = data;

    nc_warn(NULL, "reconnected to a runtime: re-examining every object");
    nc_informer_foreach(d->env.specs, on_spec_changed, d);
    if (nc_wq_add(d->q, NC_KEY_RESYNC_ACTUAL) < 0)
        nc_error(NULL, "cannot queue the resync: out of memory");
}

static void
gauges(void *data, struct nc_metrics_gauges *g)
{
    struct daemon *d = data;

    g->domains = d->env.domains_owned;
    g->queue_depth = nc_wq_len(d->q);
    g->queue_delayed = nc_wq_delayed(d->q);
    g->cached_specs = nc_informer_size(d->env.specs);
    g->watch_restarts = nc_informer_watch_restarts(d->env.specs) +
                        nc_informer_watch_restarts(d->env.statuses) +
                        nc_informer_watch_restarts(d->env.placements);
    g->etcd_errors = nc_etcd_error_count();
    g->write_requests = nc_commit_requests(d->env.commit);
    g->ready = nc_informer_synced(d->env.specs) && nc_informer_synced(d->env.statuses) &&
               nc_informer_synced(d->env.placements);
    g->scheduler_leader = nc_leader_leading(d->leader);
    nc_leader_counts(d->leader, &g->placements, &g->unschedulable);
    /* Counting asks libvirt about every domain: a worker does it after
     * this scrape (queued once the queue's own figures are read), which
     * shows the count of the one before. So it costs nothing while nobody
     * scrapes, and never blocks the loop. */
    if (nc_wq_add(d->q, NC_KEY_COUNT_DOMAINS) < 0)
        nc_error(NULL, "cannot queue the domain count: out of memory");
}

/* Per-VM metrics: one libvirt statistics call per scrape, on the loop
 * thread (it costs milliseconds for a thousand domains: see make bench). */
static int
vm_metrics(void *data, struct evbuffer *out)
{
    struct daemon *d = data;

    return nc_vmstats_render(&d->env, out);
}

static void
schedule_resync(struct daemon *d)
{
    /* Jitter of +-10% keeps several controllers from resyncing in step. */
    int64_t ms = d->cfg.resync_ms * (90 + rand() % 21) / 100;
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};

    evtimer_add(d->resync, &tv);
}

static void
on_resync(evutil_socket_t fd, short what, void *arg)
{
    struct daemon *d = arg;

    (void)fd;
    (void)what;
    nc_debug(NULL, "resync: queueing %zu specs and every actual resource",
             nc_informer_size(d->env.specs));
    nc_informer_foreach(d->env.specs, on_spec_changed, d);
    if (nc_wq_add(d->q, NC_KEY_RESYNC_ACTUAL) < 0)
        nc_error(NULL, "cannot queue the resync: out of memory");
    schedule_resync(d);
}

static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
    struct daemon *d = arg;
    bool synced = nc_informer_synced(d->env.specs) && nc_informer_synced(d->env.statuses) &&
                  nc_informer_synced(d->env.placements);

    (void)fd;
    (void)what;
    if (synced && !d->notified_ready) {
        d->notified_ready = true;
        nc_info(NULL, "ready: %zu specs listed, watch established", nc_informer_size(d->env.specs));
        sd_notify(0, "READY=1");
    }
    if (nc_now_ms() - d->last_queue_report_ms >= 5000) {
        d->last_queue_report_ms = nc_now_ms();
        sd_notifyf(0, "STATUS=%s; %zu specs, %zu queued, %zu waiting",
                   synced ? "watching etcd" : "connecting to etcd", nc_informer_size(d->env.specs),
                   nc_wq_len(d->q), nc_wq_delayed(d->q));
    }
}

static void
on_watchdog(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    sd_notify(0, "WATCHDOG=1");
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
    struct daemon *d = arg;

    (void)what;
    nc_info(NULL, "%s: stopping; waiting at most %" PRId64 " ms for running reconciles",
            strsignal((int)sig), d->cfg.shutdown_timeout_ms);
    sd_notify(0, "STOPPING=1");
    nc_informer_stop(d->env.specs);
    nc_informer_stop(d->env.statuses);
    nc_informer_stop(d->env.placements);
    nc_informer_stop(d->env.nodes);
    nc_informer_stop(d->cordons);
    nc_informer_stop(d->leader_key);
    nc_wq_shutdown(d->q);
    event_base_loopbreak(d->base);
}

static void
add_pool(const char *pool, void *data)
{
    struct nc_inventory *inv = data;
    struct nc_sched_pool *p = (struct nc_sched_pool *)&inv->pools[inv->n_pools];

    if (inv->n_pools == NC_SCHED_MAX_POOLS || strlen(pool) > NC_SCHED_POOL_MAX)
        return;
    snprintf(p->name, sizeof(p->name), "%s", pool);
    inv->n_pools++;
}

/* What nodes/<node> says of this node (schema/README.md §8): where it is,
 * and what it offers the scheduler. */
static int
node_info(struct daemon *d, char **ret)
{
    struct nc_sched_pool pools[NC_SCHED_MAX_POOLS] = {0};
    struct nc_inventory inv = {.name = d->cfg.node, .reserve_vcpus = d->cfg.reserve_cpu,
                               .reserve_memory = d->cfg.reserve_memory,
                               .cpu_ratio = d->cfg.cpu_overcommit,
                               .memory_ratio = d->cfg.memory_overcommit,
                               .labels = &d->cfg.labels, .pools = pools};
    cJSON *o = cJSON_CreateObject();
    char now[32], peer[64];
    int r;

    for (int rt = 0; rt < NC_RUNTIME_COUNT; rt++)
        if (nc_env_runtime(&d->env, rt))
            inv.runtimes |= 1u << rt;
    if ((r = nc_hv_node_info(d->env.hv, &inv.host_vcpus, &inv.host_memory)) < 0 ||
        (r = nc_st_pools(d->env.st, add_pool, &inv)) < 0) {
        nc_error(NULL, "libvirt: %s", nc_drv_errmsg());
        cJSON_Delete(o);
        return r;
    }
    d->env.host_cpus = inv.host_vcpus;
    for (unsigned i = 0; i < d->cfg.n_shared_pools; i++) {
        unsigned p;

        for (p = 0; p < inv.n_pools && strcmp(pools[p].name, d->cfg.shared_pools[i].name); p++)
            ;
        if (p < inv.n_pools)
            pools[p].shared = true;
        else
            nc_warn(NULL, "--shared-pool %s: libvirt has no active pool of that name here",
                    d->cfg.shared_pools[i].name);
    }
    cJSON_AddStringToObject(o, "name", d->cfg.node);
    cJSON_AddStringToObject(o, "libvirt", d->cfg.libvirt_uri);
    cJSON_AddStringToObject(o, "underlay", d->cfg.underlay ? d->cfg.underlay : "");
    cJSON_AddStringToObject(o, "underlayAddress", d->env.underlay_ip);
    if (d->cfg.peer_libvirt)
        cJSON_AddStringToObject(o, "peerLibvirt", d->cfg.peer_libvirt);
    else if (d->env.underlay_ip[0] &&
             snprintf(peer, sizeof(peer), "qemu+tcp://%s/system", d->env.underlay_ip) > 0)
        cJSON_AddStringToObject(o, "peerLibvirt", peer);
    cJSON_AddNumberToObject(o, "leaseTTL", (double)d->cfg.node_ttl_s);
    cJSON_AddStringToObject(o, "startedAt", nc_rfc3339_now(now));
    r = nc_inventory_json(&inv, o);
    *ret = r == 0 ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    return *ret ? 0 : -ENOMEM;
}

/* Reads the etcd cluster id, waiting for etcd to answer. */
static int
wait_for_etcd(struct daemon *d)
{
    struct nc_etcd *c = nc_etcd_new(&d->etcd_conf);
    struct nc_range rg;
    int r = -ENOMEM;

    for (int attempt = 0; c; attempt++) {
        r = nc_etcd_range(c, d->cfg.prefix, NULL, 0, 1, &rg);
        if (r == 0) {
            nc_range_clear(&rg);
            snprintf(d->env.cluster, sizeof(d->env.cluster), "%" PRIu64,
                     nc_etcd_cluster_id(c));
            break;
        }
        if (r != -EIO || attempt == 60) {
            nc_error(NULL, "etcd: %s", nc_etcd_errmsg(c));
            break;
        }
        if (attempt % 10 == 0)
            nc_warn(NULL, "waiting for etcd: %s", nc_etcd_errmsg(c));
        sd_notify(0, "STATUS=waiting for etcd");
        sleep(1);
    }
    nc_etcd_free(c);
    return r;
}

/*
 * One novacrond per node: a second one started by mistake (the same
 * --node, say under another --listen) would act on the same domains. It
 * takes <run-dir>/<node>.lock, which the kernel lets go when the process
 * ends, however it ends, and gives up before it touches anything.
 */
static int
lock_node(struct daemon *d)
{
    char path[600];
    int fd;

    if (mkdir(d->cfg.run_dir, 0755) < 0 && errno != EEXIST) {
        int err = errno;

        nc_error(NULL, "cannot create --run-dir %s: %s", d->cfg.run_dir, strerror(err));
        return -err;
    }
    snprintf(path, sizeof(path), "%s/%s.lock", d->cfg.run_dir, d->cfg.node);
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        int err = errno;

        nc_error(NULL, "cannot open %s: %s", path, strerror(err));
        return -err;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        int err = errno;

        close(fd);
        if (err == EWOULDBLOCK)
            nc_error(NULL, "another novacrond runs as node %s here (%s is locked)", d->cfg.node,
                     path);
        else
            nc_error(NULL, "cannot lock %s: %s", path, strerror(err));
        return -EBUSY;
    }
    d->lock_fd = fd;
    return 0;
}

/* An informer on <prefix>@space, telling @fn of every change. */
static struct nc_informer *
informer(struct daemon *d, const char *space, nc_informer_fn fn)
{
    struct nc_informer *inf = NULL;
    char *prefix = NULL;

    if (asprintf(&prefix, "%s%s", d->cfg.prefix, space) >= 0)
        inf = nc_informer_new(d->base, &d->etcd_conf, prefix, fn, d);
    free(prefix);
    return inf;
}

static int
start(struct daemon *d)
{
    char *info;
    const struct timeval tick_interval = {.tv_usec = 100 * 1000};
    uint64_t wd_usec;
    int r;

    /* Whatever can make this process give up comes before it acts: the
     * node's lock, then the listening socket. */
    if ((r = lock_node(d)) < 0)
        return r;
    if (!(d->env.moves = nc_moves_new()) || !(d->env.metrics = nc_metrics_new()) ||
        !(d->env.commit = nc_commit_new(64)))
        return -ENOMEM;
    if (d->cfg.listen[0]) {
        r = nc_http_start(d->base, d->cfg.listen, d->env.metrics, gauges, vm_metrics, d,
                          &d->http);
        if (r < 0) {
            nc_error(NULL, "cannot listen on %s: %s", d->cfg.listen, strerror(-r));
            return r;
        }
    }
    nc_config_etcd(&d->cfg, &d->etcd_conf);
    if ((r = wait_for_etcd(d)) < 0)
        return r;
    nc_install_hash(d->env.cluster, d->cfg.prefix, d->env.install_hash);
    d->env.prefix = d->cfg.prefix;
    d->env.node = d->cfg.node;
    d->env.gc_orphans = d->cfg.gc_orphans;
    d->env.netns = d->cfg.netns;
    d->env.underlay = d->cfg.underlay;
    d->env.vlan_parent = d->cfg.vlan_parent;
    if (d->cfg.underlay) {
        struct nc_overlay *ov = NULL;

        if (nc_overlay_open(d->cfg.netns, &ov) < 0 ||
            nc_overlay_ipv4_of(ov, d->cfg.underlay, d->env.underlay_ip) < 0)
            nc_warn(NULL, "underlay %s: %s; Networks in overlay mode cannot be realised here",
                    d->cfg.underlay, nc_drv_errmsg());
        nc_overlay_close(ov);
    }
    r = nc_hv_libvirt_open(d->cfg.libvirt_uri, d->cfg.force_tcg, &d->env.hv);
    if (r == 0)
        r = nc_st_libvirt_open(d->env.hv, &d->env.st);
    if (r < 0) {
        nc_error(NULL, "libvirt: %s", nc_drv_errmsg());
        return r;
    }
    open_process_runtime(d);
    open_container_runtime(d);
    if ((r = node_info(d, &info)) < 0)
        return r;
    r = nc_node_start(&d->etcd_conf, d->cfg.prefix, d->cfg.node, d->cfg.node_ttl_s, info,
                      &d->env.self);
    free(info);
    if (r < 0)
        return r;
    d->env.dhcp = &nc_dnsmasq;
    if (nc_nft_open(d->cfg.netns, &d->env.fw) < 0)
        nc_warn(NULL,
                "nftables: %s; egress NAT, port security, bandwidth limits and NetworkPolicies "
                "cannot be enforced here",
                nc_drv_errmsg());
    d->env.console_dir = d->cfg.console_dir;
    d->env.image_dir = d->cfg.image_dir;
    d->env.boot_dir = d->cfg.boot_dir ? d->cfg.boot_dir : d->cfg.image_dir;
    d->env.exec_dir = d->cfg.exec_dir;
    snprintf(d->env.process_dir, sizeof(d->env.process_dir), "%s/%s/processes", d->cfg.run_dir,
             d->cfg.node);
    snprintf(d->env.dnsmasq_dir, sizeof(d->env.dnsmasq_dir), "%s/%s/dnsmasq", d->cfg.run_dir,
             d->cfg.node);
    snprintf(d->env.seed_dir, sizeof(d->env.seed_dir), "%s/%s/seeds", d->cfg.run_dir,
             d->cfg.node);
    d->env.enqueue = enqueue_key;
    d->env.enqueue_data = d;
    if (d->env.hv->caps.console_log && mkdir(d->cfg.console_dir, 0755) < 0 && errno != EEXIST) {
        r = -errno;
        nc_error(NULL, "cannot create the console log folder %s: %s", d->cfg.console_dir,
                 strerror(-r));
        return r;
    }
    d->spec_prefix_len = strlen(d->cfg.prefix) + strlen("spec/");
    d->status_prefix_len = strlen(d->cfg.prefix) + strlen("status/");
    d->placement_prefix_len = strlen(d->cfg.prefix) + strlen("placement/");
    for (size_t i = 0; nc_reconcilers[i]; i++)
        if (nc_reconcilers[i]->init && (r = nc_reconcilers[i]->init(&d->env)) < 0)
            return r;
    d->q = nc_wq_new(200, 60 * 1000);
    d->env.specs = informer(d, "spec/", on_spec_changed);
    d->env.statuses = informer(d, "status/", on_status_changed);
    d->env.placements = informer(d, "placement/", on_placement_changed);
    d->env.nodes = informer(d, "nodes/", on_node_changed);
    d->cordons = informer(d, "cordon/", on_scheduling_changed);
    d->leader_key = informer(d, "leader/", on_scheduling_changed);
    if (!d->env.metrics || !d->q || !d->env.specs || !d->env.statuses ||
        !d->env.placements || !d->env.nodes || !d->cordons || !d->leader_key)
        return -ENOMEM;
    nc_informer_set_value_max(d->env.specs, NC_DOC_MAX);
    nc_informer_set_value_max(d->env.statuses, NC_DOC_MAX);

    /* Statuses and placements first: a reconcile must never find those
     * caches empty; specs last, since listing them queues every object. */
    for (struct nc_informer **inf = (struct nc_informer *[]){d->env.statuses,
             d->env.placements, d->env.nodes, d->cordons, d->leader_key, d->env.specs, NULL};
         *inf; inf++) {
        if ((r = nc_informer_start(*inf)) < 0) {
            nc_error(NULL, "%s", nc_informer_errmsg(*inf));
            return r;
        }
    }
    struct nc_leader_config lc = {.policy = d->cfg.policy, .node_ttl_s = d->cfg.node_ttl_s,
                                  .cordons = d->cordons};
    if ((r = nc_leader_start(&d->env, &d->etcd_conf, &lc, &d->leader)) < 0)
        return r;
    if (nc_wq_add(d->q, NC_KEY_RESYNC_ACTUAL) < 0 || nc_wq_add(d->q, NC_KEY_COUNT_DOMAINS) < 0)
        return -ENOMEM;
    r = nc_hv_watch(d->env.hv, on_domain_event, on_libvirt_reconnected, d);
    if (r == 0 && d->env.process_hv)
        r = nc_hv_watch(d->env.process_hv, on_domain_event, on_libvirt_reconnected, d);
    if (r == 0 && d->env.container_hv)
        r = nc_hv_watch(d->env.container_hv, on_domain_event, on_libvirt_reconnected, d);
    if (r < 0) {
        nc_error(NULL, "libvirt events: %s", nc_drv_errmsg());
        return r;
    }
    r = nc_workers_start(&d->env, &d->etcd_conf, d->q, d->cfg.workers, &d->workers);
    if (r < 0)
        return r;

    d->sig_term = evsignal_new(d->base, SIGTERM, on_signal, d);
    d->sig_int = evsignal_new(d->base, SIGINT, on_signal, d);
    d->tick = event_new(d->base, -1, EV_PERSIST, on_tick, d);
    d->resync = evtimer_new(d->base, on_resync, d);
    if (!d->sig_term || !d->sig_int || !d->tick || !d->resync)
        return -ENOMEM;
    evsignal_add(d->sig_term, NULL);
    evsignal_add(d->sig_int, NULL);
    event_add(d->tick, &tick_interval);
    schedule_resync(d);
    if (sd_watchdog_enabled(0, &wd_usec) > 0) {
        d->watchdog = event_new(d->base, -1, EV_PERSIST, on_watchdog, d);
        if (!d->watchdog)
            return -ENOMEM;
        struct timeval half = {.tv_sec = (time_t)(wd_usec / 2000000),
                               .tv_usec = (suseconds_t)(wd_usec / 2 % 1000000)};

        event_add(d->watchdog, &half);
    }
    nc_info(NULL,
            "novacrond started: node %s, libvirt %s, etcd %s, prefix %s, cluster %s, "
            "%d workers, listening on %s; accel auto is %s",
            d->cfg.node, d->cfg.libvirt_uri, d->cfg.etcd_list, d->cfg.prefix, d->env.cluster,
            d->cfg.workers, d->cfg.listen[0] ? d->cfg.listen : "(off)",
            nc_hv_domain_type(d->env.hv, NC_ACCEL_AUTO));
    return 0;
}

static void
free_event(struct event *ev)
{
    if (ev)
        event_free(ev);
}

int
main(int argc, char **argv)
{
    struct daemon d = {0};
    int r, status = 1;

    r = nc_config_parse(&d.cfg, argc, argv);
    if (r != 0)
        return r > 0 ? 0 : 2;
    nc_log_set_level(d.cfg.log_level);
    signal(SIGPIPE, SIG_IGN);
    srand((unsigned)getpid() ^ (unsigned)nc_now_ms());
    curl_global_init(CURL_GLOBAL_DEFAULT);
    xmlInitParser();
    evthread_use_pthreads();
    nc_event_recorder_init(&d.env.events);
    d.base = event_base_new();
    if (!d.base)
        goto out;

    if (start(&d) < 0)
        goto out;
    event_base_dispatch(d.base);

    nc_wq_shutdown(d.q);
    if (nc_workers_stop(d.workers, d.cfg.shutdown_timeout_ms) < 0) {
        nc_warn(NULL, "reconciles still running after %" PRId64 " ms; exiting anyway",
                d.cfg.shutdown_timeout_ms);
        d.workers = NULL;
        status = 0;
        goto out_quick;
    }
    d.workers = NULL;
    status = 0;
    nc_info(NULL, "stopped");

out:
    if (d.workers) {
        nc_wq_shutdown(d.q);
        nc_workers_stop(d.workers, d.cfg.shutdown_timeout_ms);
    }
    free_event(d.sig_term);
    free_event(d.sig_int);
    free_event(d.tick);
    free_event(d.resync);
    free_event(d.watchdog);
    nc_http_stop(d.http);
    nc_leader_stop(d.leader);
    nc_informer_free(d.env.specs);
    nc_informer_free(d.env.statuses);
    nc_informer_free(d.env.placements);
    nc_informer_free(d.env.nodes);
    nc_informer_free(d.cordons);
    nc_informer_free(d.leader_key);
    nc_node_stop(d.env.self);
    nc_event_recorder_clear(&d.env.events);
    nc_wq_free(d.q);
    for (size_t i = 0; nc_reconcilers[i]; i++)
        if (nc_reconcilers[i]->fini)
            nc_reconcilers[i]->fini(&d.env);
    nc_metrics_free(d.env.metrics);
    nc_commit_free(d.env.commit);
    nc_moves_free(d.env.moves);
    nc_fw_close(d.env.fw);
    nc_st_close(d.env.st);
    nc_hv_close(d.env.hv);
    nc_hv_close(d.env.process_hv);
    nc_hv_close(d.env.container_hv);
    if (d.base)
        event_base_free(d.base);
    xmlCleanupParser();
    curl_global_cleanup();
    nc_config_clear(&d.cfg);
out_quick:
    return status;
}
