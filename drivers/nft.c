/*
 * The firewall driver on nftables (drivers/firewall.h), through Debian's
 * libnftables: the same parser and transaction the nft(8) tool uses, so a
 * change of several rules is one atomic batch, without running a program.
 * Each call makes its own context inside the node's namespace, entered
 * by the calling thread alone and left before returning: calls from
 * several workers never share one.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <nftables/libnftables.h>

#include "drivers/firewall.h"

struct nft {
    int nsfd; /* the node's namespace, -1: the caller's */
    char netns[64];
};

static int fail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
fail(int err, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return nc_drv_fail(err, "%s", msg);
}

/* True when @s (1 to @max characters) can stand in an nft command as it
 * is: a table, device or address, or one of our comments. Whatever
 * reaches nft has been validated before; this holds the line here too. */
static bool
plain(const char *s, size_t max)
{
    size_t n = strlen(s);

    if (n == 0 || n > max)
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr("-_.:/", *s))
            return false;
    return true;
}

/* Enters the node's namespace from this thread: 0 with the way back in
 * *@home (-1 when there is nothing to leave), or a negative errno. */
static int
enter(const struct nft *n, int *home)
{
    *home = -1;
    if (n->nsfd < 0)
        return 0;
    if ((*home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)) < 0 ||
        setns(n->nsfd, CLONE_NEWNET) < 0) {
        int err = errno;

        if (*home >= 0)
            close(*home);
        *home = -1;
        return fail(-err, "enter network namespace %s: %s", n->netns, strerror(err));
    }
    return 0;
}

static int
leave(const struct nft *n, int home, int r)
{
    if (home < 0)
        return r;
    if (setns(home, CLONE_NEWNET) < 0) {
        int err = errno;

        close(home);
        return fail(-err, "return from network namespace %s: %s", n->netns, strerror(err));
    }
    close(home);
    return r;
}

/* Runs nft command(s) @cmd as one transaction: 0, with what nft printed
 * (as JSON with @json) in *@ret_out when asked (free it), or a negative
 * errno with nft's first line of complaint. */
static int
run(const char *cmd, bool json, char **ret_out)
{
    struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
    int r = 0;

    if (!ctx)
        return fail(-ENOMEM, "nft: out of memory");
    nft_ctx_buffer_output(ctx);
    nft_ctx_buffer_error(ctx);
    if (json)
        nft_ctx_output_set_flags(ctx, NFT_CTX_OUTPUT_JSON);
    if (nft_run_cmd_from_buffer(ctx, cmd) != 0) {
        const char *err = nft_ctx_get_error_buffer(ctx);

        r = fail(strstr(err, "Operation not permitted") ? -EPERM : -EIO, "nft: %.*s",
                 (int)strcspn(err, "\n"), err);
    } else if (ret_out && !(*ret_out = strdup(nft_ctx_get_output_buffer(ctx)))) {
        r = fail(-ENOMEM, "nft: out of memory");
    }
    nft_ctx_free(ctx);
    return r;
}

/* The comment of @family table @table into @mark ("" for none): 1, or 0
 * when there is no such table, or a negative errno. nft 1.0's JSON leaves
 * table comments out: its own text is read, line by line. */
static int
table_mark(const char *family, const char *table, char mark[NC_FW_MARK_MAX])
{
    char *out = NULL, cmd[64], want[48];
    const char *c;
    int r;

    snprintf(cmd, sizeof(cmd), "list tables %s", family);
    if ((r = run(cmd, false, &out)) < 0)
        return r;
    /* One line per table: "table FAMILY NAME". */
    snprintf(want, sizeof(want), "table %s %s", family, table);
    r = 0;
    for (char *save = NULL, *l = strtok_r(out, "\n", &save); l && !r;
         l = strtok_r(NULL, "\n", &save))
        r = strcmp(l, want) == 0;
    free(out);
    if (!r)
        return 0;
    snprintf(cmd, sizeof(cmd), "list table %s %s", family, table);
    if ((r = run(cmd, false, &out)) < 0)
        return r;
    mark[0] = '\0';
    if ((c = strstr(out, "\n\tcomment \""))) {
        c += strlen("\n\tcomment \"");
        snprintf(mark, NC_FW_MARK_MAX, "%.*s", (int)strcspn(c, "\"\n"), c);
    }
    free(out);
    return 1;
}

/* Whether @family table @table is ours (1), absent (0), or not ours
 * (-EEXIST). */
static int
owned(const char *family, const char *table, const char *mark)
{
    char have[NC_FW_MARK_MAX], want[NC_FW_MARK_MAX];
    int r = table_mark(family, table, have);

    snprintf(want, sizeof(want), "%s", mark);
    if (r > 0 && strcmp(have, want) != 0)
        return fail(-EEXIST, "nftables table %s %s is not ours (its comment is \"%.60s\")",
                    family, table, have);
    return r;
}

