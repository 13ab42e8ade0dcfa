#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "novactl/cli.h"

static const char usage[] =
    "Usage: novactl [OPTION]... VERB [ARG]...\n"
    "\n"
    "Apply, inspect and delete NovaCron objects (VirtualMachine, Network,\n"
    "Volume, Migration, Snapshot, Restore, InstanceType, NetworkPolicy)\n"
    "stored in etcd, for people and for GitOps pipelines.\n"
    "\n"
    "Verbs:\n"
    "  apply -f FILE|DIR|-...      validate every document, then store each one\n"
    "  validate -f FILE|DIR|-...   validate only; needs no etcd\n"
    "  get KIND[,KIND] [NAME]...   list objects as a table, JSON or names\n"
    "  describe KIND NAME          spec, status, conditions and recent events\n"
    "  delete KIND NAME...         ask the controller to delete objects\n"
    "  delete -f FILE|DIR|-...     the same, for the objects of manifests\n"
    "  wait KIND/NAME --for=COND   block until ready, deleted or in a phase\n"
    "  get node                    nodes: status, what is allocated, leader\n"
    "  cordon NODE                 place no new VMs on a node\n"
    "  drain NODE                  cordon it, and move its VMs elsewhere\n"
    "  uncordon NODE               let the scheduler use it again\n"
    "  migrate vm NAME [--to NODE] move a VM to another node, live if it runs\n"
    "  snapshot vm NAME SNAPSHOT   take a snapshot of a VM's disks (and memory)\n"
    "  restore vm NAME SNAPSHOT    bring a VM back to one of its snapshots\n"
    "  restart vm NAME             restart a VM's guest once\n"
    "  console vm NAME             attach to a VM's serial console (--log: print its log)\n"
    "  logs vm NAME                what a guest, process or container wrote\n"
    "  completion bash             print the bash completion script\n"
    "\n"
    "KIND is vm (virtualmachine), network (net), volume (vol), migration\n"
    "(mig), snapshot (snap), restore, instancetype (it) or networkpolicy\n"
    "(netpol), each also in the plural. 'novactl VERB --help' describes a\n"
    "verb's options.\n"
    "\n"
    "Where (each also an environment variable, as for novacrond):\n"
    "  --etcd URL[,URL]...   etcd endpoints (NOVACRON_ETCD; default\n"
    "                        http://127.0.0.1:2379)\n"
    "  --prefix PREFIX       key prefix (NOVACRON_PREFIX; default /novacron/)\n"
    "  --etcd-cacert FILE, --etcd-cert FILE, --etcd-key FILE\n"
    "                        TLS (NOVACRON_ETCD_CACERT, _CERT, _KEY)\n"
    "  --etcd-user NAME, --etcd-password PASS\n"
    "                        etcd auth (NOVACRON_ETCD_USER, _PASSWORD)\n"
    "\n"
    "Exit status: 0 on success, 1 on failure (invalid documents, objects not\n"
    "found, etcd unreachable, a wait that timed out), 2 on a usage error.\n";

static const char details[] =
    "\n"
    "Details: novactl(1), and the API reference (every key, field, default,\n"
    "status field, phase and condition reason): schema/README.md in NovaCron's\n"
    "source, installed as PREFIX/share/doc/novacron/api.md.\n";

/* Per verb: its usage, and which of the verb options it takes. */
enum {
    F_FILE = 1 << 0, F_NS = 1 << 1, F_ALL = 1 << 2, F_SEL = 1 << 3, F_OUT = 1 << 4,
    F_WATCH = 1 << 5, F_DRY = 1 << 6, F_PRUNE = 1 << 7, F_FOR = 1 << 8, F_TIMEOUT = 1 << 9,
    F_IGNORE = 1 << 10, F_WAIT = 1 << 11, F_TO = 1 << 12, F_MEMORY = 1 << 13,
    F_REASON = 1 << 14, F_LOG = 1 << 15, F_CONNECT = 1 << 16,
};

