/*
 * Domain XML for libvirt, built with libxml2's xmlTextWriter so that every
 * piece of user text is escaped by the library, and the owner mark that
 * NovaCron keeps in each domain's <metadata>.
 */
#ifndef NC_DOMXML_H
#define NC_DOMXML_H

#include <stdbool.h>
#include <stdint.h>

#include "core/names.h"

/* A disk as the domain has it: the file (a Volume's, as storage has it),
 * and the name it goes by in the hash of the definition. */
struct nc_disk_src {
    char name[64];
    char path[1024];
    char format[16];
    bool read_only;
    uint64_t iops, bps; /* <iotune> limits, 0 for none; not in the hash: they change live */
};

/* An interface as the domain has it: a tap device of libvirt's
 * (<interface type='ethernet'>) that the controller then puts on the
 * Network's bridge. */
struct nc_nic_src {
    char mac[18];
    char tap[16];  /* at most 15 characters */
    unsigned mtu;
    /* A process's address and prefix length, which the container is
     * given (a guest asks DHCP for its). */
    char ip[16];
    unsigned prefix;
};

/* What a domain is made of, in the hypervisor's terms: the reconciler
 * turns a spec into this, so the builder knows no API type. */
struct nc_domain_def {
    const char *name;            /* from nc_domain_name() */
    const char *uuid;            /* of the domain being redefined, or NULL */
    const char *type;            /* libvirt domain type: "test", "qemu", "kvm" */
    const char *console_log;     /* serial console file, or NULL */
    bool acpi;                   /* a guest that can be asked to power off */
    const struct nc_owner *owner;
    unsigned vcpus;
    uint64_t memory;             /* bytes */
    uint64_t current_memory;     /* the balloon's target in bytes; 0: @memory. Not in the
                                  * hash: it changes live */
    /* <cputune>, none of it in the hash (it changes live): shares (0 for
     * none), the quota of each vCPU per NC_CPU_QUOTA_PERIOD microseconds (0
     * for none), and the host CPU of vCPU i, pins[i], for @n_pins vCPUs. */
    unsigned cpu_shares, cpu_quota;
    const unsigned *pins;
    unsigned n_pins;
    int accel;                   /* the acceleration asked for: part of the
                                  * definition's identity (its hash) */
    const char *kernel, *initrd, *cmdline; /* direct kernel boot, or NULL */
    const struct nc_disk_src *disks;        /* @n_disks of them, or NULL */
    unsigned n_disks;
    const struct nc_nic_src *nics;          /* @n_nics of them, or NULL */
    unsigned n_nics;
    const char *seed;            /* cloud-init seed image, a read-only CD-ROM, or NULL */
    /* A process (type "lxc"): its program and arguments (NULL-terminated),
     * its environment as "NAME=value", and its folder on the node, where
     * its log and exit code are written; @command NULL for a guest. */
    const char *const *command;
    const char *const *env;
    unsigned n_env;
    const char *run_dir;
    /* A container (type "container"): its OCI image; @command NULL runs
     * the image's own, @env and @nics as for a process. */
    const char *image;
};

/* A process's output and exit status, in its folder (nc_domain_def.run_dir). */
#define NC_PROCESS_LOG "log"
#define NC_PROCESS_EXIT "exit-code"
#define NC_PROCESS_TMP "tmp" /* its scratch folder, the one it may write to */
/* Whom it runs as: nobody, without capabilities (user and group id). */
#define NC_PROCESS_ID 65534
#define NC_PROCESS_UID "65534"

#define NC_CPU_QUOTA_PERIOD 100000U

/* The seed's target device: not one of the data disks (vd*). */
#define NC_SEED_TARGET "sda"

/* The hash of everything in @def that goes into the domain definition
 * (name, uuid, console, owner and what changes live aside), as 16 hex
 * digits in @config: equal hashes, equal definitions. @base (may be NULL)
 * gets the hash of all but the disks and interfaces, which are hot-plugged.
 * The formula is part of every running domain's owner mark: changing it
 * restarts every guest after an upgrade. */
void nc_domain_config_hash(const struct nc_domain_def *def, char config[17], char base[17]);

/* The <disk> element of @src as disk @i (target vda, vdb...), for a
 * hot-plug. Caller frees @ret_xml. 0, -EINVAL or -ENOMEM. */
int nc_domxml_disk(const struct nc_disk_src *src, unsigned i, char **ret_xml)
    __attribute__((warn_unused_result));

/* The <interface> element of @nic, for a hot-plug (libvirt finds the one
 * to detach by its MAC). Caller frees @ret_xml. 0, -EINVAL or -ENOMEM. */
int nc_domxml_nic(const struct nc_nic_src *nic, char **ret_xml) __attribute__((warn_unused_result));

/* The owner element without its namespace, as virDomainSetMetadata()
 * takes it. Caller frees @ret_xml. */
int nc_domxml_owner(const struct nc_owner *owner, char **ret_xml)
    __attribute__((warn_unused_result));

/* The target device of disk @i: "vda", "vdb", ... */
void nc_disk_target(unsigned i, char out[8]);

/*
 * Builds the domain XML of @def into @ret_xml (caller frees). Returns 0,
 * -EINVAL when a string holds a character XML cannot carry (@def's
 * fields are validated before, so this is a second line of defence), or
 * -ENOMEM.
 */
int nc_domxml_build(const struct nc_domain_def *def, char **ret_xml)
    __attribute__((warn_unused_result));

/* Parses the owner element that virDomainGetMetadata() returns (without
 * its namespace) or nc_domxml_build() wrote (with it). Returns 0,
 * or -EINVAL when @xml is not a complete owner mark. */
int nc_domxml_parse_owner(const char *xml, struct nc_owner *ret)
    __attribute__((warn_unused_result));

/* True when @s holds only characters XML 1.0 allows in text. */
bool nc_xml_text_ok(const char *s);

#endif
