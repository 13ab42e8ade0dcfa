/*
 * The etcd client and watch against a real etcd: run by
 * tests/integration/test_etcd_client.sh, which starts etcd and passes its
 * URL in NC_TEST_ETCD.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/commit.h"
#include "core/commitpriv.h"
#include "core/etcd.h"
#include "core/watch.h"
#include "reconcilers/alloc.h"

static const char *endpoints[2];
static struct nc_etcd_conf conf;
static struct nc_etcd *c;
static char prefix[64];

static void
setup(void)
{
    const char *url = getenv("NC_TEST_ETCD");

    cr_assert_not_null(url, "NC_TEST_ETCD is not set: run through the integration suite");
    endpoints[0] = url;
    conf = (struct nc_etcd_conf){.endpoints = endpoints, .n_endpoints = 1};
    c = nc_etcd_new(&conf);
    /* Each test works under a prefix of its own; the tests share one etcd. */
    snprintf(prefix, sizeof(prefix), "/t/%d-%" PRId64 "/", getpid(), (int64_t)rand());
}

static void
teardown(void)
{
    c = nc_etcd_free(c);
}

TestSuite(etcd, .init = setup, .fini = teardown);

static char *
key(const char *name)
{
    static char buf[4][128];
    static int i;

    i = (i + 1) % 4;
    snprintf(buf[i], sizeof(buf[i]), "%s%s", prefix, name);
    return buf[i];
}

Test(etcd, put_get_delete)
{
    struct nc_kv kv;
    int64_t rev, deleted;

    cr_assert_eq(nc_etcd_get(c, key("a"), &kv, NULL), -ENOENT);
    cr_assert_eq(nc_etcd_put(c, key("a"), "{\"x\":\"\\u00e9 <&>\"}", 0, &rev), 0);
    cr_assert_gt(rev, 0);
    cr_assert_eq(nc_etcd_get(c, key("a"), &kv, NULL), 0);
    cr_assert_str_eq(kv.value, "{\"x\":\"\\u00e9 <&>\"}");
    cr_assert_eq(kv.mod_revision, rev);
    cr_assert_eq(kv.create_revision, rev);
    cr_assert_eq(kv.version, 1);
    nc_kv_clear(&kv);
    cr_assert_eq(nc_etcd_delete(c, key("a"), false, &deleted), 0);
    cr_assert_eq(deleted, 1);
    cr_assert_eq(nc_etcd_get(c, key("a"), &kv, NULL), -ENOENT);
    cr_assert_neq(nc_etcd_cluster_id(c), 0);
}

static int
collect(const struct nc_kv *kv, void *data)
{
    int *n = data;
    char want[32];

    snprintf(want, sizeof(want), "v%04d", *n);
    cr_assert_str_eq(kv->value, want, "key %d out of order or missing", *n);
    (*n)++;
    return 0;
}

Test(etcd, list_paginates_at_one_revision)
{
    struct nc_op ops[100];
    char keys[100][sizeof(prefix) + 8], vals[100][16];
    int64_t rev, deleted;
    int n = 0;

    /* 1,050 keys in txns of 100, then a paginated list by 100. */
    for (int base = 0; base < 1050; base += 100) {
        int m = base + 100 > 1050 ? 1050 - base : 100;
        bool ok;

        for (int i = 0; i < m; i++) {
            snprintf(keys[i], sizeof(keys[i]), "%sk/%04d", prefix, base + i);
            snprintf(vals[i], sizeof(vals[i]), "v%04d", base + i);
            ops[i] = (struct nc_op){.key = keys[i], .value = vals[i]};
        }
        cr_assert_eq(nc_etcd_txn(c, NULL, 0, ops, (size_t)m, NULL, 0, &ok, NULL), 0,
                     "%s", nc_etcd_errmsg(c));
    }
    cr_assert_eq(nc_etcd_list(c, key("k/"), 100, collect, &n, &rev), 0, "%s", nc_etcd_errmsg(c));
    cr_assert_eq(n, 1050);
    cr_assert_gt(rev, 0);
    cr_assert_eq(nc_etcd_delete(c, key("k/"), true, &deleted), 0);
    cr_assert_eq(deleted, 1050);
}

