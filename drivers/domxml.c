#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlwriter.h>

#include "drivers/domxml.h"

void
nc_domain_config_hash(const struct nc_domain_def *def, char config[17], char base[17])
{
    uint64_t h = nc_hash_str(NC_HASH_START, def->type), b;
    const char *seed;
    char num[64];

    snprintf(num, sizeof(num), "%u/%" PRIu64 "/%d", def->vcpus, def->memory, def->accel);
    h = nc_hash_str(h, num);
    h = nc_hash_str(nc_hash_str(nc_hash_str(h, def->kernel), def->initrd), def->cmdline);
    /* A process's, only when it is one, so that guests keep their hashes. */
    for (const char *const *a = def->command; a && *a; a++)
        h = nc_hash_str(nc_hash_str(h, "arg"), *a);
    for (unsigned i = 0; def->env && i < def->n_env; i++)
        h = nc_hash_str(nc_hash_str(h, "env"), def->env[i]);
    if (def->run_dir)
        h = nc_hash_str(h, def->run_dir);
    if (def->image)
        h = nc_hash_str(nc_hash_str(h, "image"), def->image);
    /* The seed by its name, which says its content: its folder is the
     * node's, and a guest that moves keeps its definition. */
    seed = def->seed ? strrchr(def->seed, '/') : NULL;
    seed = seed ? seed + 1 : def->seed;
    /* The base: without the interfaces, which are hot-plugged like disks. */
    b = seed ? nc_hash_str(h, seed) : h;
    if (base)
        snprintf(base, 17, "%016" PRIx64, b);
    for (unsigned i = 0; def->nics && i < def->n_nics; i++) {
        snprintf(num, sizeof(num), "%u", def->nics[i].mtu);
        h = nc_hash_str(nc_hash_str(nc_hash_str(h, def->nics[i].mac), def->nics[i].tap), num);
        if (def->command || def->image)
            h = nc_hash_str(h, def->nics[i].ip);
    }
    /* Only when there is one, so that other domains keep their hashes. */
    if (seed)
        h = nc_hash_str(h, seed);
    for (unsigned i = 0; def->disks && i < def->n_disks; i++) {
        const struct nc_disk_src *d = &def->disks[i];

        h = nc_hash_str(nc_hash_str(nc_hash_str(h, d->name), d->path), d->format);
        h = nc_hash_str(h, d->read_only ? "ro" : "rw");
    }
    snprintf(config, 17, "%016" PRIx64, h);
}

void
nc_disk_target(unsigned i, char out[8])
{
    snprintf(out, 8, "vd%c", 'a' + (char)(i % 26)); /* at most NC_VM_MAX_DISKS: vda..vdp */
}

bool
nc_xml_text_ok(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; p && *p; p++)
        if (*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r')
            return false;
    return true;
}

/* Writes <name>text</name>; libxml2 escapes the text. */
static int
element(xmlTextWriterPtr w, const char *name, const char *text)
{
    if (!nc_xml_text_ok(text))
        return -EINVAL;
    return xmlTextWriterWriteElement(w, BAD_CAST name, BAD_CAST text) < 0 ? -ENOMEM : 0;
}

/* The owner mark; in the namespace for a domain definition (@ns), or bare
 * for virDomainSetMetadata(), which adds the namespace itself. */
static int
owner_element(xmlTextWriterPtr w, const struct nc_owner *o, bool ns)
{
    const char *fields[][2] = {
        {"namespace", o->ns},     {"kind", o->kind},     {"name", o->name},
        {"cluster", o->cluster},  {"prefix", o->prefix}, {"config", o->config},
        {"base", o->base},
    };
    const xmlChar *prefix = ns ? BAD_CAST NC_OWNER_PREFIX : NULL;
    int r = 0;

    if (xmlTextWriterStartElementNS(w, prefix, BAD_CAST "owner",
                                    ns ? BAD_CAST NC_OWNER_URI : NULL) < 0)
        return -ENOMEM;
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]) && r == 0; i++) {
        if (!nc_xml_text_ok(fields[i][1]))
            return -EINVAL;
        if (xmlTextWriterWriteElementNS(w, prefix, BAD_CAST fields[i][0], NULL,
                                        BAD_CAST fields[i][1]) < 0)
            r = -ENOMEM;
    }
    if (r == 0 && xmlTextWriterEndElement(w) < 0)
        r = -ENOMEM;
    return r;
}

