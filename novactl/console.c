/*
 * novactl console vm NAME: the guest's serial console on this terminal,
 * as virsh console has it: libvirt's virDomainOpenConsole() stream of the
 * domain on the VM's node, Ctrl-] to leave. --log prints the console's
 * log file (status.consoleLog) instead.
 *
 * novactl talks to the node's libvirt itself, at the URI the node
 * registered (nodes/<node> "libvirt") or the one --connect names: no
 * keystroke passes through novacrond or etcd, and libvirt's own access
 * control (its socket's permissions, TLS or SSH for a remote URI) decides
 * who may attach, as for virsh. A proxy in novacrond would need an
 * authenticated endpoint of its own to keep tenants apart.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "core/names.h"
#include "novactl/cli.h"
#include "novactl/objects.h"
#include "schema/validate.h"

#define ESCAPE 0x1d /* Ctrl-] */

struct session {
    virStreamPtr st;
    bool quit;
    int status; /* the exit code */
};

static void
on_stream(virStreamPtr st, int events, void *data)
{
    struct session *s = data;
    char buf[4096];
    int n;

    (void)events;
    while ((n = virStreamRecv(st, buf, sizeof(buf))) > 0)
        if (write(STDOUT_FILENO, buf, (size_t)n) < 0)
            break;
    if (n == -2)
        return; /* nothing more for now */
    s->status = n == 0 ? 0 : 1;
    s->quit = true;
}

