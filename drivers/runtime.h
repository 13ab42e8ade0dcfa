/*
 * The runtime table: what the VM reconciler asks of whatever runs a
 * VirtualMachine (a QEMU guest, a process, a container), and what each
 * runtime can do. Every call is blocking and thread-safe; errors come back
 * as a negative errno, and nc_drv_errmsg() holds the reason for the calling
 * thread.
 */
#ifndef NC_DRIVER_RUNTIME_H
#define NC_DRIVER_RUNTIME_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "drivers/domxml.h"
#include "drivers/error.h"
#include "schema/vm.h"

enum nc_dom_state {
    NC_DOM_RUNNING,
    NC_DOM_PAUSED,
    NC_DOM_SHUTOFF,
    NC_DOM_SHUTTING_DOWN,
    NC_DOM_CRASHED,
    NC_DOM_OTHER,
    NC_DOM_INVALID,
};

extern const char *const nc_dom_state_names[];

struct nc_dominfo {
    char uuid[37];
    enum nc_dom_state state;
    bool owned;              /* carries an owner mark (then @owner is set) */
    struct nc_owner owner;   /* the persistent definition's mark */
    char live_config[17];    /* config hash of the running instance, "" if none */
    char live_base[17];      /* its hash without the disks (struct nc_owner) */
    unsigned live_id;        /* libvirt's id of the running instance, 0 when off: each
                              * start gives a new one */
    unsigned live_vcpus;     /* what the running instance has */
    uint64_t live_memory_kib;
};

struct nc_hv;

#define NC_MIGRATE_MAX_DISKS 16

/* How to move a running domain to another host (nc_hv_migrate()). */
struct nc_migrate_params {
    const char *dest_uri;       /* the target's libvirtd, as the source's dials it */
    bool copy_storage;          /* copy the disks too (they are not on shared storage) */
    /* Disks whose file is another there: disk_from[i] here is disk_to[i]
     * on the target (which made it, empty, to be copied into). */
    const char *disk_from[NC_MIGRATE_MAX_DISKS], *disk_to[NC_MIGRATE_MAX_DISKS];
    unsigned n_disks;
    unsigned max_downtime_ms;   /* 0: libvirt's default */
    unsigned bandwidth_mibps;   /* 0: unlimited */
};

/* A migration job's figures, as libvirt's job statistics have them. */
struct nc_job {
    bool active;              /* a job runs (nc_hv_job() without completed) */
    uint64_t elapsed_ms;
    uint64_t data_processed;  /* bytes */
    uint64_t data_remaining;
    uint64_t data_total;
    uint64_t memory_iterations;
    uint64_t downtime_ms;     /* of a completed migration */
};

/* A domain snapshot, as libvirt describes it. */
struct nc_snapinfo {
    bool memory;      /* taken while the domain ran: its memory is in it */
    long long created; /* seconds since the epoch */
    char mark[512];   /* its description: the owner mark it was taken with */
};

/* A disk of a running domain, as its live XML has it. */
struct nc_live_disk {
    char target[8];   /* "vda" */
    char path[1024];  /* source file, "" when none */
};

/* An interface of a running domain. */
struct nc_live_nic {
    char mac[18];
    char tap[16];     /* its target device, "" when none */
    char mtu[8];      /* "" when not set */
};

#define NC_LIVE_MAX 32 /* devices of each sort listed */

/* The disks (CD-ROMs aside) and interfaces of a running domain. */
struct nc_live_devs {
    unsigned n_disks, n_nics;
    struct nc_live_disk disks[NC_LIVE_MAX];
    struct nc_live_nic nics[NC_LIVE_MAX];
};

#define NC_STATS_MAX_DEVS 16