static int
write_disk(xmlTextWriterPtr w, unsigned i, const struct nc_disk_src *src)
{
    char dev[8];

    if (!nc_xml_text_ok(src->path) || !nc_xml_text_ok(src->format))
        return -EINVAL;
    nc_disk_target(i, dev);
#define TRY(expr)                                                                                 \
    do {                                                                                          \
        if ((expr) < 0)                                                                           \
            return -ENOMEM;                                                                       \
    } while (0)
#define ATTR(n, v) TRY(xmlTextWriterWriteAttribute(w, BAD_CAST(n), BAD_CAST(v)))
#define START(n) TRY(xmlTextWriterStartElement(w, BAD_CAST(n)))
#define END() TRY(xmlTextWriterEndElement(w))
    START("disk");
    ATTR("type", "file");
    ATTR("device", "disk");
    START("driver");
    ATTR("name", "qemu");
    ATTR("type", src->format);
    END();
    START("source");
    ATTR("file", src->path);
    END();
    START("target");
    ATTR("dev", dev);
    ATTR("bus", "virtio");
    END();
    if (src->read_only) {
        START("readonly");
        END();
    }
    if (src->iops || src->bps) {
        char num[32];

        START("iotune");
        if (src->bps) {
            snprintf(num, sizeof(num), "%" PRIu64, src->bps);
            TRY(xmlTextWriterWriteElement(w, BAD_CAST "total_bytes_sec", BAD_CAST num));
        }
        if (src->iops) {
            snprintf(num, sizeof(num), "%" PRIu64, src->iops);
            TRY(xmlTextWriterWriteElement(w, BAD_CAST "total_iops_sec", BAD_CAST num));
        }
        END();
    }
    END();
    return 0;
}

/* The cloud-init seed: a read-only CD-ROM on a virtio-scsi controller
 * (sda), which guests without an AHCI or IDE driver read too. */
static int
write_seed(xmlTextWriterPtr w, const char *path)
{
    if (!nc_xml_text_ok(path))
        return -EINVAL;
    START("disk");
    ATTR("type", "file");
    ATTR("device", "cdrom");
    START("driver");
    ATTR("name", "qemu");
    ATTR("type", "raw");
    END();
    START("source");
    ATTR("file", path);
    END();
    START("target");
    ATTR("dev", NC_SEED_TARGET);
    ATTR("bus", "scsi");
    END();
    START("readonly");
    END();
    END();
    START("controller");
    ATTR("type", "scsi");
    ATTR("index", "0");
    ATTR("model", "virtio-scsi");
    END();
    return 0;
}

/* An interface on tap @nic->tap: a guest's is a virtio NIC with the
 * Network's MTU; a process's is a veth whose inner end the LXC driver
 * gives the address. */
static int
write_nic(xmlTextWriterPtr w, const struct nc_nic_src *nic, bool process)
{
    char num[16];

    START("interface");
    ATTR("type", "ethernet");
    START("mac");
    ATTR("address", nic->mac);
    END();
    START("target");
    ATTR("dev", nic->tap);
    END();
    if (!process) {
        snprintf(num, sizeof(num), "%u", nic->mtu);
        START("model");
        ATTR("type", "virtio");
        END();
        START("mtu");
        ATTR("size", num);
        END();
    } else if (nic->ip[0]) {
        snprintf(num, sizeof(num), "%u", nic->prefix);
        START("ip");
        ATTR("address", nic->ip);
        ATTR("prefix", num);
        END();
    }
    END();
    return 0;
}

/* <cputune>: shares, the quota per vCPU, and each vCPU's host CPU. */
static int
write_cputune(xmlTextWriterPtr w, const struct nc_domain_def *def)
{
    char num[32];

    if (!def->cpu_shares && !def->cpu_quota && !def->n_pins)
        return 0;
    START("cputune");
    if (def->cpu_shares) {
        snprintf(num, sizeof(num), "%u", def->cpu_shares);
        TRY(xmlTextWriterWriteElement(w, BAD_CAST "shares", BAD_CAST num));
    }
    if (def->cpu_quota) {
        snprintf(num, sizeof(num), "%u", NC_CPU_QUOTA_PERIOD);
        TRY(xmlTextWriterWriteElement(w, BAD_CAST "period", BAD_CAST num));
        snprintf(num, sizeof(num), "%u", def->cpu_quota);
        TRY(xmlTextWriterWriteElement(w, BAD_CAST "quota", BAD_CAST num));
    }
    for (unsigned i = 0; i < def->n_pins; i++) {
        START("vcpupin");
        snprintf(num, sizeof(num), "%u", i);
        ATTR("vcpu", num);
        snprintf(num, sizeof(num), "%u", def->pins[i]);
        ATTR("cpuset", num);
        END();
    }
    END();
    return 0;
}

