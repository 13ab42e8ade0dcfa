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
#include <inttypes.h>
#include <net/if.h>
#include <pthread.h>
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

/* What the policy table holds, as last made or read: known false until
 * read from nft, and again after a transaction failed. */
struct policy_cache {
    pthread_mutex_t lock;
    bool known, exists;
    cJSON *sets; /* set name -> sorted array of its elements */
    char *rules; /* the chains' rules as last written; NULL: unknown */
};

struct nft {
    int nsfd; /* the node's namespace, -1: the caller's */
    char netns[64];
    struct policy_cache pol;
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

/* Sets sysctl file @path to 1 (/proc/sys/net is the namespace of the
 * thread that opens it). */
static int
sysctl_on(const char *path)
{
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
    return fail(-err, "set %s to 1: %s", path, strerror(err));
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
    else if ((r = owned("ip", e->table, mark)) >= 0 &&
             (r = sysctl_on("/proc/sys/net/ipv4/ip_forward")) == 0) {
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
 * hook that lets a port's frame through only when it matches. Bandwidth
 * limits are limit objects of the table, "<tap>i" for what goes to the
 * guest and "<tap>o" for what comes from it, found through maps keyed by
 * the tap (bw_in at postrouting, bw_out at prerouting): a frame over its
 * limit is dropped, as a tc policer would. A tap joins or leaves by set
 * elements and objects alone; the rules never name one.
 */
static const char port_rules[] =
    "add set bridge %1$s ports { type ifname; }\n"
    "add set bridge %1$s macs { type ifname . ether_addr; }\n"
    "add set bridge %1$s ips { type ifname . ipv4_addr; }\n"
    "add map bridge %1$s bw_in { type ifname : limit; }\n"
    "add map bridge %1$s bw_out { type ifname : limit; }\n"
    "add chain bridge %1$s prerouting { type filter hook prerouting priority -200; "
    "policy accept; }\n"
    "add chain bridge %1$s postrouting { type filter hook postrouting priority -200; "
    "policy accept; }\n"
    "flush chain bridge %1$s prerouting\n"
    "flush chain bridge %1$s postrouting\n"
    "add rule bridge %1$s postrouting limit name oifname map @bw_in drop\n"
    "add rule bridge %1$s prerouting limit name iifname map @bw_out drop\n"
    "add rule bridge %1$s prerouting iifname != @ports accept\n"
    "add rule bridge %1$s prerouting iifname . ether saddr != @macs drop\n"
    "add rule bridge %1$s prerouting ether type arp iifname . arp saddr ip @ips accept\n"
    "add rule bridge %1$s prerouting ether type arp arp saddr ip 0.0.0.0 accept\n"
    "add rule bridge %1$s prerouting ether type ip iifname . ip saddr @ips accept\n"
    "add rule bridge %1$s prerouting ether type ip ip saddr 0.0.0.0 udp sport 68 udp dport 67 "
    "accept\n"
    "add rule bridge %1$s prerouting drop\n";

/* Appends @fmt to @buf (of @size, @len used): 0, or -ENOSPC. */
static int __attribute__((format(printf, 4, 5)))
append(char *buf, size_t size, size_t *len, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf + *len, size - *len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= size - *len)
        return -ENOSPC;
    *len += (size_t)n;
    return 0;
}

/*
 * Reads what port table @table holds for tap @tap: appends to @buf (of
 * @size, @len used) the commands that delete it (its set and map
 * elements, then its limit objects) and writes into @have what it is, in
 * the form port_want() gives. 0 or a negative errno.
 */
static int
port_read(const char *table, const char *tap, char *buf, size_t size, size_t *len, char *have,
          size_t havesz)
{
    static const struct {
        const char *name;
        uint64_t bytes;
    } units[] = {{"bytes", 1}, {"kbytes", 1024}, {"mbytes", 1024 * 1024}};
    char cmd[64], *out = NULL, lim_in[20], lim_out[20];
    const cJSON *e, *el;
    size_t hlen = 0;
    cJSON *doc;
    int r = 0;

    snprintf(cmd, sizeof(cmd), "list table bridge %s", table);
    if ((r = run(cmd, true, &out)) < 0)
        return r;
    doc = cJSON_Parse(out);
    free(out);
    if (!doc)
        return fail(-EPROTO, "nft: its listing of table %s is not JSON", table);
    snprintf(lim_in, sizeof(lim_in), "%si", tap);
    snprintf(lim_out, sizeof(lim_out), "%so", tap);
    have[0] = '\0';
    /* The rules of this version have a postrouting chain. */
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(doc, "nftables")) {
        const cJSON *chain = cJSON_GetObjectItem(e, "chain");

        if (chain && cJSON_GetStringValue(cJSON_GetObjectItem(chain, "name")) &&
            strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(chain, "name")), "postrouting") == 0)
            r = append(have, havesz, &hlen, "current;");
    }
    /* Elements first: an object goes only once no map names it. */
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(doc, "nftables")) {
        const cJSON *set = cJSON_GetObjectItem(e, "set");
        const char *name;

        if (!set)
            set = cJSON_GetObjectItem(e, "map");
        name = cJSON_GetStringValue(cJSON_GetObjectItem(set, "name"));
        cJSON_ArrayForEach(el, cJSON_GetObjectItem(set, "elem")) {
            /* "tap", {"concat": ["tap", value]} or, in a map, [key, data]. */
            const cJSON *cat = cJSON_GetObjectItem(el, "concat");
            const char *t, *v = NULL, *data = NULL;

            if (cJSON_IsArray(el)) {
                t = cJSON_GetStringValue(cJSON_GetArrayItem(el, 0));
                data = cJSON_GetStringValue(cJSON_GetArrayItem(el, 1));
            } else {
                t = cJSON_GetStringValue(cat ? cJSON_GetArrayItem(cat, 0) : el);
            }
            if (cat)
                v = cJSON_GetStringValue(cJSON_GetArrayItem(cat, 1));
            if (!name || !plain(name, 15) || !t || strcmp(t, tap) != 0 ||
                (cat && (!v || !plain(v, 40))))
                continue;
            if (r == 0)
                r = append(buf, size, len, "delete element bridge %s %s { \"%s\"%s%s }\n",
                           table, name, tap, v ? " . " : "", v ? v : "");
            if (r == 0)
                r = append(have, havesz, &hlen, "%s%s%s;", name, v || data ? " " : "",
                           v ? v : data ? data : "");
        }
    }
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(doc, "nftables")) {
        const cJSON *lim = cJSON_GetObjectItem(e, "limit");
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(lim, "name"));
        const char *unit = cJSON_GetStringValue(cJSON_GetObjectItem(lim, "burst_unit"));
        uint64_t burst = (uint64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(lim, "burst"));

        if (!name || (strcmp(name, lim_in) != 0 && strcmp(name, lim_out) != 0))
            continue;
        for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
            if (unit && strcmp(unit, units[i].name) == 0)
                burst *= units[i].bytes;
        if (r == 0)
            r = append(buf, size, len, "delete limit bridge %s %s\n", table, name);
        if (r == 0)
            r = append(have, havesz, &hlen, "limit %s %.0f %" PRIu64 ";", name,
                       cJSON_GetNumberValue(cJSON_GetObjectItem(lim, "rate")), burst);
    }
    cJSON_Delete(doc);
    return r < 0 ? fail(r, "nft: tap %s has too many elements", tap) : 0;
}

