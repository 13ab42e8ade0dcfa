#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "controller/config.h"
#include "core/flags.h"
#include "core/log.h"
#include "drivers/domxml.h"
#include "schema/quantity.h"
#include "schema/validate.h"

static const char usage[] =
    "Usage: novacrond [OPTION]...\n"
    "\n"
    "Run the NovaCron controller: watch the VirtualMachine, Network and Volume\n"
    "specs (and Migrations, Snapshots, Restores, InstanceTypes and\n"
    "NetworkPolicies) stored in etcd under PREFIX/spec/, drive libvirt and\n"
    "the node's network toward them, and write what was observed to\n"
    "PREFIX/status/. /metrics on --listen also has each VM's\n"
    "CPU, memory, disk and network figures. Every option can also be set\n"
    "through the environment variable shown; an option given on the command\n"
    "line wins.\n"
    "\n"
    "  --etcd URL[,URL]...     etcd v3 gateway endpoints, tried in order when one\n"
    "                          fails (NOVACRON_ETCD; default http://127.0.0.1:2379)\n"
    "  --prefix PREFIX         key prefix of this installation\n"
    "                          (NOVACRON_PREFIX; default /novacron/)\n"
    "  --node NAME             this host's node name (NOVACRON_NODE; default the\n"
    "                          host name)\n"
    "  --node-ttl DURATION     lease of the node's registration, its heartbeat: a\n"
    "                          node silent this long has its VMs placed again\n"
    "                          (NOVACRON_NODE_TTL; default 10s, at least 2s)\n"
    "  --reserve-cpu N         vCPUs kept from the scheduler for the host itself\n"
    "                          (NOVACRON_RESERVE_CPU; default 0)\n"
    "  --reserve-memory SIZE   memory kept from the scheduler, e.g. 1GiB\n"
    "                          (NOVACRON_RESERVE_MEMORY; default 0)\n"
    "  --cpu-overcommit RATIO  vCPUs placed per allocatable host CPU\n"
    "                          (NOVACRON_CPU_OVERCOMMIT; default 4.0)\n"
    "  --memory-overcommit RATIO\n"
    "                          memory placed per allocatable byte\n"
    "                          (NOVACRON_MEMORY_OVERCOMMIT; default 1.0)\n"
    "  --node-label KEY=VALUE  a label of this node for spec.placement.nodeSelector,\n"
    "                          spread and anti-affinity; repeatable\n"
    "                          (NOVACRON_NODE_LABELS, comma-separated)\n"
    "  --shared-pool NAME      a storage pool every node sees the same (shared\n"
    "                          storage): its Volumes are made once and their VMs can\n"
    "                          run on any node; repeatable (NOVACRON_SHARED_POOLS,\n"
    "                          comma-separated)\n"
    "  --placement-policy spread|pack\n"
    "                          when several nodes fit, the least allocated (spread)\n"
    "                          or the most allocated (pack) (NOVACRON_PLACEMENT_POLICY;\n"
    "                          default spread)\n"
    "  --libvirt URI           libvirt connection (NOVACRON_LIBVIRT; default\n"
    "                          test:///default, libvirt's in-process test driver;\n"
    "                          use qemu:///system for real guests)\n"
    "  --force-tcg             never pick KVM for accel \"auto\", for hosts where\n"
    "                          /dev/kvm exists but guests hang (NOVACRON_FORCE_TCG=1)\n"
    "  --console-dir DIR       where real guests' serial consoles are logged, one\n"
    "                          file per domain, named in the status as consoleLog\n"
    "                          (NOVACRON_CONSOLE_DIR; default /var/log/novacron)\n"
    "  --image-dir DIR         the folder whose image files Volumes may be cloned\n"
    "                          from (spec.source.image), symbolic links resolved\n"
    "                          (NOVACRON_IMAGE_DIR; default /var/lib/novacron/images)\n"
    "  --boot-dir DIR          the folder whose files VMs may boot as kernel and\n"
    "                          initrd (spec.boot), symbolic links resolved\n"
    "                          (NOVACRON_BOOT_DIR; default the --image-dir folder)\n"
    "  --exec-dir DIR          the folder whose programs processes may run\n"
    "                          (spec.command[0], runtime process), symbolic links\n"
    "                          resolved (NOVACRON_EXEC_DIR; default\n"
    "                          /var/lib/novacron/bin)\n"
    "  --process-libvirt URI   libvirt's LXC driver, which runs processes\n"
    "                          (NOVACRON_PROCESS_LIBVIRT; default the LXC driver of\n"
    "                          the --libvirt daemon: lxc:///system for qemu:///system,\n"
    "                          none for the test driver; \"none\" turns processes off)\n"
    "  --podman-socket PATH    the unix socket of the Podman service that runs\n"
    "                          containers (NOVACRON_PODMAN_SOCKET; default\n"
    "                          /run/podman/podman.sock, none for the test driver;\n"
    "                          \"none\" turns containers off)\n"
    "  --run-dir DIR           the node's lock, DIR/NODE.lock, which keeps a second\n"
    "                          novacrond from acting as the same node, and each\n"
    "                          Network's dnsmasq pid, hosts and leases files, under\n"
    "                          DIR/NODE/dnsmasq (NOVACRON_RUN_DIR; default /run/novacron)\n"
    "  --listen ADDR:PORT      HTTP endpoint for /metrics, /healthz and /readyz\n"
    "                          (NOVACRON_LISTEN; default 127.0.0.1:9464; \"off\"\n"
    "                          disables it)\n"
    "  --workers N             reconciles that may run at once (NOVACRON_WORKERS;\n"
    "                          default 16: a reconcile mostly waits on etcd or\n"
    "                          libvirt, and the status writes of workers that\n"
    "                          write at once go to etcd as one request)\n"
    "  --resync DURATION       re-examine every object this often, with 10% jitter\n"
    "                          (NOVACRON_RESYNC; default 5m; e.g. 30s, 10m, 1h)\n"
    "  --underlay IFACE        interface whose address carries VXLAN traffic for\n"
    "                          Networks (NOVACRON_UNDERLAY; default the interface of\n"
    "                          the default route)\n"
    "  --vlan-parent IFACE     interface that carries the 802.1Q VLANs of Networks in\n"
    "                          vlan mode (NOVACRON_VLAN_PARENT; none by default: such\n"
    "                          Networks cannot be realised on this node)\n"
    "  --peer-libvirt URI      where the other nodes' libvirtd reaches this node's\n"
    "                          for a live migration (NOVACRON_PEER_LIBVIRT; default\n"
    "                          qemu+tcp://ADDRESS/system, ADDRESS the --underlay's)\n"
    "  --netns NAME            network namespace the node's bridges, VXLAN devices\n"
    "                          and dnsmasq live in (NOVACRON_NETNS)\n"
    "  --etcd-cacert FILE      CA bundle for TLS endpoints (NOVACRON_ETCD_CACERT)\n"
    "  --etcd-cert FILE        client certificate (NOVACRON_ETCD_CERT)\n"
    "  --etcd-key FILE         client key (NOVACRON_ETCD_KEY)\n"
    "  --etcd-user NAME        etcd user (NOVACRON_ETCD_USER)\n"
    "  --etcd-password PASS    etcd password (NOVACRON_ETCD_PASSWORD; prefer the\n"
    "                          environment, which other users cannot read)\n"
    "  --gc-orphans            delete resources marked as this installation's that\n"
    "                          have neither spec nor status (NOVACRON_GC_ORPHANS=1);\n"
    "                          without it they are reported and left alone\n"
    "  --shutdown-timeout DURATION\n"
    "                          how long SIGTERM waits for running reconciles\n"
    "                          (NOVACRON_SHUTDOWN_TIMEOUT; default 30s)\n"
    "  --log-level LEVEL       debug, info, warn or error (NOVACRON_LOG_LEVEL;\n"
    "                          default info)\n"
    "  -h, --help              show this help and exit\n"
    "  --version               show the version and exit\n"
    "\n"
    "Signals: SIGTERM and SIGINT stop taking work, let running reconciles finish\n"
    "(bounded by --shutdown-timeout) and exit 0. Under systemd (Type=notify) the\n"
    "daemon reports READY once it has listed etcd and the watch is up, STATUS,\n"
    "WATCHDOG pings when WatchdogSec= is set, and STOPPING.\n"
    "\n"
    "Keys: PREFIX/spec/NAMESPACE/KIND/NAME holds the manifests (kind vm, network,\n"
    "volume, migration); PREFIX/status/... the observed state; PREFIX/events/...\n"
    "what the controller did, on a one-hour lease; PREFIX/nodes/NODE each node's\n"
    "registration; PREFIX/placement/NAMESPACE/NAME the node the scheduler chose;\n"
    "PREFIX/cordon/NODE an operator's cordon (novactl cordon, drain).\n"
    "\n"
    "Details: novacrond(8), and the API reference (every key, field, default,\n"
    "status field, phase and condition reason): schema/README.md in NovaCron's\n"
    "source, installed as PREFIX/share/doc/novacron/api.md.\n";