/*
 * A process's init, run by /bin/sh as the container's PID 1 with its
 * folder, the number of environment entries, the entries ("NAME=value")
 * and then the command as arguments, which the shell never parses ("$@"):
 * output to the log, the environment exported, HOME and TMPDIR (unless
 * the spec sets them) its own scratch folder, the command as nobody
 * without capabilities or a way to gain them (setpriv, util-linux),
 * SIGTERM (the graceful stop libvirt sends to init) passed on, and the
 * exit status kept for the controller once the command ended.
 *
 * The environment goes through arguments, not <initenv>: libvirt (9.0)
 * writes <initenv> values unescaped into the definition it hands the
 * container's controller, where a value holding markup would fail to
 * parse or, worse, add elements; <initarg> is escaped.
 */
static const char process_init[] =
    "d=$1 n=$2; shift 2\n"
    "exec >>\"$d/" NC_PROCESS_LOG "\" 2>&1 </dev/null\n"
    "rm -f \"$d/" NC_PROCESS_EXIT "\"\n"
    "while [ \"$n\" -gt 0 ]; do export \"$1\"; shift; n=$((n - 1)); done\n"
    "[ \"$HOME\" = / ] && export HOME=\"$d/" NC_PROCESS_TMP "\"\n"
    "export TMPDIR=\"${TMPDIR:-$d/" NC_PROCESS_TMP "}\"\n"
    "setpriv --reuid=" NC_PROCESS_UID " --regid=" NC_PROCESS_UID " --clear-groups "
    "--no-new-privs --inh-caps=-all --bounding-set=-all -- \"$@\" &\n"
    "pid=$!\n"
    "trap 'kill -TERM $pid 2>/dev/null' TERM INT\n"
    "wait $pid; rc=$?\n"
    "while kill -0 $pid 2>/dev/null; do wait $pid; rc=$?; done\n"
    "echo $rc >\"$d/" NC_PROCESS_EXIT ".new\" && mv \"$d/" NC_PROCESS_EXIT ".new\" \"$d/" NC_PROCESS_EXIT "\"\n"
    "exit $rc\n";

/* The <os> of a process: the init above, its environment and the command. */
static int
write_process_os(xmlTextWriterPtr w, const struct nc_domain_def *def)
{
    char num[32];
    int r;

    START("os");
    TRY(xmlTextWriterWriteElement(w, BAD_CAST "type", BAD_CAST "exe"));
    TRY(xmlTextWriterWriteElement(w, BAD_CAST "init", BAD_CAST "/bin/sh"));
    TRY(xmlTextWriterWriteElement(w, BAD_CAST "initarg", BAD_CAST "-c"));
    TRY(xmlTextWriterWriteElement(w, BAD_CAST "initarg", BAD_CAST process_init));
    TRY(xmlTextWriterWriteElement(w, BAD_CAST "initarg", BAD_CAST "novacron-process"));
    if ((r = element(w, "initarg", def->run_dir)) < 0)
        return r;
    snprintf(num, sizeof(num), "%u", def->n_env);
    TRY(xmlTextWriterWriteElement(w, BAD_CAST "initarg", BAD_CAST num));
    for (unsigned i = 0; i < def->n_env; i++)
        if ((r = element(w, "initarg", def->env[i])) < 0)
            return r;
    for (const char *const *a = def->command; *a; a++)
        if ((r = element(w, "initarg", *a)) < 0)
            return r;
    END();
    return 0;
}

/* A bind mount of host folder @dir at the same place, read-only or not. */
static int
write_mount(xmlTextWriterPtr w, const char *dir, bool read_only)
{
    if (!nc_xml_text_ok(dir))
        return -EINVAL;
    START("filesystem");
    ATTR("type", "mount");
    ATTR("accessmode", "passthrough");
    START("source");
    ATTR("dir", dir);
    END();
    START("target");
    ATTR("dir", dir);
    END();
    if (read_only) {
        START("readonly");
        END();
    }
    END();
    return 0;
}

/* A process's devices: the host's file system read-only, its own folder
 * writable, and a veth per interface with its address. */
