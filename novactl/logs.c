/*
 * novactl logs vm NAME: what the workload printed, whatever its runtime:
 * a guest's serial console log (status.consoleLog), a process's log file
 * (status.process.log), a container's output as its node's Podman keeps
 * it (GET /containers/NAME/logs on Podman's socket, --connect or
 * /run/podman/podman.sock). Files and the socket are the node's: the
 * command runs there, as `podman logs` and `virsh console` do.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "novactl/cli.h"
#include "novactl/objects.h"

#define PODMAN_SOCKET "/run/podman/podman.sock"

static int
print_file(const char *path, const char *what, const char *ref)
{
    char buf[65536];
    size_t n;
    FILE *f;

    if (!path || path[0] != '/') {
        fprintf(stderr, "novactl: %s has no %s yet\n", ref, what);
        return 1;
    }
    if (!(f = fopen(path, "r"))) {
        fprintf(stderr, "novactl: cannot read %s's %s here: %s: %s\n", ref, what, path,
                strerror(errno));
        return 1;
    }
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
        fwrite(buf, 1, n, stdout);
    fclose(f);
    return 0;
}

/*
 * Podman's log stream without a terminal is multiplexed as Docker's: each
 * frame an 8-byte header (stream 1 stdout or 2 stderr, three zero bytes,
 * the length, big-endian) and that many bytes.
 */
struct demux {
    unsigned char head[8];
    size_t have;  /* header bytes so far */
    size_t left;  /* payload bytes of the current frame still to come */
    FILE *to;
};

static size_t
on_logs(char *d, size_t size, size_t n, void *u)
{
    struct demux *m = u;
    size_t len = size * n, i = 0;

    while (i < len) {
        if (m->left == 0) {
            m->head[m->have++] = (unsigned char)d[i++];
            if (m->have == 8) {
                m->left = (size_t)m->head[4] << 24 | (size_t)m->head[5] << 16 |
                          (size_t)m->head[6] << 8 | m->head[7];
                m->to = m->head[0] == 2 ? stderr : stdout;
                m->have = 0;
            }
            continue;
        }
        size_t k = len - i < m->left ? len - i : m->left;

        fwrite(d + i, 1, k, m->to);
        i += k;
        m->left -= k;
    }
    return len;
}

static int
print_container(const char *sock, const char *name, const char *ref)
{
    struct demux m = {.to = stdout};
    char url[400];
    long status = 0;
    CURLcode cr;
    CURL *c = curl_easy_init();

    if (!c) {
        fprintf(stderr, "novactl: out of memory\n");
        return 1;
    }
    snprintf(url, sizeof(url), "http://d/v4.0.0/libpod/containers/%s/logs?stdout=true&stderr=true",
             name);
    curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, sock);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_logs);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &m);
    cr = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    if (cr != CURLE_OK) {
        fprintf(stderr, "novactl: %s: Podman at %s: %s (run this on the VM's node, or name its "
                        "socket with --connect)\n",
                ref, sock, curl_easy_strerror(cr));
        return 1;
    }
    if (status != 200) {
        fprintf(stderr, "novactl: %s: Podman at %s has no container %s (HTTP %ld)\n", ref, sock,
                name, status);
        return 1;
    }
    return 0;
}

int
cli_logs(struct cli *c)
{
    const char *runtime, *domname;
    const cJSON *status, *spec;
    struct cli_obj obj = {0};
    char ref[200];
    int r;

    if ((r = cli_vm_fetch(c, "logs", ref, sizeof(ref), &obj)) != 0)
        return r;
    status = obj.status;
    spec = cJSON_GetObjectItem(obj.spec, "spec");
    runtime = cJSON_GetStringValue(cJSON_GetObjectItem(spec, "runtime"));
    domname = cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(status, "domain"),
                                                       "name"));
    if (runtime && strcmp(runtime, "container") == 0) {
        if (!cli_domain_name_ok(domname)) {
            fprintf(stderr, "novactl: %s has no container yet\n", ref);
            r = 1;
        } else {
            r = print_container(c->connect ? c->connect : PODMAN_SOCKET, domname, ref);
        }
    } else if (runtime && strcmp(runtime, "process") == 0) {
        r = print_file(cJSON_GetStringValue(
                           cJSON_GetObjectItem(cJSON_GetObjectItem(status, "process"), "log")),
                       "log", ref);
    } else {
        r = print_file(cJSON_GetStringValue(cJSON_GetObjectItem(status, "consoleLog")),
                       "console log", ref);
    }
    cli_obj_clear(&obj);
    return r;
}