/* What a domain used, as one libvirt statistics call has it for all. */
struct nc_domstats {
    const char *name;          /* the domain's */
    enum nc_dom_state state;
    unsigned vcpus;            /* current */
    bool has_vcpus, has_cpu, has_balloon; /* what libvirt gave */
    uint64_t cpu_time_ns;      /* vCPUs and QEMU's own threads */
    uint64_t memory_max_kib;   /* balloon.maximum */
    uint64_t memory_actual_kib; /* balloon.current */
    uint64_t memory_rss_kib;   /* balloon.rss, 0 when unknown */
    unsigned n_disks, n_nets;
    struct nc_blockstats {
        char dev[16];          /* "vda" */
        char path[1024];       /* its source file, "" when none */
        uint64_t rd_bytes, wr_bytes, rd_reqs, wr_reqs;
    } disks[NC_STATS_MAX_DEVS];
    struct nc_netstats {
        char dev[32];          /* the host side: the tap */
        uint64_t rx_bytes, tx_bytes, rx_pkts, tx_pkts, rx_drop, tx_drop, rx_errs, tx_errs;
    } nets[NC_STATS_MAX_DEVS];
};

/*
 * One runtime, as libvirt's src/driver-hypervisor.h has them: every call
 * the reconcilers make goes through it, so they run the same against
 * libvirt's QEMU and LXC drivers (drivers/libvirt.c), Podman
 * (drivers/podman.c) and drivers/fake/. A "domain" is whatever the runtime
 * runs: a guest, a process, a container. NULL means unsupported. Each
 * returns 0 or a negative errno, with the reason in nc_drv_errmsg().
 */
struct nc_hv_ops {
    /* Frees the backend; the wrapper nc_hv_close() accepts NULL. */
    void (*close)(struct nc_hv *hv);
    /* The domain type for @accel: "test", "kvm" or "qemu" (TCG), where
     * "auto" picks KVM only when it is offered; NULL when @accel asks for
     * KVM and there is none. */
    const char *(*domain_type)(struct nc_hv *hv, enum nc_accel accel);
    /* Calls @changed with a domain's name on every lifecycle event, and
     * @reconnected after the connection was lost and made again (events
     * may have been missed), both on the backend's own thread, where they
     * must only hand the news on (queue a key). */
    int (*watch)(struct nc_hv *hv, void (*changed)(void *data, const char *name),
                 void (*reconnected)(void *data), void *data);
    /* 0, -ENOENT when no domain has @name, or a negative errno. */
    int (*lookup)(struct nc_hv *hv, const char *name, struct nc_dominfo *ret);
    /* Makes @def the domain's persistent definition (its owner mark
     * included); a running instance keeps its own until it starts again. */
    int (*define)(struct nc_hv *hv, const struct nc_domain_def *def);
    int (*start)(struct nc_hv *hv, const char *name);
    int (*shutdown)(struct nc_hv *hv, const char *name);
    int (*destroy)(struct nc_hv *hv, const char *name);
    int (*suspend)(struct nc_hv *hv, const char *name);
    int (*resume)(struct nc_hv *hv, const char *name);
    int (*undefine)(struct nc_hv *hv, const char *name);
    /* Calls @fn for every domain carrying an owner mark. */
    int (*list_owned)(struct nc_hv *hv,
                      void (*fn)(const char *name, const struct nc_owner *owner, void *data),
                      void *data);
    /* Grows disk @path of running domain @name to @bytes, through QEMU, so
     * the guest sees the new size at once. */
    int (*block_resize)(struct nc_hv *hv, const char *name, const char *path, uint64_t bytes);
    /* The devices of running domain @name (the first NC_LIVE_MAX of each
     * sort) into @ret. */
    int (*live_devices)(struct nc_hv *hv, const char *name, struct nc_live_devs *ret);
    /* Attaches (or detaches) device @xml to (from) the running instance of
     * @name only; a detach returns once QEMU confirmed it or libvirt gave
     * up waiting. */
    int (*hotplug)(struct nc_hv *hv, const char *name, const char *xml, bool attach);
    /* Replaces the owner mark of the running instance of @name with @xml
     * (from nc_domxml_owner()), once it matches the new definition. */
    int (*set_live_owner)(struct nc_hv *hv, const char *name, const char *xml);
    /* The host's CPUs and memory in bytes, as the scheduler counts them. */
    int (*node_info)(struct nc_hv *hv, unsigned *ret_cpus, uint64_t *ret_memory);
    /* Live-migrates running domain @name to @p->dest_uri, peer to peer:
     * the definition goes with it and is removed here once the guest runs
     * there. Calls @tick with the job's figures about every @tick_ms while
     * it runs; when @tick returns false the job is aborted (-ECANCELED,
     * the guest keeps running here). Blocks until the job ended. */
    int (*migrate)(struct nc_hv *hv, const char *name, const struct nc_migrate_params *p,
                   unsigned tick_ms, bool (*tick)(void *data, const struct nc_job *job),
                   void *data);
    /* The figures of @name's running job (->active false when none), or
     * with @completed, of its last completed one (-ENOENT when none). */
    int (*job)(struct nc_hv *hv, const char *name, bool completed, struct nc_job *ret);
    /* Takes snapshot @snap of every disk of domain @name, atomically, and
     * of its memory when it runs; @mark goes into its description. */
    int (*snapshot_create)(struct nc_hv *hv, const char *name, const char *snap,
                           const char *mark);
    /* 0, -ENOENT when @name has no snapshot @snap, or a negative errno. */
    int (*snapshot_lookup)(struct nc_hv *hv, const char *name, const char *snap,
                           struct nc_snapinfo *ret);
    int (*snapshot_delete)(struct nc_hv *hv, const char *name, const char *snap);
    /* Reverts @name to @snap: a snapshot with memory resumes the guest
     * where it was (paused with @paused), one without leaves it off. */
    int (*snapshot_revert)(struct nc_hv *hv, const char *name, const char *snap, bool paused);
    /* Calls @fn with the name of every snapshot of @name. */
    int (*snapshot_list)(struct nc_hv *hv, const char *name,
                         void (*fn)(const char *snap, void *data), void *data);
    /* Sets the balloon of @name to @kib, in its definition and, when it
     * runs, live. */
    int (*set_memory)(struct nc_hv *hv, const char *name, uint64_t kib);
    /* Sets the limits of disk @dev ("vda") of @name, 0 for none, in its
     * definition and, when it runs, live. */
    int (*set_iotune)(struct nc_hv *hv, const char *name, const char *dev, uint64_t iops,
                      uint64_t bps);
    /* Sets the CPU shares (0: the default, 1024) and the quota of each vCPU
     * per @period microseconds (0: none) of @name, in its definition and,
     * when it runs, live. */
    int (*set_cputune)(struct nc_hv *hv, const char *name, unsigned shares, unsigned period,
                       unsigned quota);
    /* Pins vCPU @vcpu of @name to host CPU @cpu (-1: lets it run on any),
     * in its definition and, when it runs, live. */
    int (*pin_vcpu)(struct nc_hv *hv, const char *name, unsigned vcpu, int cpu);
    /* Calls @fn with the statistics of every domain, all read by one call
     * (@st is valid during @fn only). */
    int (*stats)(struct nc_hv *hv, void (*fn)(const struct nc_domstats *st, void *data),
                 void *data);
};