static void
set(char **field, const char *value)
{
    free(*field);
    *field = value ? strdup(value) : NULL;
}

/* What the scheduling flags were given as. */
struct sched_flags {
    char *reserve_cpu, *reserve_memory, *cpu_over, *memory_over, *policy;
    char *labels, *pools; /* comma-separated: the environment's, or the flags' */
};

static int
ratio(const char *flag, const char *s, double *ret)
{
    char *end;

    *ret = strtod(s, &end);
    if (*end || end == s || !(*ret > 0 && *ret <= 1000)) {
        fprintf(stderr, "novacrond: %s must be a number above 0 and at most 1000, got \"%s\"\n",
                flag, s);
        return -EINVAL;
    }
    return 0;
}

static int
node_label(struct nc_config *cfg, char *kv)
{
    char *eq = strchr(kv, '=');

    if (eq)
        *eq = '\0';
    if (!eq || !nc_is_label_key(kv) || !nc_is_label_value(eq + 1) ||
        strcmp(kv, NC_LABEL_NODE) == 0) {
        fprintf(stderr, "novacrond: --node-label must be KEY=VALUE, KEY a label key other than "
                        NC_LABEL_NODE " (an optional DNS subdomain and '/', then at most 63 "
                        "characters of [A-Za-z0-9._-]), VALUE at most 63 of those, got \"%s\"\n",
                kv);
        return -EINVAL;
    }
    if (cfg->labels.n == NC_SCHED_MAX_LABELS - 1) {
        fprintf(stderr, "novacrond: at most %d --node-label\n", NC_SCHED_MAX_LABELS - 1);
        return -EINVAL;
    }
    return nc_labels_set(&cfg->labels, kv, eq + 1);
}