/* What port_read() says of @p once it is so. */
static int
port_want(const struct nc_port *p, char *want, size_t wantsz)
{
    size_t len = 0;
    int r = append(want, wantsz, &len, "current;");

    if (r == 0 && p->secure)
        r = append(want, wantsz, &len, "ports;macs %s;ips %s;", p->mac, p->ip);
    if (r == 0 && p->in)
        r = append(want, wantsz, &len, "bw_in %si;", p->tap);
    if (r == 0 && p->out)
        r = append(want, wantsz, &len, "bw_out %so;", p->tap);
    if (r == 0 && p->in)
        r = append(want, wantsz, &len, "limit %si %" PRIu64 " %" PRIu32 ";", p->tap, p->in,
                   p->burst);
    if (r == 0 && p->out)
        r = append(want, wantsz, &len, "limit %so %" PRIu64 " %" PRIu32 ";", p->tap, p->out,
                   p->burst);
    return r;
}

/* Appends to @buf the limit object "<tap><dir>" of @bytes a second and
 * @burst bytes, and its element in map @map. */
static int
add_limit(const struct nc_port *p, char dir, const char *map, uint64_t bytes, char *buf,
          size_t size, size_t *len)
{
    if (!bytes)
        return 0;
    return append(buf, size, len,
                  "add limit bridge %1$s %2$s%3$c { rate over %4$" PRIu64
                  " bytes/second burst %5$" PRIu32 " bytes; }\n"
                  "add element bridge %1$s %6$s { \"%2$s\" : \"%2$s%3$c\" }\n",
                  p->table, p->tap, dir, bytes, p->burst, map);
}