/* What a backend's guests can do, asked of it rather than of its name. */
struct nc_hv_caps {
    bool acpi;        /* a guest can be asked to power off */
    bool console_log; /* a guest's serial console can go to a file */
    bool taps;        /* a guest's NIC is a tap device to put on a bridge */
    bool cpu_tune;    /* a guest's CPU shares, quota and pinning change live */
    bool hotplug;     /* disks and interfaces are added and removed live */
};

struct nc_hv {
    const struct nc_hv_ops *ops;
    struct nc_hv_caps caps;
    void *priv;
};

/* Closes @hv (NULL allowed); returns NULL. */
static inline struct nc_hv *
nc_hv_close(struct nc_hv *hv)
{
    if (hv)
        hv->ops->close(hv);
    return NULL;
}

#define nc_hv_domain_type(hv, accel) ((hv)->ops->domain_type((hv), (accel)))
#define nc_hv_watch(hv, changed, reconnected, data)                                              \
    ((hv)->ops->watch((hv), (changed), (reconnected), (data)))
#define nc_hv_lookup(hv, name, ret) ((hv)->ops->lookup((hv), (name), (ret)))
#define nc_hv_define(hv, def) ((hv)->ops->define((hv), (def)))
#define nc_hv_start(hv, name) ((hv)->ops->start((hv), (name)))
#define nc_hv_shutdown(hv, name) ((hv)->ops->shutdown((hv), (name)))
#define nc_hv_destroy(hv, name) ((hv)->ops->destroy((hv), (name)))
#define nc_hv_suspend(hv, name) ((hv)->ops->suspend((hv), (name)))
#define nc_hv_resume(hv, name) ((hv)->ops->resume((hv), (name)))
#define nc_hv_undefine(hv, name) ((hv)->ops->undefine((hv), (name)))
#define nc_hv_list_owned(hv, fn, data) ((hv)->ops->list_owned((hv), (fn), (data)))
#define nc_hv_node_info(hv, cpus, memory) ((hv)->ops->node_info((hv), (cpus), (memory)))
#define nc_hv_block_resize(hv, name, path, bytes)                                                \
    ((hv)->ops->block_resize((hv), (name), (path), (bytes)))