Test(etcd, range_at_an_old_revision)
{
    struct nc_range rg;
    int64_t r1, r2;

    cr_assert_eq(nc_etcd_put(c, key("h"), "one", 0, &r1), 0);
    cr_assert_eq(nc_etcd_put(c, key("h"), "two", 0, &r2), 0);
    cr_assert_eq(nc_etcd_range(c, key("h"), NULL, r1, 0, &rg), 0);
    cr_assert_eq(rg.n, 1);
    cr_assert_str_eq(rg.kvs[0].value, "one");
    nc_range_clear(&rg);
}

Test(etcd, txn_compares)
{
    struct nc_op put = {.key = key("t"), .value = "new"};
    struct nc_cmp absent = {.key = key("t"), .target = NC_CMP_CREATE, .result = NC_CMP_EQUAL};
    struct nc_cmp by_value = {.key = key("t"), .target = NC_CMP_VALUE, .value = "new"};
    struct nc_cmp by_mod = {.key = key("t"), .target = NC_CMP_MOD};
    struct nc_op del = {.del = true, .key = key("t")};
    struct nc_kv kv;
    bool ok;
    int64_t rev;

    cr_assert_eq(nc_etcd_txn(c, &absent, 1, &put, 1, NULL, 0, &ok, &rev), 0);
    cr_assert(ok, "create-only on an absent key succeeds");
    cr_assert_eq(nc_etcd_txn(c, &absent, 1, &put, 1, NULL, 0, &ok, NULL), 0);
    cr_assert_not(ok, "create-only on an existing key fails");
    cr_assert_eq(nc_etcd_txn(c, &by_value, 1, NULL, 0, NULL, 0, &ok, NULL), 0);
    cr_assert(ok, "value compare");
    by_mod.number = rev;
    cr_assert_eq(nc_etcd_txn(c, &by_mod, 1, &del, 1, NULL, 0, &ok, NULL), 0);
    cr_assert(ok, "mod_revision compare with the current revision");
    cr_assert_eq(nc_etcd_get(c, key("t"), &kv, NULL), -ENOENT);
    by_mod.number = rev - 1;
    cr_assert_eq(nc_etcd_txn(c, &by_mod, 1, &put, 1, &del, 1, &ok, NULL), 0);
    cr_assert_not(ok, "stale mod_revision: failure branch");
}

/*
 * Group commit: thread 0's request is held in flight (by the fault hook,
 * before it is sent) until the others wait behind it, so what goes in
 * which request is known, not left to the scheduler of threads.
 */
struct committer {
    pthread_t thread;
    struct nc_commit *g;
    struct nc_etcd *c;
    char key[128], value[16];
    struct nc_cmp cmp;
    struct nc_op ops[130];
    size_t n_ops;
    bool ok;
    int64_t rev;
    int r;
    char err[512];
};

static struct nc_commit *hold_group;
static size_t hold_until;
static atomic_bool held;

static int
hold_first(void *data, const char *path, bool answered)
{
    (void)data;
    (void)path;
    if (!answered && !atomic_exchange(&held, true))
        while (nc_commit_pending(hold_group) < hold_until)
            usleep(1000);
    return 0;
}

static void *
commit_thread(void *data)
{
    struct committer *m = data;

    m->r = nc_commit_txn(m->g, m->c, &m->cmp, 1, m->ops, m->n_ops, NULL, 0, &m->ok, &m->rev);
    snprintf(m->err, sizeof(m->err), "%s", m->r < 0 ? nc_etcd_errmsg(m->c) : "");
    return NULL;
}

/* A create-only put of @name into @m. */
static void
committer_init(struct committer *m, const char *name)
{
    snprintf(m->key, sizeof(m->key), "%s", key(name));
    snprintf(m->value, sizeof(m->value), "%s", name);
    m->cmp = (struct nc_cmp){.key = m->key, .target = NC_CMP_CREATE, .result = NC_CMP_EQUAL};
    m->ops[0] = (struct nc_op){.key = m->key, .value = m->value};
    m->n_ops = 1;
}

/* Runs @n committers through one group, 0 first and held until the
 * others wait; @ret_requests gets the requests it took. */