static int
forwarding_on(void)
{
    /* /proc/sys/net is the namespace of the thread that opens it. */
    const char *path = "/proc/sys/net/ipv4/ip_forward";
    char now[4] = "";
    int fd = open(path, O_RDWR | O_CLOEXEC), err;

    if (fd >= 0 && read(fd, now, sizeof(now) - 1) > 0 && now[0] == '1') {
        close(fd);
        return 0;
    }
    if (fd >= 0 && pwrite(fd, "1\n", 2, 0) == 2) {
        close(fd);
        return 0;
    }
    err = errno;
    if (fd >= 0)
        close(fd);
    return fail(-err, "turn IPv4 forwarding on (%s): %s", path, strerror(err));
}

static int
nft_ensure_egress(struct nc_fw *fw, const struct nc_egress *e)
{
    const struct nft *n = fw->priv;
    char mark[NC_FW_MARK_MAX], *cmd = NULL;
    int home, r;

    snprintf(mark, sizeof(mark), "%s", e->mark);
    if (!plain(e->table, 15) || !plain(mark, NC_FW_MARK_MAX - 1) || !plain(e->cidr, 18) ||
        !plain(e->bridge, 15) || (e->via && !plain(e->via, 15)))
        return fail(-EINVAL, "nftables: a name that is not plain (table %.20s)", e->table);
    if ((r = enter(n, &home)) < 0)
        return r;
    if (e->via && if_nametoindex(e->via) == 0)
        r = fail(-ENODEV, "no device %s", e->via);
    else if ((r = owned("ip", e->table, mark)) >= 0 && (r = forwarding_on()) == 0) {
        /* The table, emptied and filled again in one transaction: no
         * packet ever sees it half made. */
        if (asprintf(&cmd,
                     "add table ip %1$s { comment \"%2$s\"; }\n"
                     "flush table ip %1$s\n"
                     "add chain ip %1$s postrouting { type nat hook postrouting priority srcnat; "
                     "policy accept; }\n"
                     "add rule ip %1$s postrouting ip saddr %3$s ip daddr != %3$s "
                     "oifname %4$s\"%5$s\" masquerade\n",
                     e->table, mark, e->cidr, e->via ? "" : "!= ", e->via ? e->via : e->bridge) < 0)
            r = fail(-ENOMEM, "out of memory");
        else
            r = run(cmd, false, NULL);
        free(cmd);
    }
    return leave(n, home, r);
}

static int
nft_remove(struct nc_fw *fw, const char *table, const char *mark)
{
    const struct nft *n = fw->priv;
    char cmd[64];
    int home, r;

    if (!plain(table, 15))
        return fail(-EINVAL, "nftables: a table name that is not plain");
    if ((r = enter(n, &home)) < 0)
        return r;
    if ((r = owned("ip", table, mark)) > 0) {
        snprintf(cmd, sizeof(cmd), "delete table ip %s\n", table);
        r = run(cmd, false, NULL);
    }
    return leave(n, home, r < 0 ? r : 0);
}

/*
 * Ports. One bridge-family table holds every port of the installation on
 * the node: the secured taps (set ports), the MAC each may send from
 * (macs) and its address (ips), and one chain at the bridges' prerouting
 * hook that lets a port's frame through only when it matches. A tap joins
 * or leaves by set elements alone; the rules never name one.
 */
static const char port_rules[] =
    "add set bridge %1$s ports { type ifname; }\n"
    "add set bridge %1$s macs { type ifname . ether_addr; }\n"
    "add set bridge %1$s ips { type ifname . ipv4_addr; }\n"
    "add chain bridge %1$s prerouting { type filter hook prerouting priority -200; "
    "policy accept; }\n"
    "flush chain bridge %1$s prerouting\n"
    "add rule bridge %1$s prerouting iifname != @ports accept\n"
    "add rule bridge %1$s prerouting iifname . ether saddr != @macs drop\n"
    "add rule bridge %1$s prerouting ether type arp iifname . arp saddr ip @ips accept\n"
    "add rule bridge %1$s prerouting ether type arp arp saddr ip 0.0.0.0 accept\n"
    "add rule bridge %1$s prerouting ether type ip iifname . ip saddr @ips accept\n"
    "add rule bridge %1$s prerouting ether type ip ip saddr 0.0.0.0 udp sport 68 udp dport 67 "
    "accept\n"
    "add rule bridge %1$s prerouting drop\n";

/* Appends to @buf (of @size, @len used) the commands that delete every
 * element of tap @tap from port table @table. 0 or a negative errno. */