static int
shared_pool(struct nc_config *cfg, const char *name)
{
    if (!*name || strlen(name) > NC_SCHED_POOL_MAX || cfg->n_shared_pools == NC_SCHED_MAX_POOLS) {
        fprintf(stderr, "novacrond: --shared-pool must name a pool of at most %d characters, "
                        "at most %d times, got \"%s\"\n",
                NC_SCHED_POOL_MAX, NC_SCHED_MAX_POOLS, name);
        return -EINVAL;
    }
    snprintf(cfg->shared_pools[cfg->n_shared_pools].name, sizeof(cfg->shared_pools[0].name), "%s",
             name);
    cfg->shared_pools[cfg->n_shared_pools++].shared = true;
    return 0;
}

static int
finish_sched(struct nc_config *cfg, const struct sched_flags *f)
{
    char *end, *save = NULL;
    long n;
    int r = 0;

    n = strtol(f->reserve_cpu, &end, 10);
    if (*end || end == f->reserve_cpu || n < 0 || n > 65536) {
        fprintf(stderr, "novacrond: --reserve-cpu must be a count of CPUs, got \"%s\"\n",
                f->reserve_cpu);
        return -EINVAL;
    }
    cfg->reserve_cpu = (unsigned)n;
    if (strcmp(f->reserve_memory, "0") != 0 &&
        nc_quantity_parse(f->reserve_memory, &cfg->reserve_memory) < 0) {
        fprintf(stderr, "novacrond: --reserve-memory must be a size such as 512MiB, got \"%s\"\n",
                f->reserve_memory);
        return -EINVAL;
    }
    if ((r = ratio("--cpu-overcommit", f->cpu_over, &cfg->cpu_overcommit)) < 0 ||
        (r = ratio("--memory-overcommit", f->memory_over, &cfg->memory_overcommit)) < 0)
        return r;
    if (strcmp(f->policy, "spread") == 0) {
        cfg->policy = NC_SCHED_SPREAD;
    } else if (strcmp(f->policy, "pack") == 0) {
        cfg->policy = NC_SCHED_PACK;
    } else {
        fprintf(stderr, "novacrond: --placement-policy must be spread or pack\n");
        return -EINVAL;
    }
    for (char *t = strtok_r(f->labels, ",", &save); t && r == 0; t = strtok_r(NULL, ",", &save))
        r = node_label(cfg, t);
    for (char *t = strtok_r(f->pools, ",", &save); t && r == 0; t = strtok_r(NULL, ",", &save))
        r = shared_pool(cfg, t);
    return r;
}

