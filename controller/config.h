/* novacrond's settings: flags, each also an environment variable. */
#ifndef NC_CONFIG_H
#define NC_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "core/etcd.h"
#include "core/flags.h"
#include "scheduler/inventory.h"
#include "scheduler/scheduler.h"


struct nc_config {
    char *etcd_list;   /* as given: "http://a:2379,http://b:2379" */
    const char *endpoints[NC_FLAGS_MAX_ENDPOINTS];
    size_t n_endpoints;
    char *prefix;      /* always ends in '/' */
    char *node;
    char *libvirt_uri;
    char *listen;      /* "host:port"; "" disables the endpoint */
    char *underlay, *netns;
    char *vlan_parent;  /* NULL: no vlan Networks here */
    char *peer_libvirt; /* NULL: qemu+tcp://<underlay address>/system */
    char *console_dir; /* serial logs of real guests */
    char *image_dir;   /* Volume source images come from here */
    char *boot_dir;    /* VM kernels and initrds; NULL: image_dir */
    char *exec_dir;    /* the programs processes may run */
    /* libvirt's LXC driver, for runtime process; NULL: the one of the
     * libvirtd of libvirt_uri, "none": no process runtime */
    char *process_libvirt;
    /* The Podman service that runs containers, NULL: the default socket
     * unless libvirt is the test driver; "none": no containers. */
    char *podman_socket;
    char *run_dir;     /* dnsmasq files, under <run_dir>/<node>/dnsmasq */
    char *cacert, *cert, *key, *user, *password;
    int workers;
    int64_t resync_ms;
    int64_t shutdown_timeout_ms;
    int64_t node_ttl_s;
    int log_level;
    /* What the node offers the scheduler (scheduler/inventory.h). */
    unsigned reserve_cpu;
    uint64_t reserve_memory;
    double cpu_overcommit, memory_overcommit;
    struct nc_labels labels;
    struct nc_sched_pool shared_pools[NC_SCHED_MAX_POOLS];
    unsigned n_shared_pools;
    enum nc_sched_policy policy;
    bool gc_orphans;
    bool force_tcg;
};

/*
 * Fills @cfg from the environment, then from @argv. Returns 0, 1 when
 * --help or --version was printed (exit 0), or -EINVAL after printing what
 * is wrong to stderr.
 */
int nc_config_parse(struct nc_config *cfg, int argc, char **argv)
    __attribute__((warn_unused_result));
void nc_config_clear(struct nc_config *cfg);

/* The etcd connection settings of @cfg; borrowed from it. */
void nc_config_etcd(const struct nc_config *cfg, struct nc_etcd_conf *ret);

#endif
