/*
 * nc-bench: applies N VirtualMachine specs to a running novacrond and
 * prints how long they took to converge against the etcd floor measured in
 * the same run. tests/bench/run.sh starts etcd and novacrond around it.
 *
 *   nc-bench ETCD_URL METRICS_URL NOVACROND_PID N IDLE_SECONDS [HYPERVISOR_PID]
 *
 * The floor is N sequential create-only txns through the same client code
 * the controller uses. Convergence is seen through a watch on the status
 * prefix: a VM has converged when its status observes the revision its
 * spec was written at and says Ready=True. Memory: novacrond's peak RSS,
 * and what it grew by per VM from its RSS before the first put; with
 * HYPERVISOR_PID (libvirtd, when the domains live outside novacrond) the
 * same of that process, which holds the domains' definitions.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <event2/event.h>

#include "core/etcd.h"
#include "core/watch.h"
#include "tests/bench/util.h"

#define PREFIX "/novacron/"
#define TOOL "nc-bench"

struct bench {
    struct nc_etcd_conf conf;
    int n;
    pthread_mutex_t lock;
    int64_t *spec_rev;  /* per VM, set once its put returned */
    int64_t *observed;  /* per VM, observedGeneration when Ready=True */
    int converged;
    double t_start, t_converged, t_applied;
    struct event_base *base;
};

static char *
spec_doc(int i)
{
    char *s;

    if (asprintf(&s,
                 "{\"apiVersion\":\"novacron.io/v1\",\"kind\":\"VirtualMachine\",\"metadata\":"
                 "{\"name\":\"vm-%d\",\"namespace\":\"bench\",\"labels\":{\"app\":\"bench\"}},"
                 "\"spec\":{\"vcpus\":1,\"memory\":\"64MiB\"}}",
                 i) < 0)
        return NULL;
    return s;
}

/* Call with the lock held: counts @i as converged when it newly is. */
static void
check(struct bench *b, int i)
{
    if (b->spec_rev[i] && b->observed[i] == b->spec_rev[i]) {
        b->observed[i] = -1; /* counted */
        if (++b->converged == b->n) {
            b->t_converged = bench_now_s();
            event_base_loopbreak(b->base);
        }
    }
}

static void
on_status(void *data, const struct nc_kv *kv, bool deleted)
{
    struct bench *b = data;
    const char *name = strrchr(kv->key, '/');
    cJSON *st, *c;
    int i;

    if (deleted || !name || sscanf(name, "/vm-%d", &i) != 1 || i < 0 || i >= b->n)
        return;
    st = cJSON_Parse(kv->value);
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(st, "conditions")) {
        if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(c, "type")) ?: "", "Ready") == 0 &&
            strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(c, "status")) ?: "", "True") == 0) {
            pthread_mutex_lock(&b->lock);
            if (b->observed[i] != -1) {
                b->observed[i] = (int64_t)cJSON_GetNumberValue(
                    cJSON_GetObjectItem(st, "observedGeneration"));
                check(b, i);
            }
            pthread_mutex_unlock(&b->lock);
        }
    }
    cJSON_Delete(st);
}

static void *
apply_thread(void *arg)
{
    struct bench *b = arg;
    struct nc_etcd *c = nc_etcd_new(&b->conf);

    for (int i = 0; i < b->n; i++) {
        char key[128], *doc = spec_doc(i);
        int64_t rev;

        snprintf(key, sizeof(key), PREFIX "spec/bench/vm/vm-%d", i);
        if (!doc || nc_etcd_put(c, key, doc, 0, &rev) < 0)
            bench_die(TOOL, "put", c);
        free(doc);
        pthread_mutex_lock(&b->lock);
        b->spec_rev[i] = rev;
        check(b, i);
        pthread_mutex_unlock(&b->lock);
    }
    b->t_applied = bench_now_s();
    nc_etcd_free(c);
    return NULL;
}

static size_t
grow(char *ptr, size_t size, size_t nmemb, void *data)
{
    FILE *f = data;

    return fwrite(ptr, size, nmemb, f);
}

/* Reads metric @name (with its labels, as it appears) from @url. */
static double
metric(const char *url, const char *name)
{
    char *text = NULL, *line, *save = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    CURL *h = curl_easy_init();
    double v = -1;

    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, grow);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, f);
    curl_easy_perform(h);
    curl_easy_cleanup(h);
    fclose(f);
    for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
        if (strncmp(line, name, strlen(name)) == 0 && line[strlen(name)] == ' ')
            v = atof(line + strlen(name) + 1);
    free(text);
    return v;
}

/* The keys etcd at @etcd_url has put or deleted since it started. */
static double
etcd_keys_written(const char *etcd_url)
{
    char url[512];

    snprintf(url, sizeof(url), "%s/metrics", etcd_url);
    return metric(url, "etcd_debugging_mvcc_put_total") +
           metric(url, "etcd_debugging_mvcc_delete_total");
}