/* Appends @v to comma-separated list @list (replacing what the
 * environment gave, when @from_env). */
static void
append(char **list, bool *from_env, const char *v)
{
    char *s = NULL;

    if (*from_env) {
        free(*list);
        *list = NULL;
        *from_env = false;
    }
    if (asprintf(&s, "%s%s%s", *list ? *list : "", *list ? "," : "", v) < 0)
        s = NULL;
    free(*list);
    *list = s;
}

static int
finish(struct nc_config *cfg, const char *workers, const char *resync, const char *shutdown,
       const char *level, const char *node_ttl)
{
    char *p;
    long n;
    int r;

    n = strtol(workers, &p, 10);
    if (*p || n < 1 || n > 256) {
        fprintf(stderr, "novacrond: --workers must be from 1 to 256, got \"%s\"\n", workers);
        return -EINVAL;
    }
    cfg->workers = (int)n;
    if ((cfg->resync_ms = nc_flags_duration(resync)) < 1000) {
        fprintf(stderr, "novacrond: --resync must be a duration of at least 1s, got \"%s\"\n",
                resync);
        return -EINVAL;
    }
    if ((cfg->node_ttl_s = nc_flags_duration(node_ttl) / 1000) < 2) {
        fprintf(stderr, "novacrond: --node-ttl must be a duration of at least 2s, got \"%s\"\n",
                node_ttl);
        return -EINVAL;
    }
    if ((cfg->shutdown_timeout_ms = nc_flags_duration(shutdown)) < 0) {
        fprintf(stderr, "novacrond: --shutdown-timeout must be a duration, got \"%s\"\n",
                shutdown);
        return -EINVAL;
    }
    if ((cfg->log_level = nc_log_level_parse(level)) == NC_LOG_INVALID) {
        fprintf(stderr, "novacrond: --log-level must be debug, info, warn or error\n");
        return -EINVAL;
    }
    if ((r = nc_flags_prefix("novacrond", &cfg->prefix)) < 0)
        return r;
    if (!nc_is_dns_subdomain(cfg->node)) {
        fprintf(stderr, "novacrond: --node must be a host name (DNS labels joined by '.'), "
                        "got \"%s\"\n", cfg->node);
        return -EINVAL;
    }
    if ((r = nc_flags_endpoints("novacrond", cfg->etcd_list, cfg->endpoints,
                                 &cfg->n_endpoints)) < 0)
        return r;
    if (cfg->console_dir[0] != '/' || !nc_xml_text_ok(cfg->console_dir)) {
        fprintf(stderr, "novacrond: --console-dir must be an absolute path\n");
        return -EINVAL;
    }
    if (cfg->run_dir[0] != '/' || strlen(cfg->run_dir) > 200) {
        fprintf(stderr, "novacrond: --run-dir must be an absolute path of at most 200 bytes\n");
        return -EINVAL;
    }
    if (cfg->image_dir[0] != '/') {
        fprintf(stderr, "novacrond: --image-dir must be an absolute path\n");
        return -EINVAL;
    }
    if (cfg->boot_dir && cfg->boot_dir[0] != '/') {
        fprintf(stderr, "novacrond: --boot-dir must be an absolute path\n");
        return -EINVAL;
    }
    if (cfg->exec_dir[0] != '/') {
        fprintf(stderr, "novacrond: --exec-dir must be an absolute path\n");
        return -EINVAL;
    }
    if (strcmp(cfg->listen, "off") == 0)
        cfg->listen[0] = '\0';
    return 0;
}

