#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "novactl/cli.h"
#include "schema/quantity.h"

struct nc_etcd *
cli_etcd(struct cli *c)
{
    if (!c->etcd)
        c->etcd = nc_etcd_new(&c->conf);
    return c->etcd;
}

const char *
cli_ns(const struct cli *c)
{
    return c->ns ? c->ns : "default";
}

int
cli_etcd_error(struct cli *c, const char *what)
{
    fprintf(stderr, "novactl: %s: ", what);
    cli_puts_safe(stderr, c->etcd ? nc_etcd_errmsg(c->etcd) : "out of memory");
    fputc('\n', stderr);
    return 1;
}

char *
cli_key(const struct cli *c, char *buf, size_t bufsz, const char *space, const char *ns,
        const char *segment, const char *name)
{
    snprintf(buf, bufsz, "%s%s/%s/%s/%s", c->prefix, space, ns, segment, name);
    return buf;
}

void
cli_puts_safe(FILE *f, const char *s)
{
    for (; s && *s; s++)
        fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, f);
}

char *
cli_ref(char *buf, size_t bufsz, const struct nc_kind *k, const char *ns, const char *name)
{
    if (strcmp(ns, "default") == 0)
        snprintf(buf, bufsz, "%s/%s", k->segment, name);
    else
        snprintf(buf, bufsz, "%s/%s -n %s", k->segment, name, ns);
    return buf;
}

const struct nc_kind *
cli_kind(const char *word)
{
    const struct nc_kind *k = nc_kind_lookup(word);

    if (!k) {
        fputs("novactl: unknown kind \"", stderr);
        cli_puts_safe(stderr, word);
        fputs("\" (vm, network or volume)\n", stderr);
    }
    return k;
}

/* "3s", "5m", "7h", "2d" since an RFC 3339 UTC time; "-" without one. */
void
cli_age(const char *since, char *buf, size_t n)
{
    time_t t = nc_rfc3339_parse(since);
    long long s;

    if (t == (time_t)-1) {
        snprintf(buf, n, "-");
        return;
    }
    s = (long long)(time(NULL) - t);
    if (s < 0)
        s = 0;
    if (s < 120)
        snprintf(buf, n, "%llds", s);
    else if (s < 120 * 60)
        snprintf(buf, n, "%lldm", s / 60);
    else if (s < 48 * 3600)
        snprintf(buf, n, "%lldh", s / 3600);
    else
        snprintf(buf, n, "%lldd", s / 86400);
}

const char *
cli_size(uint64_t bytes, char *buf, size_t n)
{
    nc_quantity_format(bytes, buf, n);
    if (strstr(buf, "KiB") || (!strstr(buf, "iB") && bytes))
        snprintf(buf, n, bytes >= (1ULL << 30) ? "%.1fGiB" : "%.1fMiB",
                 (double)bytes / (bytes >= (1ULL << 30) ? 1 << 30 : 1 << 20));
    return buf;
}