static int
write_process_devices(xmlTextWriterPtr w, const struct nc_domain_def *def)
{
    int r;

    if ((r = write_mount(w, "/", true)) < 0 || (r = write_mount(w, def->run_dir, false)) < 0)
        return r;
    for (unsigned i = 0; def->nics && i < def->n_nics; i++)
        if ((r = write_nic(w, &def->nics[i], true)) < 0)
            return r;
    /* libvirt's LXC driver wants a console; nothing reads it. */
    START("console");
    ATTR("type", "pty");
    END();
    return 0;
}

static int
write_domain(xmlTextWriterPtr w, const struct nc_domain_def *def)
{
    char num[32];
    int r;

    START("domain");
    ATTR("type", def->type);
    if ((r = element(w, "name", def->name)) < 0)
        return r;
    if (def->uuid && (r = element(w, "uuid", def->uuid)) < 0)
        return r;
    START("metadata");
    if ((r = owner_element(w, def->owner, true)) < 0)
        return r;
    END();

    snprintf(num, sizeof(num), "%" PRIu64, def->memory >> 10);
    START("memory");
    ATTR("unit", "KiB");
    TRY(xmlTextWriterWriteString(w, BAD_CAST num));
    END();
    if (def->current_memory && def->current_memory < def->memory)
        snprintf(num, sizeof(num), "%" PRIu64, def->current_memory >> 10);
    START("currentMemory");
    ATTR("unit", "KiB");
    TRY(xmlTextWriterWriteString(w, BAD_CAST num));
    END();
    snprintf(num, sizeof(num), "%u", def->vcpus);
    START("vcpu");
    ATTR("placement", "static");
    TRY(xmlTextWriterWriteString(w, BAD_CAST num));
    END();
    if (def->command) {
        /* The vCPUs become a quota: that many CPUs' worth of time. */
        snprintf(num, sizeof(num), "%u", NC_CPU_QUOTA_PERIOD);
        START("cputune");
        TRY(xmlTextWriterWriteElement(w, BAD_CAST "period", BAD_CAST num));
        snprintf(num, sizeof(num), "%u", NC_CPU_QUOTA_PERIOD * def->vcpus);
        TRY(xmlTextWriterWriteElement(w, BAD_CAST "quota", BAD_CAST num));
        END();
        if ((r = write_process_os(w, def)) < 0)
            return r;
        /* A network namespace of its own even without interfaces: the
         * LXC driver's default is the host's. */
        START("features");
        START("privnet");
        END();
        END();
        if ((r = element(w, "on_poweroff", "destroy")) < 0 ||
            (r = element(w, "on_crash", "destroy")) < 0)
            return r;
        START("devices");
        if ((r = write_process_devices(w, def)) < 0)
            return r;
        END();
        END();
        return 0;
    }
    if ((r = write_cputune(w, def)) < 0)
        return r;

    START("os");
    START("type");
    ATTR("arch", "x86_64");
    TRY(xmlTextWriterWriteString(w, BAD_CAST "hvm"));
    END();
    if (def->kernel && (r = element(w, "kernel", def->kernel)) < 0)
        return r;
    if (def->initrd && (r = element(w, "initrd", def->initrd)) < 0)
        return r;
    if (def->cmdline && (r = element(w, "cmdline", def->cmdline)) < 0)
        return r;
    if (!def->kernel) {
        START("boot");
        ATTR("dev", "hd");
        END();
    }
    END();

    if (def->acpi) {
        START("features");
        START("acpi");
        END();
        END();
    }
    if ((r = element(w, "on_poweroff", "destroy")) < 0 ||
        (r = element(w, "on_reboot", "restart")) < 0 || (r = element(w, "on_crash", "destroy")) < 0)
        return r;

    START("devices");
    for (unsigned i = 0; def->disks && i < def->n_disks; i++)
        if ((r = write_disk(w, i, &def->disks[i])) < 0)
            return r;
    for (unsigned i = 0; def->nics && i < def->n_nics; i++)
        if ((r = write_nic(w, &def->nics[i], false)) < 0)
            return r;
    if (def->seed && (r = write_seed(w, def->seed)) < 0)
        return r;
    if (def->console_log) {
        if (!nc_xml_text_ok(def->console_log))
            return -EINVAL;
        /* A pseudo-terminal, which virDomainOpenConsole() attaches to
         * (novactl console), logged to the file by virtlogd. */
        START("serial");
        ATTR("type", "pty");
        START("log");
        ATTR("file", def->console_log);
        ATTR("append", "off");
        END();
        START("target");
        ATTR("port", "0");
        END();
        END();
        START("console");
        ATTR("type", "pty");
        START("target");
        ATTR("type", "serial");
        ATTR("port", "0");
        END();
        END();
    }
    END();

    END();
    return 0;
#undef TRY
#undef ATTR
#undef START
#undef END
}