/* Sends @len bytes of @buf, waiting out a full stream. */
static int
send_all(virStreamPtr st, const char *buf, size_t len)
{
    while (len > 0) {
        int n = virStreamSend(st, buf, len);

        if (n == -2) {
            usleep(1000);
            continue;
        }
        if (n < 0)
            return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

static void
on_stdin(int watch, int fd, int events, void *data)
{
    struct session *s = data;
    char buf[1024];
    ssize_t n = read(fd, buf, sizeof(buf));
    char *esc;

    (void)watch, (void)events;
    if (n <= 0) {
        s->quit = true;
        return;
    }
    esc = memchr(buf, ESCAPE, (size_t)n);
    if (send_all(s->st, buf, esc ? (size_t)(esc - buf) : (size_t)n) < 0) {
        s->status = 1;
        s->quit = true;
    }
    if (esc)
        s->quit = true;
}

static int
print_log(const cJSON *status, const char *ref)
{
    const char *path = cJSON_GetStringValue(cJSON_GetObjectItem(status, "consoleLog"));
    char buf[65536];
    size_t n;
    FILE *f;

    if (!path) {
        fprintf(stderr, "novactl: %s has no console log (libvirt's test driver keeps none)\n",
                ref);
        return 1;
    }
    if (!(f = fopen(path, "r"))) {
        fprintf(stderr, "novactl: cannot read %s's console log here: %s: %s\n", ref, path,
                strerror(errno));
        return 1;
    }
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
        fwrite(buf, 1, n, stdout);
    fclose(f);
    return 0;
}

/* The libvirt URI of @node: --connect, else its registration's, into
 * @ret (caller frees; NULL when it registered none). 0, or the exit code
 * after saying why etcd did not answer. */
static int
node_uri(struct cli *c, const char *node, char **ret)
{
    char key[600];
    struct nc_kv kv;
    cJSON *reg;
    const char *uri;
    int r;

    *ret = NULL;
    if (c->connect) {
        if ((*ret = strdup(c->connect)))
            return 0;
        fputs("novactl: out of memory\n", stderr);
        return 1;
    }
    snprintf(key, sizeof(key), "%snodes/%s", c->prefix, node);
    if ((r = nc_etcd_get(cli_etcd(c), key, &kv, NULL)) == -ENOENT)
        return 0;
    if (r < 0)
        return cli_etcd_error(c, "cannot read the node's registration");
    reg = cJSON_Parse(kv.value);
    nc_kv_clear(&kv);
    uri = cJSON_GetStringValue(cJSON_GetObjectItem(reg, "libvirt"));
    if (uri && *uri)
        *ret = strdup(uri);
    cJSON_Delete(reg);
    return 0;
}

static int
attach(const char *uri, const char *domname, const char *ref)
{
    struct session s = {.status = 1};
    struct termios saved, raw;
    bool tty = isatty(STDIN_FILENO);
    virConnectPtr conn = NULL;
    virDomainPtr dom = NULL;
    int watch = -1;

    if (virEventRegisterDefaultImpl() < 0 || !(conn = virConnectOpen(uri)) ||
        !(dom = virDomainLookupByName(conn, domname)) ||
        !(s.st = virStreamNew(conn, VIR_STREAM_NONBLOCK)) ||
        virDomainOpenConsole(dom, NULL, s.st, 0) < 0) {
        const virError *e = virGetLastError();

        fprintf(stderr, "novactl: cannot attach to %s's console (domain %s at %s): %s\n", ref,
                domname, uri, e && e->message ? e->message : "libvirt failed");
        goto out;
    }
    if (virStreamEventAddCallback(s.st,
                                  VIR_STREAM_EVENT_READABLE | VIR_STREAM_EVENT_ERROR |
                                      VIR_STREAM_EVENT_HANGUP,
                                  on_stream, &s, NULL) < 0 ||
        (watch = virEventAddHandle(STDIN_FILENO,
                                   VIR_EVENT_HANDLE_READABLE | VIR_EVENT_HANDLE_ERROR |
                                       VIR_EVENT_HANDLE_HANGUP,
                                   on_stdin, &s, NULL)) < 0) {
        fprintf(stderr, "novactl: cannot watch the console stream\n");
        goto out;
    }
    fprintf(stderr, "Connected to %s (domain %s)\nEscape character is ^] (Ctrl + ])\n", ref,
            domname);
    if (tty && tcgetattr(STDIN_FILENO, &saved) == 0) {
        raw = saved;
        cfmakeraw(&raw);
        /* TCSANOW, not TCSAFLUSH: what was typed once the banner showed
         * goes to the guest rather than being thrown away. */
        tcsetattr(STDIN_FILENO, TCSANOW, &raw);
    } else {
        tty = false;
    }
    s.status = 0;
    while (!s.quit)
        if (virEventRunDefaultImpl() < 0)
            s.quit = true, s.status = 1;
    if (tty)
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
    fputs("\n", stderr);
out:
    if (watch >= 0)
        virEventRemoveHandle(watch);
    if (s.st) {
        virStreamEventRemoveCallback(s.st);
        virStreamAbort(s.st);
        virStreamFree(s.st);
    }
    if (dom)
        virDomainFree(dom);
    if (conn)
        virConnectClose(conn);
    return s.status;
}

int
cli_console(struct cli *c)
{
    const char *node, *domname, *phase;
    struct cli_obj obj = {0};
    const cJSON *status;
    char ref[200], *uri;
    int r;

    if ((r = cli_vm_fetch(c, "console", ref, sizeof(ref), &obj)) != 0)
        return r;
    status = obj.status;
    if (c->log) {
        r = print_log(status, ref);
        cli_obj_clear(&obj);
        return r;
    }
    node = cJSON_GetStringValue(cJSON_GetObjectItem(status, "node"));
    domname = cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(status, "domain"),
                                                       "name"));
    phase = cJSON_GetStringValue(cJSON_GetObjectItem(status, "phase"));
    /* The status is the node's word: names are checked before use. */
    if (!phase || strcmp(phase, "Running") != 0 || !node || !nc_is_dns_subdomain(node) ||
        !cli_domain_name_ok(domname)) {
        fprintf(stderr, "novactl: %s is not running (phase %s)\n", ref, phase ? phase : "none");
        cli_obj_clear(&obj);
        return 1;
    }
    if ((r = node_uri(c, node, &uri)) == 0 && !uri) {
        fprintf(stderr,
                "novactl: node %s registered no libvirt URI; name one with --connect URI\n",
                node);
        r = 1;
    }
    if (uri)
        r = attach(uri, domname, ref);
    free(uri);
    cli_obj_clear(&obj);
    return r;
}
