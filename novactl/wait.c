/* wait, and the watch loop that wait and get -w share. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "core/watch.h"
#include "novactl/objects.h"

struct follow {
    struct event_base *base;
    int (*fn)(void *data, const struct nc_kv *kv, bool deleted);
    void *data;
    int result;
};

/* One watched prefix. */
struct stream {
    struct follow *f;
    struct nc_watch *watch;
};

static void
on_event(void *data, const struct nc_kv *kv, bool deleted)
{
    struct follow *f = ((struct stream *)data)->f;
    int r = f->result ? 0 : f->fn(f->data, kv, deleted);

    if (r) {
        f->result = r;
        event_base_loopbreak(f->base);
    }
}

static void
on_compacted(void *data, int64_t compact_revision)
{
    struct stream *s = data;
    int r = s->f->fn(s->f->data, NULL, false);

    if (r || nc_watch_start(s->watch, compact_revision) < 0) {
        s->f->result = r ? r : -EIO;
        event_base_loopbreak(s->f->base);
    }
}

/* etcd is not the store it was (restored, replaced): what was missed is
 * unknown, as after a compaction; follow it from now on. */
static void
on_rewound(void *data)
{
    on_compacted(data, 0);
}

static void
on_stop(evutil_socket_t fd, short what, void *data)
{
    struct follow *f = data;

    (void)what;
    f->result = fd < 0 ? -ETIMEDOUT : 0;
    event_base_loopbreak(f->base);
}

int
cli_follow(struct cli *c, const char *const *prefixes, size_t n_prefixes, int64_t from,
           int64_t timeout_ms, int (*fn)(void *data, const struct nc_kv *kv, bool deleted),
           void *data)
{
    static const struct nc_watch_ops ops = {on_event, on_compacted, on_rewound};
    struct follow f = {.fn = fn, .data = data};
    struct stream *streams = calloc(n_prefixes, sizeof(*streams));
    struct event *timer = NULL, *sigint = NULL, *sigterm = NULL;
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    bool ok;

    f.base = event_base_new();
    if (!f.base || !streams) {
        free(streams);
        if (f.base)
            event_base_free(f.base);
        return -ENOMEM;
    }
    ok = true;
    for (size_t i = 0; i < n_prefixes; i++) {
        streams[i].f = &f;
        streams[i].watch = nc_watch_new(f.base, &c->conf, prefixes[i], &ops, &streams[i]);
        ok = ok && streams[i].watch && nc_watch_start(streams[i].watch, from) == 0;
    }
    sigint = evsignal_new(f.base, SIGINT, on_stop, &f);
    sigterm = evsignal_new(f.base, SIGTERM, on_stop, &f);
    if (timeout_ms > 0) {
        timer = evtimer_new(f.base, on_stop, &f);
        if (timer)
            evtimer_add(timer, &tv);
    }
    if (!ok || !sigint || !sigterm || (timeout_ms > 0 && !timer)) {
        f.result = -ENOMEM;
    } else {
        /* The timer passes fd -1, the signals their number. */
        evsignal_add(sigint, NULL);
        evsignal_add(sigterm, NULL);
        event_base_dispatch(f.base);
    }
    for (size_t i = 0; i < n_prefixes; i++)
        nc_watch_free(streams[i].watch);
    free(streams);
    if (timer)
        event_free(timer);
    if (sigint)
        event_free(sigint);
    if (sigterm)
        event_free(sigterm);
    event_base_free(f.base);
    return f.result;
}

struct waiter {
    struct cli *c;
    const struct nc_kind *kind;
    const char *ns, *name, *cond;
    char spec_key[512], status_key[512];
    struct cli_obj last; /* for the message on timeout */
};

/* 1 when the condition holds, 0 when not yet, a negative errno on error. */
static int
check(struct waiter *w, int64_t *ret_revision)
{
    int r;

    cli_obj_clear(&w->last);
    r = cli_obj_fetch(w->c, w->kind, w->ns, w->name, &w->last, ret_revision);
    if (r == -ENOENT)
        return strcmp(w->cond, "delete") == 0;
    if (r < 0)
        return r;
    if (strcmp(w->cond, "ready") == 0)
        return cli_obj_ready(&w->last);
    if (strncmp(w->cond, "phase=", 6) == 0)
        return cli_obj_observed(&w->last) && strcmp(cli_obj_phase(&w->last), w->cond + 6) == 0;
    return 0;
}