static const struct verb {
    const char *name;
    int (*run)(struct cli *c);
    unsigned flags;
    const char *usage;
} verbs[] = {
    {"apply", cli_apply, F_FILE | F_DRY | F_PRUNE | F_SEL,
     "Usage: novactl apply -f FILE|DIR|- [-f ...] [--dry-run] [--prune -l SELECTOR]\n"
     "\n"
     "Validates every document first and writes nothing when any is invalid,\n"
     "printing each problem with its file, document number and field. Then\n"
     "stores each document under PREFIX/spec/NAMESPACE/KIND/NAME, the same\n"
     "as 'etcdctl put'. A document equal to the stored one is not written\n"
     "again, so it keeps its generation. A directory is read recursively\n"
     "(*.json); a file may hold one document, a JSON array of them, or\n"
     "several one after another; '-' reads standard input.\n"
     "\n"
     "  -f, --filename PATH   a file, directory or '-' (repeatable)\n"
     "      --dry-run         say what would change, change nothing\n"
     "      --prune           then delete every stored object that matches\n"
     "                        -l in any namespace and is not in the applied\n"
     "                        set (GitOps sync); needs -l\n"
     "  -l, --selector SEL    labels for --prune: key=value, key!=value, key,\n"
     "                        !key, joined by ','\n"},
    {"validate", cli_validate, F_FILE | F_OUT,
     "Usage: novactl validate -f FILE|DIR|- [-f ...] [-o text|json]\n"
     "\n"
     "Validates each document as apply does, without etcd: for CI and\n"
     "editors. (apply also refuses a set that defines one object twice.)\n"
     "Exit status 1 when any document is invalid. '-o json' prints one entry\n"
     "per document: file, document, kind, namespace, name, valid, errors.\n"},
    {"get", cli_get, F_NS | F_ALL | F_SEL | F_OUT | F_WATCH,
     "Usage: novactl get KIND[,KIND]... [NAME]... [-n NS | -A] [-l SELECTOR]\n"
     "                   [-o table|wide|json|name] [-w]\n"
     "\n"
     "Lists objects: NAME, PHASE, READY (the Ready condition, for the\n"
     "current generation), NODE, AGE (since the controller first reported\n"
     "on it) and per kind IP (vm), VNI and CIDR (network), SIZE (volume);\n"
     "'-o wide' adds more. Objects being deleted show until the controller\n"
     "is done with them. Several kinds at once ('network,volume,vm') print\n"
     "a table each, names as KIND/NAME, and take neither NAME nor -w.\n"
     "\n"
     "  -n, --namespace NS    the namespace (default \"default\")\n"
     "  -A, --all-namespaces  every namespace (a user who may not read them\n"
     "                        all: those its etcd roles let it read)\n"
     "  -l, --selector SEL    key=value, key!=value, key, !key, joined by ','\n"
     "  -o, --output FORMAT   table (default), wide, json, name\n"
     "  -w, --watch           after the list, print a row whenever an object\n"
     "                        changes, until interrupted\n"},
    {"describe", cli_describe, F_NS,
     "Usage: novactl describe KIND NAME [-n NS]\n"
     "\n"
     "Shows an object's spec, its status, its conditions with their times\n"
     "and the controller's recent events for it (kept for an hour).\n"},
    {"delete", cli_delete, F_FILE | F_NS | F_IGNORE | F_WAIT | F_TIMEOUT,
     "Usage: novactl delete KIND NAME... [-n NS] | -f FILE|DIR|- [--ignore-not-found]\n"
     "                      [--wait [--timeout DURATION]]\n"
     "\n"
     "Deletes spec keys: the controller then tears the objects down and\n"
     "deletes their status. With --wait, returns once it has (exit 1 when\n"
     "--timeout, default 60s, passes first).\n"},
    {"wait", cli_wait, F_NS | F_FOR | F_TIMEOUT,
     "Usage: novactl wait KIND/NAME|KIND NAME [-n NS] --for=COND [--timeout=DURATION]\n"
     "\n"
     "Blocks until the condition holds, following etcd's watch:\n"
     "  --for=ready       the status is for the current generation and Ready\n"
     "  --for=delete      neither spec nor status exists any more\n"
     "  --for=phase=PHASE the status is for the current generation and in PHASE\n"
     "  --timeout         give up after this long (default 60s; e.g. 500ms,\n"
     "                    30s, 5m) and exit 1\n"},
    {"cordon", cli_cordon, 0,
     "Usage: novactl cordon NODE\n"
     "\n"
     "Marks a registered node unschedulable (PREFIX/cordon/NODE): the\n"
     "scheduler places no new VM there; its VMs keep running.\n"},
    {"drain", cli_cordon, F_WAIT | F_TIMEOUT,
     "Usage: novactl drain NODE [--wait [--timeout DURATION]]\n"
     "\n"
     "Cordons a node and moves its VMs elsewhere, with their node-local\n"
     "Volumes, by Migrations the scheduler writes (migration drain-VM,\n"
     "labelled novacron.io/drained-node=NODE): live when the VM runs, else\n"
     "cold; a stopped VM without node-local Volumes is simply placed on\n"
     "another node. Pinned VMs (spec.node) and VMs whose migration failed\n"
     "stay. With --wait, returns once nothing is on its way any more,\n"
     "listing each VM that stays and why (exit 1 when any does, or when\n"
     "--timeout, default 60s, passes first). 'novactl get node' shows\n"
     "Draining; uncordon ends it.\n"},
    {"uncordon", cli_cordon, 0,
     "Usage: novactl uncordon NODE\n"
     "\n"
     "Makes a cordoned or drained node schedulable again.\n"},
    {"migrate", cli_migrate, F_NS | F_TO | F_WAIT | F_TIMEOUT,
     "Usage: novactl migrate vm NAME [-n NS] [--to NODE] [--wait [--timeout DURATION]]\n"
     "\n"
     "Writes a Migration (PREFIX/spec/NS/migration/NAME-TIME) that moves the\n"
     "VM to NODE, or to a node the scheduler picks: live while it runs, cold\n"
     "(stopped, disks sent, started there) when it does not.\n"
     "With --wait, follows it until it Succeeded (exit 0), Failed or was\n"
     "Cancelled (exit 1), and prints how it ended; --timeout (default 60s)\n"
     "gives up waiting, not the migration. 'novactl get migration' shows\n"
     "them all; deleting one that runs cancels it.\n"},
    {"snapshot", cli_snapshot, F_NS | F_MEMORY | F_WAIT | F_TIMEOUT,
     "Usage: novactl snapshot vm NAME SNAPSHOT [-n NS] [--memory] [--wait [--timeout DURATION]]\n"
     "\n"
     "Writes a Snapshot (PREFIX/spec/NS/snapshot/SNAPSHOT) of the VM's disks,\n"
     "and with --memory of its memory too while it runs, so that a restore\n"
     "resumes the guest where it was. Every disk must be a qcow2 Volume.\n"
     "With --wait, follows it until it is Ready (exit 0) or Failed (exit 1);\n"
     "--timeout (default 60s) gives up waiting. 'novactl get snapshot' lists\n"
     "them; deleting one deletes the snapshot.\n"},
    {"restore", cli_restore, F_NS | F_WAIT | F_TIMEOUT,
     "Usage: novactl restore vm NAME SNAPSHOT [-n NS] [--wait [--timeout DURATION]]\n"
     "\n"
     "Writes a Restore (PREFIX/spec/NS/restore/NAME-TIME) that brings the VM's\n"
     "disks back to the snapshot: a snapshot with memory resumes the guest\n"
     "where it was; one without stops the guest first and boots it again\n"
     "from the snapshot's disks. With --wait, follows it until it is\n"
     "Complete (exit 0) or Failed (exit 1); --timeout (default 60s) gives up\n"
     "waiting.\n"},
    {"restart", cli_restart, F_NS | F_REASON | F_WAIT | F_TIMEOUT,
     "Usage: novactl restart vm NAME [-n NS] [--reason TEXT] [--wait [--timeout DURATION]]\n"
     "\n"
     "Asks for one restart of the VM's guest, as a change to its spec that\n"
     "GitOps and etcdctl see: the annotation novacron.io/restartedAt gets the\n"
     "time now (and novacron.io/restartReason the --reason, at most 256\n"
     "characters). The VM's node stops the guest gracefully and starts it\n"
     "again, once for each value, also across restarts of novacrond; the\n"
     "VM's status.restart records it. A VM that does not run is left as it\n"
     "is. With --wait, follows it until it is done; --timeout (default 60s)\n"
     "gives up waiting.\n"},
    {"console", cli_console, F_NS | F_LOG | F_CONNECT,
     "Usage: novactl console vm NAME [-n NS] [--connect URI | --log]\n"
     "\n"
     "Attaches this terminal to the guest's serial console, as virsh console\n"
     "does: through libvirt's console stream of the domain on the VM's node,\n"
     "at the libvirt URI the node registered (its novacrond's --libvirt) or\n"
     "the one --connect names (qemu+ssh://host/system from another machine).\n"
     "Ctrl-] leaves. The VM must be Running; libvirt decides who may attach.\n"
     "With --log, prints the console's log file (status.consoleLog) instead,\n"
     "which must be readable here.\n"},
    {"logs", cli_logs, F_NS | F_CONNECT,
     "Usage: novactl logs vm NAME [-n NS] [--connect SOCKET]\n"
     "\n"
     "Prints what the VM's workload wrote, by its runtime: a guest's serial\n"
     "console log (status.consoleLog), a process's log (status.process.log),\n"
     "a container's output as the node's Podman keeps it, asked of Podman's\n"
     "socket (--connect, default /run/podman/podman.sock). Run it on the VM's\n"
     "node: the files and the socket are there.\n"},
    {"completion", cli_completion, 0,
     "Usage: novactl completion bash\n"
     "\n"
     "Prints a bash completion script: source <(novactl completion bash)\n"},
};