static void
run_group(struct committer *m, size_t n, uint64_t *ret_requests)
{
    static struct nc_etcd_conf hold;
    struct nc_commit *g = nc_commit_new(64);

    hold = conf;
    hold.inject_fault = hold_first;
    hold_group = g;
    hold_until = n - 1;
    atomic_store(&held, false);
    for (size_t i = 0; i < n; i++) {
        m[i].g = g;
        m[i].c = nc_etcd_new(&hold);
        cr_assert_eq(pthread_create(&m[i].thread, NULL, commit_thread, &m[i]), 0);
        while (i == 0 && !atomic_load(&held))
            usleep(1000);
    }
    for (size_t i = 0; i < n; i++) {
        pthread_join(m[i].thread, NULL);
        nc_etcd_free(m[i].c);
    }
    *ret_requests = nc_commit_requests(g);
    nc_commit_free(g);
}

Test(etcd, group_commit_sends_what_waits_as_one_request)
{
    static struct committer m[5];
    uint64_t requests;
    struct nc_kv kv;

    for (int i = 0; i < 5; i++) {
        char name[16];

        snprintf(name, sizeof(name), "g%d", i);
        committer_init(&m[i], name);
    }
    cr_assert_eq(nc_etcd_put(c, m[3].key, "there", 0, NULL), 0);
    run_group(m, 5, &requests);
    cr_assert_eq(requests, 2, "thread 0 alone, then the four that waited: %" PRIu64, requests);
    for (int i = 0; i < 5; i++) {
        cr_assert_eq(m[i].r, 0, "%d: %s", i, m[i].err);
        cr_assert_eq(m[i].ok, i != 3, "%d: each decided by its own compare", i);
        if (i > 1)
            cr_assert_eq(m[i].rev, m[1].rev, "one request, one revision");
    }
    cr_assert_gt(m[1].rev, m[0].rev);
    cr_assert_eq(nc_etcd_get(c, m[2].key, &kv, NULL), 0);
    cr_assert_eq(kv.mod_revision, m[1].rev);
    nc_kv_clear(&kv);
    cr_assert_eq(nc_etcd_get(c, m[3].key, &kv, NULL), 0);
    cr_assert_str_eq(kv.value, "there", "a failed compare writes nothing");
    nc_kv_clear(&kv);
}

Test(etcd, group_commit_keeps_two_writes_of_a_key_apart)
{
    static struct committer m[4];
    uint64_t requests;

    committer_init(&m[0], "k0");
    committer_init(&m[1], "same");
    committer_init(&m[2], "same");
    committer_init(&m[3], "k3");
    run_group(m, 4, &requests);
    cr_assert_eq(requests, 3, "the second writer of a key waits for the next request: %" PRIu64,
                 requests);
    for (int i = 0; i < 4; i++)
        cr_assert_eq(m[i].r, 0, "%d: %s", i, m[i].err);
    cr_assert(m[1].ok != m[2].ok, "one create of the key wins, the other sees it");
    cr_assert(m[0].ok && m[3].ok);
}

Test(etcd, group_commit_gives_a_refused_txn_its_own_error)
{
    static struct committer m[3];
    uint64_t requests;

    committer_init(&m[0], "r0");
    committer_init(&m[1], "r1");
    committer_init(&m[2], "r2");
    /* Over etcd's --max-txn-ops (128): refused, and the group with it. */
    for (size_t i = 1; i < 130; i++) {
        static char keys[130][160];

        snprintf(keys[i], sizeof(keys[i]), "%s-%zu", m[1].key, i);
        m[1].ops[i] = (struct nc_op){.key = keys[i], .value = "v"};
    }
    m[1].n_ops = 130;
    run_group(m, 3, &requests);
    cr_assert_eq(requests, 4, "alone, the refused group, then each alone: %" PRIu64, requests);
    cr_assert_eq(m[1].r, -EINVAL);
    cr_assert(strstr(m[1].err, "too many operations"), "%s", m[1].err);
    cr_assert_eq(m[2].r, 0, "%s", m[2].err);
    cr_assert(m[0].ok && m[2].ok);
}

