/* The VirtualMachine kind of the API (schema/README.md §5-7): its parsed form and validator. */
#ifndef NC_SCHEMA_VM_H
#define NC_SCHEMA_VM_H

#include <stdbool.h>
#include <stdint.h>

#include "schema/labels.h"
#include "schema/validate.h"

#define NC_VM_KIND "VirtualMachine"
#define NC_VM_MAX_VCPUS 256
#define NC_VM_MAX_DISKS 16
#define NC_VM_MAX_IFACES 8
#define NC_VM_MIN_MEMORY (16ULL << 20) /* a multiple of 1KiB up to 4TiB */
#define NC_VM_MAX_MEMORY (4ULL << 40)
#define NC_VM_DEFAULT_GRACE 30
#define NC_VM_MAX_GRACE 3600
#define NC_VM_MAX_SELECTOR 16 /* labels in a selector */
#define NC_VM_MAX_ANTI 8      /* anti-affinity terms */
#define NC_VM_MIN_EVERY 10    /* seconds between scheduled snapshots */
#define NC_VM_MAX_EVERY (366 * 86400)
#define NC_VM_MAX_KEEP 100
#define NC_VM_MAX_IOPS 1000000
#define NC_VM_MAX_KBPS 100000000 /* interfaces[].bandwidth: 100 Gbit/s */
#define NC_VM_MAX_BURST_KIB 1048576
#define NC_VM_DEFAULT_BURST_KIB 16
#define NC_VM_MAX_BPS (1ULL << 40)
#define NC_VM_RESTART_AT "novacron.io/restartedAt"
#define NC_VM_RESTART_REASON "novacron.io/restartReason"
#define NC_VM_RESTART_TOKEN_MAX 64
#define NC_VM_RESTART_REASON_MAX 256
#define NC_VM_MIN_SHARES 2
#define NC_VM_MAX_SHARES 262144
#define NC_VM_QUOTA_PERIOD 100000 /* microseconds: cpuQuota is per this period */
#define NC_VM_MIN_QUOTA 1000
#define NC_VM_MAX_CPU 1024 /* host CPU ids a pinning may name: 0 to this - 1 */
#define NC_VM_CLOUDINIT_MAX (64 * 1024) /* bytes of userData, of networkConfig */
#define NC_VM_META_MAX 32                /* entries of metaData */
#define NC_VM_META_KEY_MAX 63
#define NC_VM_META_VALUE_MAX 1024
/* A scheduled snapshot is named <vm>-YYYYMMDD-hhmmss: the suffix's length. */
#define NC_VM_SCHEDULED_SUFFIX 16

enum nc_run_state {
    NC_RUN_RUNNING,
    NC_RUN_STOPPED,
    NC_RUN_PAUSED,
    NC_RUN_INVALID,
};

/* spec.runtime: what runs the workload (schema/README.md §5). */
enum nc_runtime {
    NC_RUNTIME_VM,      /* a QEMU guest, through libvirt */
    NC_RUNTIME_PROCESS, /* spec.command on the node, through libvirt's LXC driver */
    NC_RUNTIME_CONTAINER, /* spec.image, an OCI image, through Podman */
    NC_RUNTIME_INVALID,
};
#define NC_RUNTIME_COUNT NC_RUNTIME_INVALID

/* spec.restartPolicy of a process: whether an exit starts it again. */
enum nc_restart_policy {
    NC_RESTART_ALWAYS,
    NC_RESTART_ON_FAILURE,
    NC_RESTART_NEVER,
    NC_RESTART_INVALID,
};

#define NC_VM_MAX_ARGS 64     /* spec.command: the program and its arguments */
#define NC_VM_MAX_IMAGE 255   /* spec.image */
#define NC_VM_MAX_ARG 4096    /* bytes of each */
#define NC_VM_MAX_ENV 64      /* spec.env entries */
#define NC_VM_ENV_NAME_MAX 128

struct nc_vm_env {
    char *name, *value;
};

enum nc_accel {
    NC_ACCEL_AUTO,
    NC_ACCEL_KVM,
    NC_ACCEL_TCG,
    NC_ACCEL_INVALID,
};

/* A set of host CPUs (spec.resources.pinning). */
struct nc_cpuset {
    uint64_t bits[NC_VM_MAX_CPU / 64];
};

static inline bool
nc_cpuset_has(const struct nc_cpuset *s, unsigned cpu)
{
    return cpu < NC_VM_MAX_CPU && (s->bits[cpu / 64] >> (cpu % 64) & 1);
}

/* Parses a CPU list ("1", "0-3,6"; ascending or not, no CPU twice) into
 * @ret and its size into @ret_n. false when @s is not one. */
bool nc_cpuset_parse(const char *s, struct nc_cpuset *ret, unsigned *ret_n);
/* The canonical form of @set ("0-3,6") into @out, "" when empty. */
void nc_cpuset_format(const struct nc_cpuset *set, char *out, size_t outsz);

struct nc_vm_disk {
    char name[NC_NAME_MAX + 1];
    char volume[NC_NAME_MAX + 1];
    bool read_only;
    uint64_t iops, bps; /* spec.resources.disks[]: its limits, 0 for none */
};

struct nc_vm_iface {
    char name[NC_NAME_MAX + 1];
    char network[NC_NAME_MAX + 1];
    char mac[18]; /* "" when to be allocated */
    char ip[16];  /* "" when to be allocated */
    bool port_security; /* frames only from its MAC, packets only from its IP */
    /* interfaces[].bandwidth: kbit/s to and from the guest (0: no limit)
     * and the burst either may reach, in KiB (0: the default). */
    uint32_t in_kbps, out_kbps, burst_kib;
};