static void
set(char **field, const char *value)
{
    free(*field);
    *field = value ? strdup(value) : NULL;
}

static int
usage_error(const char *verb, const char *fmt, const char *arg)
{
    fputs("novactl: ", stderr);
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nTry 'novactl %s%s--help'.\n", verb ? verb : "", verb ? " " : "");
    return 2;
}

static const struct verb *
find_verb(const char *name)
{
    for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
        if (strcmp(verbs[i].name, name) == 0)
            return &verbs[i];
    return NULL;
}

static void
cli_clear(struct cli *c)
{
    nc_etcd_free(c->etcd);
    free(c->etcd_list);
    free(c->prefix);
    free(c->cacert);
    free(c->cert);
    free(c->key);
    free(c->user);
    free(c->password);
}

int
main(int argc, char **argv)
{
    enum {
        O_ETCD = 256, O_PREFIX, O_CACERT, O_CERT, O_KEY, O_USER, O_PASSWORD, O_VERSION,
        O_DRY, O_PRUNE, O_FOR, O_TIMEOUT, O_IGNORE, O_WAIT, O_TO, O_MEMORY, O_REASON,
        O_LOG, O_CONNECT,
    };
    static const struct option opts[] = {
        {"etcd", required_argument, NULL, O_ETCD},
        {"prefix", required_argument, NULL, O_PREFIX},
        {"etcd-cacert", required_argument, NULL, O_CACERT},
        {"etcd-cert", required_argument, NULL, O_CERT},
        {"etcd-key", required_argument, NULL, O_KEY},
        {"etcd-user", required_argument, NULL, O_USER},
        {"etcd-password", required_argument, NULL, O_PASSWORD},
        {"filename", required_argument, NULL, 'f'},
        {"namespace", required_argument, NULL, 'n'},
        {"all-namespaces", no_argument, NULL, 'A'},
        {"selector", required_argument, NULL, 'l'},
        {"output", required_argument, NULL, 'o'},
        {"watch", no_argument, NULL, 'w'},
        {"dry-run", no_argument, NULL, O_DRY},
        {"prune", no_argument, NULL, O_PRUNE},
        {"for", required_argument, NULL, O_FOR},
        {"timeout", required_argument, NULL, O_TIMEOUT},
        {"ignore-not-found", no_argument, NULL, O_IGNORE},
        {"wait", no_argument, NULL, O_WAIT},
        {"to", required_argument, NULL, O_TO},
        {"memory", no_argument, NULL, O_MEMORY},
        {"reason", required_argument, NULL, O_REASON},
        {"log", no_argument, NULL, O_LOG},
        {"connect", required_argument, NULL, O_CONNECT},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, O_VERSION},
        {NULL, 0, NULL, 0},
    };
    struct cli c = {.timeout_ms = 60000};
    const struct verb *verb = NULL;
    char *positional[256];
    int n_pos = 0, opt, r;
    unsigned used = 0;
    bool help = false;

    curl_global_init(CURL_GLOBAL_DEFAULT);
    set(&c.etcd_list, nc_env_or("NOVACRON_ETCD", "http://127.0.0.1:2379"));
    set(&c.prefix, nc_env_or("NOVACRON_PREFIX", "/novacron/"));
    set(&c.cacert, nc_env_or("NOVACRON_ETCD_CACERT", NULL));
    set(&c.cert, nc_env_or("NOVACRON_ETCD_CERT", NULL));
    set(&c.key, nc_env_or("NOVACRON_ETCD_KEY", NULL));
    set(&c.user, nc_env_or("NOVACRON_ETCD_USER", NULL));
    set(&c.password, nc_env_or("NOVACRON_ETCD_PASSWORD", NULL));

    /* Options may come before or after the verb, as with kubectl; "-"
     * first in the optstring keeps arguments in place, in order. */
    while ((opt = getopt_long(argc, argv, "-f:n:Al:o:wh", opts, NULL)) != -1) {
        switch (opt) {
        case 1:
            if (!verb && !help) {
                verb = find_verb(optarg);
                if (!verb) {
                    r = usage_error(NULL, "unknown verb \"%s\"", optarg);
                    goto out;
                }
            } else if (n_pos < (int)(sizeof(positional) / sizeof(positional[0]))) {
                positional[n_pos++] = optarg;
            }
            break;
        case O_ETCD: set(&c.etcd_list, optarg); break;
        case O_PREFIX: set(&c.prefix, optarg); break;
        case O_CACERT: set(&c.cacert, optarg); break;
        case O_CERT: set(&c.cert, optarg); break;
        case O_KEY: set(&c.key, optarg); break;
        case O_USER: set(&c.user, optarg); break;
        case O_PASSWORD: set(&c.password, optarg); break;
        case 'f':
            used |= F_FILE;
            if (c.n_files == CLI_MAX_FILES) {
                r = usage_error(NULL, "at most %s -f options", "64");
                goto out;
            }
            c.files[c.n_files++] = optarg;
            break;
        case 'n': used |= F_NS, c.ns = optarg; break;
        case 'A': used |= F_ALL, c.all_ns = true; break;
        case 'l': used |= F_SEL, c.selector = optarg; break;
        case 'o': used |= F_OUT, c.output = optarg; break;
        case 'w': used |= F_WATCH, c.watch = true; break;
        case O_DRY: used |= F_DRY, c.dry_run = true; break;
        case O_PRUNE: used |= F_PRUNE, c.prune = true; break;
        case O_FOR: used |= F_FOR, c.wait_for = optarg; break;
        case O_TIMEOUT:
            used |= F_TIMEOUT;
            if ((c.timeout_ms = nc_flags_duration(optarg)) < 0) {
                r = usage_error(NULL, "--timeout must be a duration such as 30s, got \"%s\"",
                                optarg);
                goto out;
            }
            break;
        case O_IGNORE: used |= F_IGNORE, c.ignore_not_found = true; break;
        case O_WAIT: used |= F_WAIT, c.wait = true; break;
        case O_TO: used |= F_TO, c.to = optarg; break;
        case O_MEMORY: used |= F_MEMORY, c.memory = true; break;
        case O_REASON: used |= F_REASON, c.reason = optarg; break;
        case O_LOG: used |= F_LOG, c.log = true; break;
        case O_CONNECT: used |= F_CONNECT, c.connect = optarg; break;
        case 'h': help = true; break;
        case O_VERSION:
            puts("novactl 0.1.0");
            r = 0;
            goto out;
        default:
            r = usage_error(verb ? verb->name : NULL, "%s", "invalid option");
            goto out;
        }
    }
    if (help) {
        fputs(verb ? verb->usage : usage, stdout);
        fputs(details, stdout);
        r = 0;
        goto out;
    }
    if (!verb) {
        fputs(usage, stderr);
        r = 2;
        goto out;
    }
    if (used & ~verb->flags) {
        r = usage_error(verb->name, "an option given does not apply to \"%s\"", verb->name);
        goto out;
    }
    if (c.all_ns && c.ns) {
        r = usage_error(verb->name, "%s", "-n and -A exclude each other");
        goto out;
    }
    if (c.ns && !nc_is_dns_label(c.ns)) {
        r = usage_error(verb->name, "-n must be a DNS label, got \"%s\"", c.ns);
        goto out;
    }
    if (nc_flags_endpoints("novactl", c.etcd_list, c.endpoints, &c.n_endpoints) < 0 ||
        nc_flags_prefix("novactl", &c.prefix) < 0) {
        r = 2;
        goto out;
    }
    c.conf = (struct nc_etcd_conf){
        .endpoints = c.endpoints,
        .n_endpoints = c.n_endpoints,
        .cacert = c.cacert,
        .cert = c.cert,
        .key = c.key,
        .user = c.user,
        .password = c.password,
    };
    c.verb = verb->name;
    c.argc = n_pos;
    c.argv = positional;
    r = verb->run(&c);
out:
    cli_clear(&c);
    curl_global_cleanup();
    return r;
}