static int
nft_port_set(struct nc_fw *fw, const struct nc_port *p)
{
    const struct nft *n = fw->priv;
    char mark[NC_FW_MARK_MAX], cmd[4096], have[512], want[512];
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
        if (existed && (r = port_read(p->table, p->tap, cmd, sizeof(cmd), &len, have,
                                      sizeof(have))) == 0 &&
            port_want(p, want, sizeof(want)) == 0 && strcmp(have, want) == 0)
            return leave(n, home, 0); /* as it should be: its limits keep their state */
        if (r == 0 && p->secure)
            r = append(cmd, sizeof(cmd), &len,
                       "add element bridge %1$s ports { \"%2$s\" }\n"
                       "add element bridge %1$s macs { \"%2$s\" . %3$s }\n"
                       "add element bridge %1$s ips { \"%2$s\" . %4$s }\n",
                       p->table, p->tap, p->mac, p->ip);
        if (r == 0)
            r = add_limit(p, 'i', "bw_in", p->in, cmd, sizeof(cmd), &len);
        if (r == 0)
            r = add_limit(p, 'o', "bw_out", p->out, cmd, sizeof(cmd), &len);
        if (r == -ENOSPC)
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
    char cmd[2048], have[512];
    size_t len = 0;
    int home, r;

    if (!plain(table, 40) || !plain(tap, 15))
        return fail(-EINVAL, "nftables: a name that is not plain (tap %.20s)", tap);
    if ((r = enter(n, &home)) < 0)
        return r;
    if ((r = owned("bridge", table, mark)) > 0 &&
        (r = port_read(table, tap, cmd, sizeof(cmd), &len, have, sizeof(have))) == 0 && len > 0)
        r = run(cmd, false, NULL);
    return leave(n, home, r < 0 ? r : 0);
}

/*
 * Policies. One inet-family table: bridged IPv4 reaches its forward hook
 * through br_netfilter (bridge-nf-call-iptables), with conntrack, so that
 * replies pass. Chain forward sends what leaves an isolated VM through
 * chain egress (whose allowing rules return) and what reaches one through
 * chain ingress (whose allowing rules accept); each ends in a drop. The
 * rules name sets only: iso_in and iso_out (the VMs isolated for each
 * way), a policy's own VMs (<id>s) and each rule's peer VMs (<id>i<k>,
 * <id>o<k>), so VMs come and go as set elements.
 */
static const char *const proto_names[] = {"tcp", "udp", "sctp"};

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Adds @a to set @name of @sets (made when absent), each address once. */
static int
want_elems(cJSON *sets, const char *name, const struct nc_fw_addrs *a)
{
    cJSON *arr = cJSON_GetObjectItemCaseSensitive(sets, name), *e;

    if (!arr && !(arr = cJSON_AddArrayToObject(sets, name)))
        return -ENOMEM;
    for (size_t i = 0; a && i < a->n; i++) {
        bool have = false;

        if (!plain(a->a[i], 18))
            return fail(-EINVAL, "nftables: an address that is not plain");
        cJSON_ArrayForEach(e, arr)
            have = have || strcmp(e->valuestring, a->a[i]) == 0;
        if (!have && !cJSON_AddItemToArray(arr, cJSON_CreateString(a->a[i])))
            return -ENOMEM;
    }
    return 0;
}