/* Keep away from the VMs of the same namespace carrying @match: never
 * (@required) or preferably not in the same domain of node label
 * @topology (NC_LABEL_NODE: the same node). */
struct nc_vm_anti {
    struct nc_labels match;
    char topology[NC_LABEL_KEY_MAX + 1];
    bool required;
};

/* spec.cloudInit: what the NoCloud seed of the guest holds beside what
 * NovaCron writes itself (instance-id, local-hostname, and the network
 * configuration when none is given). */
struct nc_vm_cloudinit {
    char *user_data;      /* NULL when absent */
    char *network_config; /* NULL when absent: made from the interfaces */
    unsigned n_meta;
    struct {
        char key[NC_VM_META_KEY_MAX + 1];
        char *value;
    } meta[NC_VM_META_MAX];
};

/* spec.placement (schema/README.md §8). */
struct nc_vm_placement {
    struct nc_labels node_selector;        /* node labels it needs */
    char spread_key[NC_LABEL_KEY_MAX + 1]; /* node label to spread over, "" for none */
    struct nc_labels spread_match;         /* whom it spreads from (default: its own labels) */
    unsigned n_anti;
    struct nc_vm_anti anti[NC_VM_MAX_ANTI];
};

struct nc_vm_spec {
    enum nc_runtime runtime;
    enum nc_run_state run_state;
    /* A process's: its program (an absolute path) and arguments,
     * NULL-terminated, and its environment; a container's, its command
     * (NULL: the image's) and environment. NULL and 0 for a VM. */
    char **command;
    unsigned n_command;
    struct nc_vm_env *env;
    unsigned n_env;
    enum nc_restart_policy restart_policy;
    char image[NC_VM_MAX_IMAGE + 1]; /* a container's OCI image reference, "" otherwise */
    unsigned vcpus;
    uint64_t memory; /* bytes, a multiple of 1 MiB */
    /* spec.instancetype, "" for none: an InstanceType of the namespace
     * that gives vcpus and memory, which the spec then leaves out (its
     * reconciler fills them in; 0 until then). */
    char instancetype[NC_NAME_MAX + 1];
    /* spec.resources.memoryBalloon: the memory the guest is given now, at
     * most memory, changed live; 0: all of memory. */
    uint64_t memory_balloon;
    /* spec.resources.cpuShares and cpuQuota (microseconds of each
     * NC_VM_QUOTA_PERIOD per vCPU): 0 for none. */
    unsigned cpu_shares, cpu_quota;
    /* spec.resources.pinning: vCPU i runs on the i-th CPU of the set, the
     * CPUs dedicated to it; n_pinned 0 for none. */
    struct nc_cpuset pinning;
    unsigned n_pinned;
    enum nc_accel accel;
    char *kernel, *initrd, *cmdline; /* NULL when absent */
    unsigned n_disks;
    struct nc_vm_disk disks[NC_VM_MAX_DISKS];
    unsigned n_ifaces;
    struct nc_vm_iface ifaces[NC_VM_MAX_IFACES];
    int stop_grace_seconds;
    char node[254]; /* "" when unplaced */
    struct nc_vm_placement *placement; /* NULL when the spec has none */
    struct nc_vm_cloudinit *cloud_init; /* NULL when the spec has none */
    struct nc_labels labels;           /* metadata.labels */
    /* metadata.annotations novacron.io/restartedAt and /restartReason: a
     * restart asked for once per distinct value, "" for none. */
    char restart_at[NC_VM_RESTART_TOKEN_MAX + 1];
    char restart_reason[NC_VM_RESTART_REASON_MAX + 1];
    unsigned snapshot_every;           /* spec.snapshotSchedule, seconds; 0: none */
    unsigned snapshot_keep;
};

/* Frees @p (NULL allowed). */
void nc_vm_placement_free(struct nc_vm_placement *p);

/* A unicast MAC written as six colon-separated hex pairs and nothing
 * else, into @out in lower case. The one MAC parser: everything that
 * reads a MAC (specs, allocations, statuses) goes through it. */
bool nc_mac_parse(const char *s, char out[18]);

extern const char *const nc_runtime_names[];
extern const char *const nc_restart_policy_names[];
extern const char *const nc_run_state_names[];
extern const char *const nc_accel_names[];

/*
 * Validates the VirtualMachine document @json stored under the key of
 * namespace @ns and name @name (both NULL: the document is not stored yet
 * and names itself). Every problem is appended to @errs. Returns 0 and
 * fills @ret when the document is valid, -EINVAL otherwise (@ret is then
 * cleared). Free @ret's strings with nc_vm_spec_clear().
 */
int nc_vm_spec_parse(const char *json, const char *ns, const char *name, struct nc_vm_spec *ret,
                     struct nc_verr *errs) __attribute__((warn_unused_result));
int nc_vm_spec_from_json(const cJSON *doc, const char *ns, const char *name,
                         struct nc_vm_spec *ret, struct nc_verr *errs)
    __attribute__((warn_unused_result));
/* Validation alone (struct nc_kind's validate). */
int nc_vm_validate(const cJSON *doc, const char *ns, const char *name, struct nc_verr *errs);
void nc_vm_spec_clear(struct nc_vm_spec *spec);

#endif