int
nc_config_parse(struct nc_config *cfg, int argc, char **argv)
{
    enum {
        OPT_ETCD = 256, OPT_PREFIX, OPT_NODE, OPT_LIBVIRT, OPT_LISTEN, OPT_WORKERS, OPT_RESYNC,
        OPT_UNDERLAY, OPT_VLAN_PARENT, OPT_PEER, OPT_NETNS, OPT_CACERT, OPT_CERT, OPT_KEY, OPT_USER, OPT_PASSWORD,
        OPT_GC, OPT_SHUTDOWN, OPT_LOG, OPT_VERSION, OPT_FORCE_TCG, OPT_CONSOLE_DIR,
        OPT_IMAGE_DIR, OPT_BOOT_DIR, OPT_EXEC_DIR, OPT_PROCESS_LIBVIRT, OPT_PODMAN_SOCKET, OPT_NODE_TTL, OPT_RUN_DIR,
        OPT_RESERVE_CPU,
        OPT_RESERVE_MEMORY, OPT_CPU_OVER, OPT_MEMORY_OVER, OPT_LABEL, OPT_SHARED_POOL,
        OPT_POLICY,
    };
    static const struct option opts[] = {
        {"etcd", required_argument, NULL, OPT_ETCD},
        {"prefix", required_argument, NULL, OPT_PREFIX},
        {"node", required_argument, NULL, OPT_NODE},
        {"libvirt", required_argument, NULL, OPT_LIBVIRT},
        {"listen", required_argument, NULL, OPT_LISTEN},
        {"workers", required_argument, NULL, OPT_WORKERS},
        {"resync", required_argument, NULL, OPT_RESYNC},
        {"underlay", required_argument, NULL, OPT_UNDERLAY},
        {"vlan-parent", required_argument, NULL, OPT_VLAN_PARENT},
        {"peer-libvirt", required_argument, NULL, OPT_PEER},
        {"netns", required_argument, NULL, OPT_NETNS},
        {"etcd-cacert", required_argument, NULL, OPT_CACERT},
        {"etcd-cert", required_argument, NULL, OPT_CERT},
        {"etcd-key", required_argument, NULL, OPT_KEY},
        {"etcd-user", required_argument, NULL, OPT_USER},
        {"etcd-password", required_argument, NULL, OPT_PASSWORD},
        {"gc-orphans", no_argument, NULL, OPT_GC},
        {"force-tcg", no_argument, NULL, OPT_FORCE_TCG},
        {"console-dir", required_argument, NULL, OPT_CONSOLE_DIR},
        {"image-dir", required_argument, NULL, OPT_IMAGE_DIR},
        {"boot-dir", required_argument, NULL, OPT_BOOT_DIR},
        {"exec-dir", required_argument, NULL, OPT_EXEC_DIR},
        {"process-libvirt", required_argument, NULL, OPT_PROCESS_LIBVIRT},
        {"podman-socket", required_argument, NULL, OPT_PODMAN_SOCKET},
        {"run-dir", required_argument, NULL, OPT_RUN_DIR},
        {"node-ttl", required_argument, NULL, OPT_NODE_TTL},
        {"reserve-cpu", required_argument, NULL, OPT_RESERVE_CPU},
        {"reserve-memory", required_argument, NULL, OPT_RESERVE_MEMORY},
        {"cpu-overcommit", required_argument, NULL, OPT_CPU_OVER},
        {"memory-overcommit", required_argument, NULL, OPT_MEMORY_OVER},
        {"node-label", required_argument, NULL, OPT_LABEL},
        {"shared-pool", required_argument, NULL, OPT_SHARED_POOL},
        {"placement-policy", required_argument, NULL, OPT_POLICY},
        {"shutdown-timeout", required_argument, NULL, OPT_SHUTDOWN},
        {"log-level", required_argument, NULL, OPT_LOG},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, OPT_VERSION},
        {NULL, 0, NULL, 0},
    };
    char host[256] = "localhost";
    char *workers, *resync, *shutdown, *level, *node_ttl;
    struct sched_flags sf;
    bool env_labels = true, env_pools = true;
    int c, r;

    memset(cfg, 0, sizeof(*cfg));
    gethostname(host, sizeof(host) - 1);
    set(&cfg->etcd_list, nc_env_or("NOVACRON_ETCD", "http://127.0.0.1:2379"));
    set(&cfg->prefix, nc_env_or("NOVACRON_PREFIX", "/novacron/"));
    set(&cfg->node, nc_env_or("NOVACRON_NODE", host));
    set(&cfg->libvirt_uri, nc_env_or("NOVACRON_LIBVIRT", "test:///default"));
    set(&cfg->listen, nc_env_or("NOVACRON_LISTEN", "127.0.0.1:9464"));
    set(&cfg->underlay, nc_env_or("NOVACRON_UNDERLAY", NULL));
    set(&cfg->vlan_parent, nc_env_or("NOVACRON_VLAN_PARENT", NULL));
    set(&cfg->peer_libvirt, nc_env_or("NOVACRON_PEER_LIBVIRT", NULL));
    set(&cfg->netns, nc_env_or("NOVACRON_NETNS", NULL));
    set(&cfg->cacert, nc_env_or("NOVACRON_ETCD_CACERT", NULL));
    set(&cfg->cert, nc_env_or("NOVACRON_ETCD_CERT", NULL));
    set(&cfg->key, nc_env_or("NOVACRON_ETCD_KEY", NULL));
    set(&cfg->user, nc_env_or("NOVACRON_ETCD_USER", NULL));
    set(&cfg->password, nc_env_or("NOVACRON_ETCD_PASSWORD", NULL));
    set(&cfg->console_dir, nc_env_or("NOVACRON_CONSOLE_DIR", "/var/log/novacron"));
    set(&cfg->image_dir, nc_env_or("NOVACRON_IMAGE_DIR", "/var/lib/novacron/images"));
    set(&cfg->boot_dir, nc_env_or("NOVACRON_BOOT_DIR", NULL));
    set(&cfg->exec_dir, nc_env_or("NOVACRON_EXEC_DIR", "/var/lib/novacron/bin"));
    set(&cfg->process_libvirt, nc_env_or("NOVACRON_PROCESS_LIBVIRT", NULL));
    set(&cfg->podman_socket, nc_env_or("NOVACRON_PODMAN_SOCKET", NULL));
    set(&cfg->run_dir, nc_env_or("NOVACRON_RUN_DIR", "/run/novacron"));
    cfg->gc_orphans = strcmp(nc_env_or("NOVACRON_GC_ORPHANS", "0"), "1") == 0;
    cfg->force_tcg = strcmp(nc_env_or("NOVACRON_FORCE_TCG", "0"), "1") == 0;
    workers = strdup(nc_env_or("NOVACRON_WORKERS", "16"));
    resync = strdup(nc_env_or("NOVACRON_RESYNC", "5m"));
    shutdown = strdup(nc_env_or("NOVACRON_SHUTDOWN_TIMEOUT", "30s"));
    level = strdup(nc_env_or("NOVACRON_LOG_LEVEL", "info"));
    node_ttl = strdup(nc_env_or("NOVACRON_NODE_TTL", "10s"));
    sf = (struct sched_flags){
        .reserve_cpu = strdup(nc_env_or("NOVACRON_RESERVE_CPU", "0")),
        .reserve_memory = strdup(nc_env_or("NOVACRON_RESERVE_MEMORY", "0")),
        .cpu_over = strdup(nc_env_or("NOVACRON_CPU_OVERCOMMIT", "4.0")),
        .memory_over = strdup(nc_env_or("NOVACRON_MEMORY_OVERCOMMIT", "1.0")),
        .policy = strdup(nc_env_or("NOVACRON_PLACEMENT_POLICY", "spread")),
        .labels = strdup(nc_env_or("NOVACRON_NODE_LABELS", "")),
        .pools = strdup(nc_env_or("NOVACRON_SHARED_POOLS", "")),
    };

    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case OPT_ETCD: set(&cfg->etcd_list, optarg); break;
        case OPT_PREFIX: set(&cfg->prefix, optarg); break;
        case OPT_NODE: set(&cfg->node, optarg); break;
        case OPT_LIBVIRT: set(&cfg->libvirt_uri, optarg); break;
        case OPT_LISTEN: set(&cfg->listen, optarg); break;
        case OPT_WORKERS: set(&workers, optarg); break;
        case OPT_RESYNC: set(&resync, optarg); break;
        case OPT_UNDERLAY: set(&cfg->underlay, optarg); break;
        case OPT_VLAN_PARENT: set(&cfg->vlan_parent, optarg); break;
        case OPT_PEER: set(&cfg->peer_libvirt, optarg); break;
        case OPT_NETNS: set(&cfg->netns, optarg); break;
        case OPT_CACERT: set(&cfg->cacert, optarg); break;
        case OPT_CERT: set(&cfg->cert, optarg); break;
        case OPT_KEY: set(&cfg->key, optarg); break;
        case OPT_USER: set(&cfg->user, optarg); break;
        case OPT_PASSWORD: set(&cfg->password, optarg); break;
        case OPT_GC: cfg->gc_orphans = true; break;
        case OPT_FORCE_TCG: cfg->force_tcg = true; break;
        case OPT_CONSOLE_DIR: set(&cfg->console_dir, optarg); break;
        case OPT_IMAGE_DIR: set(&cfg->image_dir, optarg); break;
        case OPT_BOOT_DIR: set(&cfg->boot_dir, optarg); break;
        case OPT_EXEC_DIR: set(&cfg->exec_dir, optarg); break;
        case OPT_PROCESS_LIBVIRT: set(&cfg->process_libvirt, optarg); break;
        case OPT_PODMAN_SOCKET: set(&cfg->podman_socket, optarg); break;
        case OPT_RUN_DIR: set(&cfg->run_dir, optarg); break;
        case OPT_NODE_TTL: set(&node_ttl, optarg); break;
        case OPT_RESERVE_CPU: set(&sf.reserve_cpu, optarg); break;
        case OPT_RESERVE_MEMORY: set(&sf.reserve_memory, optarg); break;
        case OPT_CPU_OVER: set(&sf.cpu_over, optarg); break;
        case OPT_MEMORY_OVER: set(&sf.memory_over, optarg); break;
        case OPT_POLICY: set(&sf.policy, optarg); break;
        case OPT_LABEL: append(&sf.labels, &env_labels, optarg); break;
        case OPT_SHARED_POOL: append(&sf.pools, &env_pools, optarg); break;
        case OPT_SHUTDOWN: set(&shutdown, optarg); break;
        case OPT_LOG: set(&level, optarg); break;
        case 'h':
            fputs(usage, stdout);
            r = 1;
            goto out;
        case OPT_VERSION:
            puts("novacrond 0.1.0");
            r = 1;
            goto out;
        default:
            fputs("Try 'novacrond --help'.\n", stderr);
            r = -EINVAL;
            goto out;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "novacrond: unexpected argument \"%s\"\nTry 'novacrond --help'.\n",
                argv[optind]);
        r = -EINVAL;
        goto out;
    }
    if (!sf.reserve_cpu || !sf.reserve_memory || !sf.cpu_over || !sf.memory_over ||
        !sf.policy || !sf.labels || !sf.pools) {
        r = -ENOMEM;
        goto out;
    }
    r = finish(cfg, workers, resync, shutdown, level, node_ttl);
    if (r == 0)
        r = finish_sched(cfg, &sf);