/* One rule of policy @p, every peer and port variant of it, into @f. */
static void
render_rule(FILE *f, const char *table, const struct nc_fw_policy *p, bool in, size_t k,
            const struct nc_fw_rule *r)
{
    const char *self = in ? "ip daddr" : "ip saddr", *peer = in ? "ip saddr" : "ip daddr";
    const char *chain = in ? "ingress" : "egress", *verdict = in ? "accept" : "return";

    for (int v = 0; v < 3; v++) { /* every address, the peer VMs, the CIDRs */
        if ((v == 0 && !r->any) || (v == 1 && (r->any || !r->has_vms)) ||
            (v == 2 && (r->any || !r->cidrs.n)))
            continue;
        for (size_t j = 0; j < (r->n_ports ? r->n_ports : 1); j++) {
            const struct nc_fw_ports *pt = r->n_ports ? &r->ports[j] : NULL;

            fprintf(f, "add rule inet %s %s %s @%ss", table, chain, self, p->id);
            if (v == 1)
                fprintf(f, " %s @%s%c%zu", peer, p->id, in ? 'i' : 'o', k);
            for (size_t c = 0; v == 2 && c < r->cidrs.n; c++)
                fprintf(f, c ? ", %s" : " %s { %s", c ? r->cidrs.a[c] : peer, r->cidrs.a[c]);
            if (v == 2)
                fprintf(f, " }");
            if (pt)
                fprintf(f, " meta l4proto %s", proto_names[pt->proto]);
            if (pt && pt->first && pt->last > pt->first)
                fprintf(f, " th dport %u-%u", pt->first, pt->last);
            else if (pt && pt->first)
                fprintf(f, " th dport %u", pt->first);
            fprintf(f, " %s\n", verdict);
        }
    }
}

/* What @pols need: every set with its elements into @sets, and the
 * chains' rules into *@ret_rules (free it). 0 or a negative errno. */
static int
render(const char *table, const struct nc_fw_policy *pols, size_t n, cJSON *sets, char **ret_rules)
{
    char name[32], *rules = NULL;
    size_t len = 0;
    FILE *f;
    int r = 0;

    if (!(f = open_memstream(&rules, &len)))
        return -ENOMEM;
    fprintf(f,
            "add rule inet %1$s forward ct state established,related accept\n"
            "add rule inet %1$s forward ip saddr @iso_out jump egress\n"
            "add rule inet %1$s forward ip daddr @iso_in jump ingress\n",
            table);
    r = want_elems(sets, "iso_in", NULL) < 0 || want_elems(sets, "iso_out", NULL) < 0 ? -ENOMEM : 0;
    for (size_t i = 0; i < n && r == 0; i++) {
        const struct nc_fw_policy *p = &pols[i];

        if (!plain(p->id, 15)) {
            r = fail(-EINVAL, "nftables: a policy id that is not plain");
            break;
        }
        snprintf(name, sizeof(name), "%ss", p->id);
        if ((r = want_elems(sets, name, &p->vms)) < 0 ||
            (p->ingress && (r = want_elems(sets, "iso_in", &p->vms)) < 0) ||
            (p->egress && (r = want_elems(sets, "iso_out", &p->vms)) < 0))
            break;
        for (int in = 0; in < 2 && r == 0; in++)
            for (size_t k = 0; k < (in ? p->n_in : p->n_out) && r == 0; k++) {
                const struct nc_fw_rule *rule = in ? &p->in[k] : &p->out[k];

                for (size_t c = 0; c < rule->cidrs.n && r == 0; c++)
                    if (!plain(rule->cidrs.a[c], 18))
                        r = fail(-EINVAL, "nftables: a CIDR that is not plain");
                snprintf(name, sizeof(name), "%s%c%zu", p->id, in ? 'i' : 'o', k);
                if (r == 0 && !rule->any && rule->has_vms)
                    r = want_elems(sets, name, &rule->vms);
                if (r == 0)
                    render_rule(f, table, p, in, k, rule);
            }
    }
    fprintf(f, "add rule inet %1$s egress drop\nadd rule inet %1$s ingress drop\n", table);
    if (fclose(f) != 0 && r == 0)
        r = -ENOMEM;
    if (r < 0) {
        free(rules);
        return r;
    }
    for (cJSON *set = sets->child; set; set = set->next) {
        size_t k = 0, m = (size_t)cJSON_GetArraySize(set);
        const char **v = calloc(m ? m : 1, sizeof(*v));
        cJSON *e, *sorted = cJSON_CreateArray();

        cJSON_ArrayForEach(e, set) {
            if (v)
                v[k++] = e->valuestring;
        }
        if (v)
            qsort(v, m, sizeof(*v), cmp_str);
        for (k = 0; v && sorted && k < m; k++)
            cJSON_AddItemToArray(sorted, cJSON_CreateString(v[k]));
        free(v);
        if (sorted)
            sorted->string = strdup(set->string); /* the member's name */
        if (!v || !sorted || !sorted->string || !cJSON_ReplaceItemViaPointer(sets, set, sorted)) {
            cJSON_Delete(sorted);
            free(rules);
            return -ENOMEM;
        }
        set = sorted;
    }
    *ret_rules = rules;
    return 0;
}