Test(etcd, first_come_claims)
{
    struct nc_kv kv;
    int64_t rev = 0;
    bool deleted;

    cr_assert_eq(nc_etcd_create(c, key("claim"), "a", 0, &kv, &rev), 1);
    cr_assert_gt(rev, 0);
    cr_assert_eq(nc_etcd_create(c, key("claim"), "b", 0, &kv, NULL), 0, "the second comer loses");
    cr_assert_str_eq(kv.value, "a");
    nc_kv_clear(&kv);
    cr_assert_eq(nc_etcd_delete_if(c, key("claim"), "b", &deleted, NULL), 0);
    cr_assert_not(deleted, "only the holder gives a claim back");
    cr_assert_eq(nc_etcd_get(c, key("claim"), &kv, NULL), 0);
    nc_kv_clear(&kv);
    cr_assert_eq(nc_etcd_delete_if(c, key("claim"), "a", &deleted, NULL), 0);
    cr_assert(deleted);
    cr_assert_eq(nc_etcd_get(c, key("claim"), &kv, NULL), -ENOENT);
}

Test(etcd, address_allocation)
{
    char *p = key("ip/"), ip[16], k[160];
    struct nc_kv kv;

    cr_assert_eq(nc_alloc_ip(c, p, 0x0a000000, 30, "x", ip), 0);
    cr_assert_str_eq(ip, "10.0.0.1", "the lowest host address");
    cr_assert_eq(nc_alloc_ip(c, p, 0x0a000000, 30, "x", ip), 0);
    cr_assert_str_eq(ip, "10.0.0.1", "a holder keeps its address");
    cr_assert_eq(nc_alloc_ip(c, p, 0x0a000000, 30, "y", ip), 0);
    cr_assert_str_eq(ip, "10.0.0.2");
    cr_assert_eq(nc_alloc_ip(c, p, 0x0a000000, 30, "z", ip), -ENOSPC, "a /30 has two");
    snprintf(k, sizeof(k), "%s10.0.0.1", p);
    cr_assert_eq(nc_alloc_release(c, k, "z"), 0);
    cr_assert_eq(nc_etcd_get(c, k, &kv, NULL), 0, "only its holder gives it back");
    nc_kv_clear(&kv);
    cr_assert_eq(nc_alloc_release(c, k, "x"), 0);
    cr_assert_eq(nc_alloc_ip(c, p, 0x0a000000, 30, "z", ip), 0);
    cr_assert_str_eq(ip, "10.0.0.1", "a released address is taken again");
    cr_assert_eq(nc_alloc_release_all(c, p, "y"), 0);
    snprintf(k, sizeof(k), "%s10.0.0.2", p);
    cr_assert_eq(nc_etcd_get(c, k, &kv, NULL), -ENOENT);
}

Test(etcd, leases)
{
    struct nc_kv kv;
    int64_t id, ttl;

    cr_assert_eq(nc_etcd_lease_grant(c, 60, &id), 0);
    cr_assert_eq(nc_etcd_put(c, key("l"), "leased", id, NULL), 0);
    cr_assert_eq(nc_etcd_lease_keepalive(c, id, &ttl), 0);
    cr_assert(ttl > 50 && ttl <= 60, "ttl %" PRId64, ttl);
    cr_assert_eq(nc_etcd_get(c, key("l"), &kv, NULL), 0);
    cr_assert_eq(kv.lease, id);
    nc_kv_clear(&kv);
    cr_assert_eq(nc_etcd_lease_revoke(c, id), 0);
    cr_assert_eq(nc_etcd_get(c, key("l"), &kv, NULL), -ENOENT, "revoking drops leased keys");
}

Test(etcd, fails_over_to_the_next_endpoint)
{
    static const char *eps[2];
    struct nc_etcd_conf two;
    struct nc_etcd *c2;
    struct nc_kv kv;

    eps[0] = "http://127.0.0.1:1"; /* nothing listens there */
    eps[1] = endpoints[0];
    two = (struct nc_etcd_conf){.endpoints = eps, .n_endpoints = 2};
    c2 = nc_etcd_new(&two);
    cr_assert_eq(nc_etcd_put(c2, key("f"), "x", 0, NULL), 0, "%s", nc_etcd_errmsg(c2));
    cr_assert_eq(nc_etcd_get(c2, key("f"), &kv, NULL), 0);
    nc_kv_clear(&kv);
    nc_etcd_free(c2);
}