out:
    free(sf.reserve_cpu);
    free(sf.reserve_memory);
    free(sf.cpu_over);
    free(sf.memory_over);
    free(sf.policy);
    free(sf.labels);
    free(sf.pools);
    free(node_ttl);
    free(workers);
    free(resync);
    free(shutdown);
    free(level);
    return r;
}

void
nc_config_clear(struct nc_config *cfg)
{
    nc_labels_clear(&cfg->labels);
    free(cfg->etcd_list);
    free(cfg->prefix);
    free(cfg->node);
    free(cfg->libvirt_uri);
    free(cfg->listen);
    free(cfg->underlay);
    free(cfg->vlan_parent);
    free(cfg->peer_libvirt);
    free(cfg->netns);
    free(cfg->console_dir);
    free(cfg->image_dir);
    free(cfg->boot_dir);
    free(cfg->exec_dir);
    free(cfg->process_libvirt);
    free(cfg->podman_socket);
    free(cfg->run_dir);
    free(cfg->cacert);
    free(cfg->cert);
    free(cfg->key);
    free(cfg->user);
    free(cfg->password);
    memset(cfg, 0, sizeof(*cfg));
}

void
nc_config_etcd(const struct nc_config *cfg, struct nc_etcd_conf *ret)
{
    *ret = (struct nc_etcd_conf){
        .endpoints = cfg->endpoints,
        .n_endpoints = cfg->n_endpoints,
        .cacert = cfg->cacert,
        .cert = cfg->cert,
        .key = cfg->key,
        .user = cfg->user,
        .password = cfg->password,
    };
}