/* Reads what policy table @table holds into the cache: whether it exists
 * and its sets' elements (its rules are then written again). */
static int
load_policies(struct policy_cache *c, const char *table, const char *mark)
{
    char cmd[96], *out = NULL;
    const cJSON *e, *el;
    cJSON *doc;
    int r;

    cJSON_Delete(c->sets);
    free(c->rules);
    c->rules = NULL;
    if (!(c->sets = cJSON_CreateObject()))
        return -ENOMEM;
    if ((r = owned("inet", table, mark)) <= 0) {
        c->exists = false;
        c->known = r == 0;
        return r;
    }
    snprintf(cmd, sizeof(cmd), "list table inet %s", table);
    if ((r = run(cmd, true, &out)) < 0)
        return r;
    doc = cJSON_Parse(out);
    free(out);
    if (!doc)
        return fail(-EPROTO, "nft: its listing of table %s is not JSON", table);
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(doc, "nftables")) {
        const cJSON *set = cJSON_GetObjectItem(e, "set");
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(set, "name"));
        cJSON *arr;

        if (!name || !(arr = cJSON_AddArrayToObject(c->sets, name)))
            continue;
        cJSON_ArrayForEach(el, cJSON_GetObjectItem(set, "elem"))
            if (cJSON_IsString(el))
                cJSON_AddItemToArray(arr, cJSON_CreateString(el->valuestring));
    }
    cJSON_Delete(doc);
    c->exists = c->known = true;
    return 0;
}

/* The elements of sorted array @a that sorted array @b lacks, as
 * "{ x, y }" into @f after @head; nothing when there are none. */
static void
render_missing(FILE *f, const char *head, const cJSON *a, const cJSON *b)
{
    const cJSON *x = a ? a->child : NULL, *y = b ? b->child : NULL;
    bool first = true;

    for (; x; x = x->next) {
        while (y && strcmp(y->valuestring, x->valuestring) < 0)
            y = y->next;
        if (y && strcmp(y->valuestring, x->valuestring) == 0)
            continue;
        fprintf(f, "%s%s", first ? head : ", ", x->valuestring);
        first = false;
    }
    if (!first)
        fprintf(f, " }\n");
}