static int
on_change(void *data, const struct nc_kv *kv, bool deleted)
{
    struct waiter *w = data;

    (void)deleted;
    /* Level-triggered: any change of the object's keys means look again. */
    if (kv && strcmp(kv->key, w->spec_key) != 0 && strcmp(kv->key, w->status_key) != 0)
        return 0;
    return check(w, NULL);
}

static void
print_state(const struct cli_obj *o)
{
    const cJSON *conds = cJSON_GetObjectItemCaseSensitive(o->status, "conditions"), *cond;

    fprintf(stderr, " (phase %s", cli_obj_phase(o));
    if (o->has_spec && !cli_obj_observed(o))
        fputs(", status not yet for this generation", stderr);
    cJSON_ArrayForEach(cond, conds) {
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(cond, "type");
        const cJSON *msg = cJSON_GetObjectItemCaseSensitive(cond, "message");

        if (cJSON_IsString(type) && strcmp(type->valuestring, "Ready") == 0 &&
            cJSON_IsString(msg)) {
            fputs(": ", stderr);
            cli_puts_safe(stderr, msg->valuestring);
        }
    }
    fputs(")", stderr);
}

int
cli_wait_until(struct cli *c, const struct nc_kind *k, const char *ns, const char *name,
               const char *cond)
{
    struct waiter w = {.c = c, .kind = k, .ns = ns, .name = name, .cond = cond};
    const char *keys[] = {w.spec_key, w.status_key};
    char ref[160];
    int64_t rev = 0;
    int r;

    cli_ref(ref, sizeof(ref), k, ns, name);
    cli_key(c, w.spec_key, sizeof(w.spec_key), "spec", ns, k->segment, name);
    cli_key(c, w.status_key, sizeof(w.status_key), "status", ns, k->segment, name);
    /* The revision comes with the first read: nothing after it is missed. */
    r = check(&w, &rev);
    if (r == 0)
        r = cli_follow(c, keys, 2, rev + 1, c->timeout_ms, on_change, &w);
    if (r == 0) /* interrupted */
        r = -EINTR;
    if (r == 1) {
        printf("%s condition met\n", ref);
    } else if (r == -ETIMEDOUT || r == -EINTR) {
        fprintf(stderr, "novactl: %s waiting for %s to be %s", r == -EINTR ? "interrupted"
                                                                        : "timed out",
                ref, strcmp(cond, "delete") == 0 ? "deleted" : cond);
        if (w.last.has_spec || w.last.status)
            print_state(&w.last);
        fputc('\n', stderr);
    } else {
        cli_etcd_error(c, ref);
    }
    cli_obj_clear(&w.last);
    return r == 1 ? 0 : 1;
}

int
cli_wait(struct cli *c)
{
    const struct nc_kind *k;
    char word[128], *name;
    const char *cond = c->wait_for;

    if (!cond || !(strcmp(cond, "ready") == 0 || strcmp(cond, "delete") == 0 ||
                   (strncmp(cond, "phase=", 6) == 0 && cond[6]))) {
        fputs("novactl: wait needs --for=ready, --for=delete or --for=phase=PHASE\n", stderr);
        return 2;
    }
    if (c->argc == 1 && strchr(c->argv[0], '/')) {
        snprintf(word, sizeof(word), "%s", c->argv[0]);
        name = strchr(word, '/');
        *name++ = '\0';
    } else if (c->argc == 2) {
        snprintf(word, sizeof(word), "%s", c->argv[0]);
        name = c->argv[1];
    } else {
        fputs("novactl: wait needs KIND/NAME or KIND NAME\n", stderr);
        return 2;
    }
    if (!(k = cli_kind(word)))
        return 2;
    if (!nc_is_dns_label(name)) {
        fputs("novactl: not a name: \"", stderr);
        cli_puts_safe(stderr, name);
        fputs("\"\n", stderr);
        return 2;
    }
    return cli_wait_until(c, k, cli_ns(c), name, cond);
}