/* A "Vm...:" line of /proc/PID/status, in KiB; -1 when unreadable. */
static long
status_kib(int pid, const char *field)
{
    char path[64], line[256], fmt[32];
    long kib = -1;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/status", pid);
    snprintf(fmt, sizeof(fmt), "%s: %%ld kB", field);
    if (!(f = fopen(path, "r")))
        return -1;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, fmt, &kib) == 1)
            break;
    fclose(f);
    return kib;
}

static void
print_rss(const char *who, int pid, long start_kib, int n)
{
    long peak = status_kib(pid, "VmHWM");

    printf("  %-12s peak RSS %8.1f MiB (%.1f MiB before the first put: %.0f bytes per VM)\n",
           who, peak / 1024.0, start_kib / 1024.0, (peak - start_kib) * 1024.0 / n);
}

int
main(int argc, char **argv)
{
    static const char *endpoints[1];
    struct bench b = {.lock = PTHREAD_MUTEX_INITIALIZER};
    struct nc_etcd *c;
    struct nc_watch *w;
    pthread_t t;
    double floor_s, conv_s, keys0, keys1;
    int64_t r0, r1, r2;
    int pid, idle, hv_pid;
    long rss0, hv_rss0 = 0;
    char *doc;
    const char *murl;
    static const struct nc_watch_ops ops = {.event = on_status, .compacted = bench_compacted};

    if (argc != 6 && argc != 7) {
        fprintf(stderr, "usage: nc-bench ETCD_URL METRICS_URL NOVACROND_PID N IDLE_SECONDS "
                        "[HYPERVISOR_PID]\n");
        return 2;
    }
    endpoints[0] = argv[1];
    murl = argv[2];
    pid = atoi(argv[3]);
    b.n = atoi(argv[4]);
    idle = atoi(argv[5]);
    hv_pid = argc == 7 ? atoi(argv[6]) : 0;
    rss0 = status_kib(pid, "VmRSS");
    if (hv_pid)
        hv_rss0 = status_kib(hv_pid, "VmRSS");
    b.conf = (struct nc_etcd_conf){.endpoints = endpoints, .n_endpoints = 1};
    b.spec_rev = calloc((size_t)b.n, sizeof(int64_t));
    b.observed = calloc((size_t)b.n, sizeof(int64_t));
    curl_global_init(CURL_GLOBAL_DEFAULT);
    c = nc_etcd_new(&b.conf);

    /* The floor writes a document of a spec's size. */
    doc = spec_doc(0);
    floor_s = bench_floor(TOOL, c, b.n, doc);
    free(doc);

    b.base = event_base_new();
    w = nc_watch_new(b.base, &b.conf, PREFIX "status/bench/vm/", &ops, &b);
    r0 = bench_store_revision(TOOL, c);
    keys0 = etcd_keys_written(argv[1]);
    if (nc_watch_start(w, r0 + 1) < 0)
        bench_die(TOOL, "watch", NULL);
    b.t_start = bench_now_s();
    pthread_create(&t, NULL, apply_thread, &b);
    event_base_dispatch(b.base);
    pthread_join(t, NULL);
    conv_s = b.t_converged - b.t_start;
    r1 = bench_store_revision(TOOL, c);

    printf("N=%d\n", b.n);
    printf("  etcd floor: %d sequential txns           %8.3f s  (%.0f txn/s)\n", b.n, floor_s,
           b.n / floor_s);
    printf("  apply (N puts by this tool)               %8.3f s\n", b.t_applied - b.t_start);
    printf("  all converged (Ready, observedGeneration) %8.3f s  (%.0f VMs/s)\n", conv_s,
           b.n / conv_s);
    printf("  convergence / floor                       %8.2f x\n", conv_s / floor_s);
    printf("  queue wait p50 / p99 (event to reconcile)  %.1f / %.1f ms\n",
           1000 * metric(murl, "novacron_queue_wait_seconds{quantile=\"0.5\"}"),
           1000 * metric(murl, "novacron_queue_wait_seconds{quantile=\"0.99\"}"));
    keys1 = etcd_keys_written(argv[1]);
    printf("  etcd keys put per VM by the controller    %8.2f  (%.0f for %d specs)\n",
           (keys1 - keys0 - b.n) / b.n, keys1 - keys0 - b.n, b.n);
    printf("  etcd revisions per VM by the controller   %8.2f  (%" PRId64 " revisions)\n",
           (double)(r1 - r0 - b.n) / b.n, r1 - r0 - b.n);
    printf("  status write txns / requests per VM        %.2f / %.2f  (group commit)\n",
           metric(murl, "novacron_etcd_writes_total") / b.n,
           metric(murl, "novacron_etcd_write_requests_total") / b.n);
    fflush(stdout);
    if (idle > 0) {
        r1 = bench_store_revision(TOOL, c);
        sleep((unsigned)idle);
        r2 = bench_store_revision(TOOL, c);
        printf("  etcd writes during %d s idle              %8" PRId64 "\n", idle, r2 - r1);
    }
    print_rss("novacrond", pid, rss0, b.n);
    if (hv_pid)
        print_rss("libvirtd", hv_pid, hv_rss0, b.n);
    nc_watch_free(w);
    event_base_free(b.base);
    nc_etcd_free(c);
    free(b.spec_rev);
    free(b.observed);
    return 0;
}