static int
nft_policies(struct nc_fw *fw, const char *table, const char *mark,
             const struct nc_fw_policy *pols, size_t n)
{
    struct nft *nf = fw->priv;
    struct policy_cache *c = &nf->pol;
    char m[NC_FW_MARK_MAX], head[128], *cmd = NULL, *rules = NULL;
    size_t len = 0;
    cJSON *sets = NULL;
    FILE *f = NULL;
    int home, r;

    snprintf(m, sizeof(m), "%s", mark);
    if (!plain(table, 40) || !plain(m, NC_FW_MARK_MAX - 1))
        return fail(-EINVAL, "nftables: a table name that is not plain");
    if ((r = enter(nf, &home)) < 0)
        return r;
    pthread_mutex_lock(&c->lock);
    if (!c->known && (r = load_policies(c, table, m)) < 0)
        goto out;
    if (n == 0) {
        if (c->exists) {
            snprintf(head, sizeof(head), "delete table inet %s\n", table);
            if ((r = run(head, false, NULL)) == 0)
                c->exists = false;
            c->known = r == 0;
            cJSON_Delete(c->sets);
            c->sets = cJSON_CreateObject();
            free(c->rules);
            c->rules = NULL;
        }
        goto out;
    }
    if (!(sets = cJSON_CreateObject()) || (r = render(table, pols, n, sets, &rules)) < 0 ||
        (r = sysctl_on("/proc/sys/net/bridge/bridge-nf-call-iptables")) < 0)
        goto out;
    if (!(f = open_memstream(&cmd, &len))) {
        r = -ENOMEM;
        goto out;
    }
    if (!c->exists)
        fprintf(f,
                "add table inet %1$s { comment \"%2$s\"; }\n"
                "add chain inet %1$s forward { type filter hook forward priority filter; "
                "policy accept; }\n"
                "add chain inet %1$s ingress\n"
                "add chain inet %1$s egress\n",
                table, m);
    for (const cJSON *set = sets->child; set; set = set->next)
        if (!cJSON_GetObjectItemCaseSensitive(c->sets, set->string))
            fprintf(f, "add set inet %s %s { type ipv4_addr; }\n", table, set->string);
    if (!c->rules || strcmp(c->rules, rules) != 0)
        fprintf(f,
                "flush chain inet %1$s forward\nflush chain inet %1$s ingress\n"
                "flush chain inet %1$s egress\n%2$s",
                table, rules);
    for (const cJSON *set = sets->child; set; set = set->next) {
        const cJSON *had = cJSON_GetObjectItemCaseSensitive(c->sets, set->string);

        snprintf(head, sizeof(head), "delete element inet %s %s { ", table, set->string);
        render_missing(f, head, had, set);
        snprintf(head, sizeof(head), "add element inet %s %s { ", table, set->string);
        render_missing(f, head, set, had);
    }
    for (const cJSON *set = c->sets->child; set; set = set->next)
        if (!cJSON_GetObjectItemCaseSensitive(sets, set->string))
            fprintf(f, "delete set inet %s %s\n", table, set->string);
    if (fclose(f) != 0) {
        f = NULL;
        r = -ENOMEM;
        goto out;
    }
    f = NULL;
    /* Nothing changed (a VM that is no policy's peer moved): no transaction. */
    if (len > 0 && (r = run(cmd, false, NULL)) < 0) {
        c->known = false; /* read again from nft next time */
        goto out;
    }
    cJSON_Delete(c->sets);
    c->sets = sets;
    sets = NULL;
    free(c->rules);
    c->rules = rules;
    rules = NULL;
    c->exists = c->known = true;
out:
    pthread_mutex_unlock(&c->lock);
    if (f)
        fclose(f);
    free(cmd);
    free(rules);
    cJSON_Delete(sets);
    return leave(nf, home, r);
}

static void
nft_close(struct nc_fw *fw)
{
    struct nft *n = fw->priv;

    if (n->nsfd >= 0)
        close(n->nsfd);
    pthread_mutex_destroy(&n->pol.lock);
    cJSON_Delete(n->pol.sets);
    free(n->pol.rules);
    free(n);
    free(fw);
}

static const struct nc_fw_ops nft_ops = {
    .close = nft_close,
    .ensure_egress = nft_ensure_egress,
    .remove = nft_remove,
    .port_set = nft_port_set,
    .port_forget = nft_port_forget,
    .policies = nft_policies,
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
    pthread_mutex_init(&n->pol.lock, NULL);
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
