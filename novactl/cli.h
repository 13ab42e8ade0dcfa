/*
 * novactl: the kubectl-like tool. One verb per file; this
 * header holds what every verb shares: the parsed command line and the
 * helpers that reach etcd and print safely.
 */
#ifndef NC_CLI_H
#define NC_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/etcd.h"
#include "core/flags.h"
#include "schema/kinds.h"

#define CLI_MAX_FILES 64

struct cli {
    /* where: the flags novacrond takes too */
    char *etcd_list, *prefix, *cacert, *cert, *key, *user, *password;
    const char *endpoints[NC_FLAGS_MAX_ENDPOINTS];
    size_t n_endpoints;
    struct nc_etcd_conf conf;
    struct nc_etcd *etcd; /* made on first use by cli_etcd() */

    /* what: the verb's flags and arguments */
    const char *verb;
    const char *files[CLI_MAX_FILES];
    size_t n_files;
    const char *ns; /* -n; NULL: "default" */
    bool all_ns;    /* -A */
    const char *selector;
    const char *output; /* -o */
    const char *wait_for;
    const char *to;     /* migrate's --to */
    bool memory;        /* snapshot's --memory */
    const char *reason; /* restart's --reason */
    const char *connect; /* console's libvirt URI, logs' Podman socket: --connect */
    bool log;            /* console's --log */
    int64_t timeout_ms; /* wait's --timeout */
    bool watch, dry_run, prune, ignore_not_found, wait;
    int argc; /* the verb's positional arguments */
    char **argv;
};

/* The client, made on first use. */
struct nc_etcd *cli_etcd(struct cli *c);
/* The namespace verbs act in: -n, else "default". */
const char *cli_ns(const struct cli *c);
/* Prints "novactl: cannot reach etcd: WHY" and returns 1 (the exit code). */
int cli_etcd_error(struct cli *c, const char *what);
/* Writes "<prefix><space>/<ns>/<segment>/<name>" into @buf. */
char *cli_key(const struct cli *c, char *buf, size_t bufsz, const char *space, const char *ns,
              const char *segment, const char *name);
/* Prints @s to @f with control characters replaced by '?', so text from
 * etcd cannot drive the terminal. */
void cli_puts_safe(FILE *f, const char *s);
/* "vm/web-1", or "vm/web-1 -n ns" outside the default namespace, in @buf. */
char *cli_ref(char *buf, size_t bufsz, const struct nc_kind *k, const char *ns, const char *name);

/* "3s", "5m", "7h", "2d" since RFC 3339 UTC time @since; "-" without one. */
void cli_age(const char *since, char *buf, size_t n);

/* Resolves a KIND argument; prints an error and returns NULL when unknown. */
const struct nc_kind *cli_kind(const char *word);

/*
 * Follows etcd's watches of every key under each of @prefixes (a user may
 * watch only what it may read) from revision @from, calling @fn for each
 * event (@kv NULL: events were lost to compaction, look again), until @fn
 * returns non-zero (returned), @timeout_ms passes (-ETIMEDOUT; 0: never)
 * or SIGINT/SIGTERM arrives (0).
 */
int cli_follow(struct cli *c, const char *const *prefixes, size_t n_prefixes, int64_t from,
               int64_t timeout_ms, int (*fn)(void *data, const struct nc_kv *kv, bool deleted),
               void *data);

/* Blocks until @cond ("ready", "delete", "phase=X") holds for the object or
 * --timeout passes; prints the outcome. Returns the exit code. */
int cli_wait_until(struct cli *c, const struct nc_kind *k, const char *ns, const char *name,
                   const char *cond);

/* The verbs; each returns the process's exit code. */
int cli_apply(struct cli *c);
int cli_validate(struct cli *c);
int cli_delete(struct cli *c);
int cli_get(struct cli *c);
int cli_describe(struct cli *c);
int cli_wait(struct cli *c);
int cli_completion(struct cli *c);
int cli_migrate(struct cli *c);
int cli_snapshot(struct cli *c);
int cli_restore(struct cli *c);
int cli_restart(struct cli *c);
int cli_console(struct cli *c);
int cli_logs(struct cli *c);

/* A size for a table: exact when it is a whole number of its unit
 * (nc_quantity_format()), else in GiB or MiB with one decimal. */
const char *cli_size(uint64_t bytes, char *buf, size_t n);
/* Nodes (novactl/nodes.c): get node, cordon, uncordon, drain. */
int cli_get_nodes(struct cli *c);
int cli_cordon(struct cli *c);

#endif