/* Runs @write on a fresh writer and returns what it wrote in @ret_xml. */
static int
build(int (*write)(xmlTextWriterPtr w, const void *data), const void *data, char **ret_xml)
{
    xmlBufferPtr buf = xmlBufferCreate();
    xmlTextWriterPtr w = buf ? xmlNewTextWriterMemory(buf, 0) : NULL;
    int r = -ENOMEM;

    *ret_xml = NULL;
    if (!w)
        goto out;
    xmlTextWriterSetIndent(w, 1);
    r = write(w, data);
    if (r == 0 && xmlTextWriterEndDocument(w) < 0)
        r = -ENOMEM;
    xmlFreeTextWriter(w);
    w = NULL;
    if (r == 0 && !(*ret_xml = strdup((const char *)xmlBufferContent(buf))))
        r = -ENOMEM;
out:
    if (buf)
        xmlBufferFree(buf);
    return r;
}

static int
write_domain_cb(xmlTextWriterPtr w, const void *data)
{
    return write_domain(w, data);
}

int
nc_domxml_build(const struct nc_domain_def *def, char **ret_xml)
{
    return build(write_domain_cb, def, ret_xml);
}

struct disk_args {
    unsigned i;
    const struct nc_disk_src *src;
};

static int
write_disk_cb(xmlTextWriterPtr w, const void *data)
{
    const struct disk_args *a = data;

    return write_disk(w, a->i, a->src);
}

int
nc_domxml_disk(const struct nc_disk_src *src, unsigned i, char **ret_xml)
{
    struct disk_args a = {i, src};

    return build(write_disk_cb, &a, ret_xml);
}

static int
write_nic_cb(xmlTextWriterPtr w, const void *data)
{
    return write_nic(w, data, false);
}

int
nc_domxml_nic(const struct nc_nic_src *nic, char **ret_xml)
{
    return build(write_nic_cb, nic, ret_xml);
}

static int
write_owner_cb(xmlTextWriterPtr w, const void *data)
{
    return owner_element(w, data, false);
}

int
nc_domxml_owner(const struct nc_owner *owner, char **ret_xml)
{
    return build(write_owner_cb, owner, ret_xml);
}

/* The text of @n into @out, which must be empty (an element given twice)
 * and large enough (a value cut short could name something else). */
static bool
copy_text(xmlNodePtr n, char *out, size_t outsz)
{
    xmlChar *t = xmlNodeGetContent(n);
    bool ok = t && !out[0] && strlen((const char *)t) < outsz;

    if (ok)
        snprintf(out, outsz, "%s", (const char *)t);
    xmlFree(t);
    return ok;
}

int
nc_domxml_parse_owner(const char *xml, struct nc_owner *ret)
{
    xmlDocPtr doc = xmlReadMemory(xml, (int)strlen(xml), "owner.xml", NULL,
                                  XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
    struct {
        const char *name;
        char *out;
        size_t size;
    } fields[] = {
        {"namespace", ret->ns, sizeof(ret->ns)},
        {"kind", ret->kind, sizeof(ret->kind)},
        {"name", ret->name, sizeof(ret->name)},
        {"cluster", ret->cluster, sizeof(ret->cluster)},
        {"prefix", ret->prefix, sizeof(ret->prefix)},
        {"config", ret->config, sizeof(ret->config)},
        {"base", ret->base, sizeof(ret->base)},
    };
    int r = -EINVAL;

    memset(ret, 0, sizeof(*ret));
    /* virDomainGetMetadata() selects the element by namespace URI and
     * returns it with the namespace stripped, so accept both forms. */
    if (!root || (root->ns && xmlStrcmp(root->ns->href, BAD_CAST NC_OWNER_URI) != 0) ||
        xmlStrcmp(root->name, BAD_CAST "owner") != 0)
        goto out;
    for (xmlNodePtr n = root->children; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
            if (!xmlStrcmp(n->name, BAD_CAST fields[i].name) &&
                !copy_text(n, fields[i].out, fields[i].size))
                goto out;
    }
    if (ret->ns[0] && ret->kind[0] && ret->name[0] && ret->cluster[0] && ret->prefix[0])
        r = 0;
out:
    if (r < 0)
        memset(ret, 0, sizeof(*ret));
    if (doc)
        xmlFreeDoc(doc);
    return r;
}