Test(etcd, errors_say_what_failed)
{
    static const char *dead[1] = {"http://127.0.0.1:1"};
    struct nc_etcd_conf none = {.endpoints = dead, .n_endpoints = 1};
    struct nc_etcd *c2 = nc_etcd_new(&none);
    static char big[1800 * 1024];

    cr_assert_eq(nc_etcd_put(c2, "/k", "v", 0, NULL), -EIO);
    cr_assert(strstr(nc_etcd_errmsg(c2), "127.0.0.1:1/v3/kv/put"), "%s", nc_etcd_errmsg(c2));
    nc_etcd_free(c2);

    /* A request over etcd's 1.5 MiB limit is refused with a reason. */
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    cr_assert_eq(nc_etcd_put(c, key("big"), big, 0, NULL), -EINVAL);
    cr_assert(strstr(nc_etcd_errmsg(c), "HTTP 400"), "%s", nc_etcd_errmsg(c));
    cr_assert(strstr(nc_etcd_errmsg(c), "too large"), "%s", nc_etcd_errmsg(c));
}

/* The watch, driven by a libevent loop of the test's own. */
struct seen {
    struct event_base *base;
    char keys[64][64];
    bool deleted[64];
    int n, want;
    int64_t compacted;
};

static void
on_event(void *data, const struct nc_kv *kv, bool deleted)
{
    struct seen *s = data;

    cr_assert_lt(s->n, 64);
    snprintf(s->keys[s->n], sizeof(s->keys[0]), "%s", kv->key + strlen(prefix));
    s->deleted[s->n++] = deleted;
    if (s->n == s->want)
        event_base_loopbreak(s->base);
}

static void
on_compacted(void *data, int64_t rev)
{
    struct seen *s = data;

    s->compacted = rev;
    event_base_loopbreak(s->base);
}

static const struct nc_watch_ops ops = {.event = on_event, .compacted = on_compacted};

static void
run_loop(struct seen *s, int seconds)
{
    struct timeval tv = {.tv_sec = seconds};

    event_base_loopexit(s->base, &tv);
    event_base_dispatch(s->base);
}

Test(etcd, watch_delivers_puts_and_deletes_in_order)
{
    struct seen s = {.base = event_base_new(), .want = 3};
    struct nc_watch *w = nc_watch_new(s.base, &conf, prefix, &ops, &s);
    int64_t rev;

    cr_assert_eq(nc_etcd_put(c, key("before"), "1", 0, &rev), 0);
    /* Starting at an older revision replays what happened since. */
    cr_assert_eq(nc_watch_start(w, rev), 0);
    cr_assert_eq(nc_etcd_put(c, key("after"), "2", 0, NULL), 0);
    cr_assert_eq(nc_etcd_delete(c, key("before"), false, NULL), 0);
    run_loop(&s, 10);
    cr_assert_eq(s.n, 3);
    cr_assert_str_eq(s.keys[0], "before");
    cr_assert_not(s.deleted[0]);
    cr_assert_str_eq(s.keys[1], "after");
    cr_assert_str_eq(s.keys[2], "before");
    cr_assert(s.deleted[2]);
    cr_assert(nc_watch_established(w));
    nc_watch_free(w);
    event_base_free(s.base);
}

Test(etcd, watch_reports_compaction)
{
    struct seen s = {.base = event_base_new(), .want = 100};
    struct nc_watch *w = nc_watch_new(s.base, &conf, prefix, &ops, &s);
    int64_t r1, r2;

    cr_assert_eq(nc_etcd_put(c, key("c"), "1", 0, &r1), 0);
    cr_assert_eq(nc_etcd_put(c, key("c"), "2", 0, &r2), 0);
    cr_assert_eq(nc_etcd_compact(c, r2), 0, "%s", nc_etcd_errmsg(c));
    cr_assert_eq(nc_watch_start(w, r1), 0);
    run_loop(&s, 10);
    cr_assert_eq(s.compacted, r2, "compacted at %" PRId64 ", want %" PRId64, s.compacted, r2);
    cr_assert_eq(s.n, 0, "no event from before the compaction");
    nc_watch_free(w);
    event_base_free(s.base);
}