static int
forget_elements(const char *table, const char *tap, char *buf, size_t size, size_t *len)
{
    char cmd[64], *out = NULL;
    const cJSON *e, *el;
    cJSON *doc;
    int r;

    snprintf(cmd, sizeof(cmd), "list table bridge %s", table);
    if ((r = run(cmd, true, &out)) < 0)
        return r;
    doc = cJSON_Parse(out);
    free(out);
    if (!doc)
        return fail(-EPROTO, "nft: its listing of table %s is not JSON", table);
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(doc, "nftables")) {
        const cJSON *set = cJSON_GetObjectItem(e, "set");
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(set, "name"));

        cJSON_ArrayForEach(el, cJSON_GetObjectItem(set, "elem")) {
            const cJSON *cat = cJSON_GetObjectItem(el, "concat");
            const char *t = cJSON_GetStringValue(cat ? cJSON_GetArrayItem(cat, 0) : el);
            const char *v = cat ? cJSON_GetStringValue(cJSON_GetArrayItem(cat, 1)) : NULL;
            int n;

            if (!name || !plain(name, 15) || !t || strcmp(t, tap) != 0 ||
                (cat && (!v || !plain(v, 40))))
                continue;
            n = snprintf(buf + *len, size - *len, "delete element bridge %s %s { \"%s\"%s%s }\n",
                         table, name, tap, v ? " . " : "", v ? v : "");
            if (n < 0 || (size_t)n >= size - *len) {
                cJSON_Delete(doc);
                return fail(-ENOSPC, "nft: tap %s has too many elements", tap);
            }
            *len += (size_t)n;
        }
    }
    cJSON_Delete(doc);
    return 0;
}

static int
nft_port_set(struct nc_fw *fw, const struct nc_port *p)
{
    const struct nft *n = fw->priv;
    char mark[NC_FW_MARK_MAX], cmd[4096];
    size_t len;
    int home, r;

    snprintf(mark, sizeof(mark), "%s", p->mark);
    if (!plain(p->table, 40) || !plain(mark, NC_FW_MARK_MAX - 1) || !plain(p->tap, 15) ||
        (p->secure && (!plain(p->mac, 17) || !plain(p->ip, 15))))
        return fail(-EINVAL, "nftables: a name that is not plain (tap %.20s)", p->tap);
    if ((r = enter(n, &home)) < 0)
        return r;
    if ((r = owned("bridge", p->table, mark)) >= 0) {
        bool existed = r > 0;

        len = (size_t)snprintf(cmd, sizeof(cmd), "add table bridge %s { comment \"%s\"; }\n",
                               p->table, mark);
        len += (size_t)snprintf(cmd + len, sizeof(cmd) - len, port_rules, p->table);
        r = existed ? forget_elements(p->table, p->tap, cmd, sizeof(cmd), &len) : 0;
        if (r == 0 && p->secure &&
            (size_t)snprintf(cmd + len, sizeof(cmd) - len,
                             "add element bridge %1$s ports { \"%2$s\" }\n"
                             "add element bridge %1$s macs { \"%2$s\" . %3$s }\n"
                             "add element bridge %1$s ips { \"%2$s\" . %4$s }\n",
                             p->table, p->tap, p->mac, p->ip) >= sizeof(cmd) - len)
            r = fail(-ENOSPC, "nft: tap %s has too many elements", p->tap);
        if (r == 0)
            r = run(cmd, false, NULL);
    }
    return leave(n, home, r);
}

static int
nft_port_forget(struct nc_fw *fw, const char *table, const char *mark, const char *tap)
{
    const struct nft *n = fw->priv;
    char cmd[2048];
    size_t len = 0;
    int home, r;

    if (!plain(table, 40) || !plain(tap, 15))
        return fail(-EINVAL, "nftables: a name that is not plain (tap %.20s)", tap);
    if ((r = enter(n, &home)) < 0)
        return r;
    if ((r = owned("bridge", table, mark)) > 0 &&
        (r = forget_elements(table, tap, cmd, sizeof(cmd), &len)) == 0 && len > 0)
        r = run(cmd, false, NULL);
    return leave(n, home, r < 0 ? r : 0);
}

static void
nft_close(struct nc_fw *fw)
{
    struct nft *n = fw->priv;

    if (n->nsfd >= 0)
        close(n->nsfd);
    free(n);
    free(fw);
}

static const struct nc_fw_ops nft_ops = {
    .close = nft_close,
    .ensure_egress = nft_ensure_egress,
    .remove = nft_remove,
    .port_set = nft_port_set,
    .port_forget = nft_port_forget,
};

int
nc_nft_open(const char *netns, struct nc_fw **ret)
{
    struct nc_fw *fw = calloc(1, sizeof(*fw));
    struct nft *n = calloc(1, sizeof(*n));
    char path[300];

    if (!fw || !n) {
        free(fw);
        free(n);
        return fail(-ENOMEM, "out of memory");
    }
    n->nsfd = -1;
    if (netns) {
        snprintf(n->netns, sizeof(n->netns), "%s", netns);
        snprintf(path, sizeof(path), "/run/netns/%s", netns);
        if ((n->nsfd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
            int err = errno;

            free(fw);
            free(n);
            return fail(-err, "open network namespace %s: %s", netns, strerror(err));
        }
    }
    *fw = (struct nc_fw){.ops = &nft_ops, .priv = n};
    *ret = fw;
    return 0;
}