#define nc_hv_live_devices(hv, name, ret) ((hv)->ops->live_devices((hv), (name), (ret)))
#define nc_hv_hotplug(hv, name, xml, attach) ((hv)->ops->hotplug((hv), (name), (xml), (attach)))
#define nc_hv_set_live_owner(hv, name, xml) ((hv)->ops->set_live_owner((hv), (name), (xml)))

/* The optional operations answer -ENOTSUP where the backend has none. */
#define NC_HV_OPTIONAL(hv, op, name, what, ...)                                                  \
    ((hv)->ops->op ? (hv)->ops->op((hv), (name), __VA_ARGS__)                                    \
                   : nc_drv_fail(-ENOTSUP, what " %s: this hypervisor cannot", (name)))
#define nc_hv_snapshot_create(hv, name, snap, mark)                                              \
    NC_HV_OPTIONAL(hv, snapshot_create, name, "snapshot", snap, mark)
#define nc_hv_snapshot_lookup(hv, name, snap, ret)                                               \
    NC_HV_OPTIONAL(hv, snapshot_lookup, name, "look up a snapshot of", snap, ret)
#define nc_hv_snapshot_delete(hv, name, snap)                                                    \
    NC_HV_OPTIONAL(hv, snapshot_delete, name, "delete a snapshot of", snap)
#define nc_hv_snapshot_revert(hv, name, snap, paused)                                            \
    NC_HV_OPTIONAL(hv, snapshot_revert, name, "revert", snap, paused)
#define nc_hv_set_memory(hv, name, kib)                                                          \
    NC_HV_OPTIONAL(hv, set_memory, name, "set the memory balloon of", kib)
#define nc_hv_set_cputune(hv, name, shares, period, quota)                                        \
    NC_HV_OPTIONAL(hv, set_cputune, name, "set the CPU shares and quota of", shares, period, quota)
#define nc_hv_pin_vcpu(hv, name, vcpu, cpu)                                                      \
    NC_HV_OPTIONAL(hv, pin_vcpu, name, "pin a vCPU of", vcpu, cpu)
#define nc_hv_set_iotune(hv, name, dev, iops, bps)                                               \
    NC_HV_OPTIONAL(hv, set_iotune, name, "set the disk limits of", dev, iops, bps)
#define nc_hv_snapshot_list(hv, name, fn, data)                                                  \
    NC_HV_OPTIONAL(hv, snapshot_list, name, "list the snapshots of", fn, data)
static inline int
nc_hv_migrate(struct nc_hv *hv, const char *name, const struct nc_migrate_params *p,
              unsigned tick_ms, bool (*tick)(void *data, const struct nc_job *job), void *data)
{
    if (!hv->ops->migrate)
        return nc_drv_fail(-ENOTSUP, "migrate %s: this hypervisor cannot migrate", name);
    return hv->ops->migrate(hv, name, p, tick_ms, tick, data);
}

static inline int
nc_hv_stats(struct nc_hv *hv, void (*fn)(const struct nc_domstats *st, void *data), void *data)
{
    if (!hv->ops->stats)
        return nc_drv_fail(-ENOTSUP, "domain statistics: this hypervisor has none");
    return hv->ops->stats(hv, fn, data);
}

static inline int
nc_hv_job(struct nc_hv *hv, const char *name, bool completed, struct nc_job *ret)
{
    if (!hv->ops->job)
        return nc_drv_fail(-ENOTSUP, "job of %s: this hypervisor has no jobs", name);
    return hv->ops->job(hv, name, completed, ret);
}

#endif
