/*
 * The reconcilers driven through the fake drivers (drivers/fake/) against
 * a real etcd, where they write status and events: create, update, drift,
 * delete, and a failure injected at each driver call, with the status and
 * events each leaves. The informer caches are filled by the
 * test (nc_informer_store()), never started: the reconciler reads exactly
 * what the test put. Run by tests/integration/test_reconcilers.sh, which
 * passes etcd's URL in NC_TEST_ETCD.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <event2/event.h>

#include "core/commit.h"
#include "core/etcd.h"
#include "core/informer.h"
#include "core/metrics.h"
#include "core/names.h"
#include "drivers/fake/dhcp.h"
#include "drivers/fake/firewall.h"
#include "drivers/fake/hv.h"
#include "drivers/fake/overlay.h"
#include "drivers/fake/storage.h"
#include "reconcilers/migration.h"
#include "reconcilers/moves.h"
#include "reconcilers/network.h"
#include "reconcilers/networkpolicy.h"
#include "reconcilers/reconciler.h"
#include "reconcilers/restore.h"
#include "reconcilers/run.h"
#include "reconcilers/snapshot.h"
#include "reconcilers/status.h"
#include "reconcilers/vm.h"
#include "reconcilers/volume.h"

static const char *endpoints[2];
static struct nc_etcd_conf conf, test_conf;
/* The test's own reads and writes: faults are the reconcilers' alone. */
static struct nc_etcd *test_etcd;
static struct event_base *base;
static struct nc_env env;
static struct nc_ctx ctx;
static char prefix[64];
static char exec_dir[64], prog[80];

/* A node's own parts in @e (node and dnsmasq_dir set): its fake drivers,
 * index of moves, event recorder and the VM reconciler's memory. */
static void
node_open(struct nc_env *e)
{
    e->moves = nc_moves_new();
    nc_event_recorder_init(&e->events);
    cr_assert_eq(fake_hv_open(&e->hv), 0);
    cr_assert_eq(fake_hv_open(&e->container_hv), 0);
    cr_assert_eq(fake_hv_open(&e->process_hv), 0);
    cr_assert_eq(fake_st_open(&e->st), 0);
    fake_st_add_pool(e->st, "default");
    cr_assert_eq(fake_dhcp_open(&e->dhcp), 0);
    cr_assert_eq(fake_fw_open(&e->fw), 0);
    fake_fw_add_device(e->fw, "eth0");
    cr_assert_eq(nc_vm_reconciler.init(e), 0);
}

static void
node_close(struct nc_env *e)
{
    nc_vm_reconciler.fini(e);
    fake_dhcp_close(e->dhcp);
    nc_fw_close(e->fw);
    nc_st_close(e->st);
    nc_hv_close(e->hv);
    nc_hv_close(e->container_hv);
    nc_hv_close(e->process_hv);
    nc_event_recorder_clear(&e->events);
    nc_moves_free(e->moves);
}

static void
setup(void)
{
    const char *url = getenv("NC_TEST_ETCD");

    cr_assert_not_null(url, "NC_TEST_ETCD is not set: run through the integration suite");
    endpoints[0] = url;
    conf = (struct nc_etcd_conf){.endpoints = endpoints, .n_endpoints = 1};
    snprintf(prefix, sizeof(prefix), "/t/%d-%" PRId64 "/", getpid(), (int64_t)rand());
    base = event_base_new();
    memset(&env, 0, sizeof(env));
    env.prefix = prefix;
    env.node = "node-a";
    snprintf(env.cluster, sizeof(env.cluster), "42");
    nc_install_hash(env.cluster, prefix, env.install_hash);
    env.console_dir = "/nonexistent";
    env.image_dir = env.boot_dir = "/nonexistent";
    env.specs = nc_informer_new(base, &conf, "spec/", NULL, NULL);
    env.statuses = nc_informer_new(base, &conf, "status/", NULL, NULL);
    env.placements = nc_informer_new(base, &conf, "placement/", NULL, NULL);
    env.nodes = nc_informer_new(base, &conf, "nodes/", NULL, NULL);
    env.metrics = nc_metrics_new();
    env.commit = nc_commit_new(64); /* as the daemon's, though one thread writes */
    snprintf(env.dnsmasq_dir, sizeof(env.dnsmasq_dir), "/tmp/nc-itest-%d", getpid());
    /* The process runtime's folders: its one program, and its processes'. */
    snprintf(exec_dir, sizeof(exec_dir), "/tmp/nc-itest-%d-exec", getpid());
    snprintf(prog, sizeof(prog), "%s/prog", exec_dir);
    cr_assert_eq(mkdir(exec_dir, 0755), 0);
    cr_assert_eq(close(open(prog, O_WRONLY | O_CREAT | O_EXCL, 0755)), 0);
    env.exec_dir = exec_dir;
    snprintf(env.process_dir, sizeof(env.process_dir), "/tmp/nc-itest-%d-proc", getpid());
    node_open(&env);
    cr_assert_eq(nc_networkpolicy_reconciler.init(&env), 0);
    ctx = (struct nc_ctx){.env = &env, .etcd = nc_etcd_new(&conf)};
    test_conf = conf;
    test_etcd = nc_etcd_new(&test_conf);
    cr_assert_eq(fake_ov_open(NULL, &ctx.ov), 0);
}

static void
teardown(void)
{
    unlink(prog);
    rmdir(exec_dir);
    /* Every process' folder went with its process. */
    cr_expect(rmdir(env.process_dir) == 0 || errno == ENOENT, "%s: %s", env.process_dir,
              strerror(errno));
    nc_networkpolicy_reconciler.fini(&env);
    node_close(&env);
    nc_metrics_free(env.metrics);
    nc_commit_free(env.commit);
    nc_informer_free(env.specs);
    nc_informer_free(env.statuses);
    nc_informer_free(env.placements);
    nc_informer_free(env.nodes);
    nc_overlay_close(ctx.ov);
    nc_etcd_free(ctx.etcd);
    nc_etcd_free(test_etcd);
    event_base_free(base);
}

TestSuite(reconcilers, .init = setup, .fini = teardown);

/* Puts the spec of object @kind/@name in etcd and in the specs cache, as
 * the watch would; returns its generation. */
static int64_t
put_kind(const char *kind, const char *name, const char *spec)
{
    char key[256], doc[2048];
    int64_t rev;

    snprintf(key, sizeof(key), "%sspec/default/%s/%s", prefix, kind, name);
    snprintf(doc, sizeof(doc),
             "{\"apiVersion\":\"novacron.io/v1\",\"kind\":\"%s\","
             "\"metadata\":{\"name\":\"%s\"},\"spec\":%s}",
             strcmp(kind, "vm") == 0              ? "VirtualMachine"
             : strcmp(kind, "volume") == 0        ? "Volume"
             : strcmp(kind, "networkpolicy") == 0 ? "NetworkPolicy"
             : strcmp(kind, "snapshot") == 0      ? "Snapshot"
             : strcmp(kind, "restore") == 0       ? "Restore"
             : strcmp(kind, "migration") == 0     ? "Migration"
                                                  : "Network",
             name, spec);
    cr_assert_eq(nc_etcd_put(test_etcd, key, doc, 0, &rev), 0);
    nc_informer_store(env.specs, key, doc, rev);
    return rev;
}

static int64_t
put_spec(const char *name, const char *spec)
{
    return put_kind("vm", name, spec);
}

static void
delete_kind(const char *kind, const char *name)
{
    char key[256];
    int64_t deleted = 0;

    snprintf(key, sizeof(key), "%sspec/default/%s/%s", prefix, kind, name);
    cr_assert_eq(nc_etcd_delete(test_etcd, key, false, &deleted), 0);
    nc_informer_store(env.specs, key, NULL, nc_informer_revision(env.specs) + 1000000);
}

static void
delete_spec(const char *name)
{
    delete_kind("vm", name);
}

/* Runs one reconcile of VM @name; returns its result. */
static int
reconcile(const char *name)
{
    int64_t requeue = 0;

    return nc_vm_reconciler.reconcile(&ctx, "default", name, &requeue);
}

/* The status of object @kind/@name as etcd has it (caller frees), NULL
 * when none. It goes into the statuses cache too, as the watch would
 * bring it, for the reconcilers that read another kind's status. */
static cJSON *
status_of(const char *kind, const char *name)
{
    char key[256];
    struct nc_kv kv;
    cJSON *st;

    snprintf(key, sizeof(key), "%sstatus/default/%s/%s", prefix, kind, name);
    if (nc_etcd_get(test_etcd, key, &kv, NULL) < 0)
        return NULL;
    nc_informer_store(env.statuses, key, kv.value, kv.mod_revision);
    st = cJSON_Parse(kv.value);
    nc_kv_clear(&kv);
    return st;
}

static cJSON *
status(const char *name)
{
    return status_of("vm", name);
}

static const char *
str(const cJSON *st, const char *a, const char *b)
{
    const cJSON *v = cJSON_GetObjectItem(st, a);

    return cJSON_GetStringValue(b ? cJSON_GetObjectItem(v, b) : v);
}

static const char *
ready_reason(const cJSON *st)
{
    return str(nc_status_find_condition(st, "Ready"), "reason", NULL);
}

static bool
has_event_of(const char *kind, const char *name, const char *reason)
{
    char key[256], *end;
    struct nc_range range = {0};
    bool found = false;

    snprintf(key, sizeof(key), "%sevents/default/%s/%s/", prefix, kind, name);
    end = nc_etcd_prefix_end(key);
    cr_assert_eq(nc_etcd_range(test_etcd, key, end, 0, 0, &range), 0);
    free(end);
    for (size_t i = 0; i < range.n && !found; i++)
        found = strstr(range.kvs[i].value, reason) != NULL;
    nc_range_clear(&range);
    return found;
}

static bool
has_event(const char *name, const char *reason)
{
    return has_event_of("vm", name, reason);
}

static void
domain_name(const char *vm, char out[NC_DOMAIN_NAME_MAX])
{
    nc_domain_name(env.install_hash, "default", vm, out);
}

static enum nc_dom_state
state_of(const char *vm)
{
    char dom[NC_DOMAIN_NAME_MAX];
    struct nc_dominfo info;

    domain_name(vm, dom);
    cr_assert_eq(nc_hv_lookup(env.hv, dom, &info), 0, "no domain %s", dom);
    return info.state;
}

#define SPEC "{\"vcpus\":1,\"memory\":\"64MiB\",\"node\":\"node-a\"}"

Test(reconcilers, create_then_converged)
{
    int64_t gen = put_spec("a", SPEC);
    cJSON *st;

    cr_assert_eq(reconcile("a"), 0);
    st = status("a");
    cr_assert_not_null(st);
    cr_assert_str_eq(str(st, "phase", NULL), "Running");
    cr_assert_str_eq(ready_reason(st), "DomainRunning");
    cr_assert_eq(cJSON_GetObjectItem(st, "observedGeneration")->valuedouble, (double)gen);
    cr_assert_str_eq(str(st, "node", NULL), "node-a");
    cr_assert_eq(state_of("a"), NC_DOM_RUNNING);
    cr_assert(has_event("a", "Created") && has_event("a", "Started"));
    cJSON_Delete(st);
    /* Converged: another reconcile changes nothing. */
    cr_assert_eq(reconcile("a"), 0);
    cr_assert_eq(fake_hv_calls(env.hv, "define"), 1);
    cr_assert_eq(fake_hv_calls(env.hv, "start"), 1);
}

/* A reconcile that writes its status more than once (a migration's
 * progress) keeps every event it recorded, in order. */
Test(reconcilers, events_of_successive_writes_all_kept)
{
    struct nc_run run;
    cJSON *st = cJSON_CreateObject();
    char key[256], *end;
    struct nc_range range = {0};

    put_spec("ev", SPEC);
    cr_assert_eq(nc_run_begin(&run, &ctx, "default", "vm", "ev"), 0);
    cr_assert_eq(nc_run_spec(&run, &end), 0);
    free(end);
    cJSON_AddStringToObject(st, "phase", "One");
    nc_run_event(&run, "Normal", "First", "first write");
    cr_assert_eq(nc_run_report(&run, st), 0);
    cJSON_ReplaceItemInObject(st, "phase", cJSON_CreateString("Two"));
    nc_run_event(&run, "Normal", "Second", "second write");
    cr_assert_eq(nc_run_report(&run, st), 0);
    nc_run_end(&run);
    cJSON_Delete(st);

    snprintf(key, sizeof(key), "%sevents/default/vm/ev/", prefix);
    end = nc_etcd_prefix_end(key);
    cr_assert_eq(nc_etcd_range(test_etcd, key, end, 0, 0, &range), 0);
    free(end);
    cr_assert_eq(range.n, 2);
    cr_assert_not_null(strstr(range.kvs[0].value, "\"First\""), "%s", range.kvs[0].value);
    cr_assert_not_null(strstr(range.kvs[1].value, "\"Second\""), "%s", range.kvs[1].value);
    nc_range_clear(&range);
}

Test(reconcilers, drift_is_corrected)
{
    char dom[NC_DOMAIN_NAME_MAX];

    put_spec("a", SPEC);
    cr_assert_eq(reconcile("a"), 0);
    domain_name("a", dom);
    cr_assert_eq(fake_hv_set_state(env.hv, dom, NC_DOM_PAUSED), 0);
    cr_assert_eq(reconcile("a"), 0);
    cr_assert_eq(state_of("a"), NC_DOM_RUNNING);
    cr_assert(has_event("a", "DriftCorrected"));
    cr_assert_eq(fake_hv_set_state(env.hv, dom, NC_DOM_SHUTOFF), 0);
    cr_assert_eq(reconcile("a"), 0);
    cr_assert_eq(state_of("a"), NC_DOM_RUNNING);
}

Test(reconcilers, run_state_and_delete)
{
    cJSON *st;

    put_spec("a", SPEC);
    cr_assert_eq(reconcile("a"), 0);
    put_spec("a", "{\"vcpus\":1,\"memory\":\"64MiB\",\"node\":\"node-a\",\"runState\":\"Paused\"}");
    cr_assert_eq(reconcile("a"), 0);
    cr_assert_eq(state_of("a"), NC_DOM_PAUSED);
    st = status("a");
    cr_assert_str_eq(str(st, "phase", NULL), "Paused");
    cJSON_Delete(st);
    delete_spec("a");
    cr_assert_eq(reconcile("a"), 0);
    cr_assert_eq(fake_hv_count(env.hv), 0, "the domain was not removed");
    cr_assert_null(status("a"), "the status outlived the domain");
}

Test(reconcilers, invalid_spec_fails_without_a_domain)
{
    cJSON *st;

    put_spec("bad", "{\"vcpus\":0,\"memory\":\"64MiB\"}");
    cr_assert_eq(reconcile("bad"), 0, "invalid input is not retried");
    st = status("bad");
    cr_assert_str_eq(str(st, "phase", NULL), "Failed");
    cr_assert_str_eq(ready_reason(st), "InvalidSpec");
    cr_assert(strstr(str(nc_status_find_condition(st, "Ready"), "message", NULL), "spec.vcpus"));
    cr_assert_eq(fake_hv_calls(env.hv, "define"), 0);
    cJSON_Delete(st);
}

Test(reconcilers, a_failing_teardown_keeps_the_status)
{
    cJSON *st;

    put_spec("a", SPEC);
    cr_assert_eq(reconcile("a"), 0);
    delete_spec("a");
    fake_hv_fail(env.hv, "undefine", -EIO, 1);
    cr_assert_lt(reconcile("a"), 0);
    st = status("a");
    cr_assert_not_null(st, "the status went before the domain");
    cJSON_Delete(st);
    cr_assert_eq(reconcile("a"), 0);
    cr_assert_null(status("a"));
    cr_assert_eq(fake_hv_count(env.hv), 0);
}

static int
reconcile_volume(const char *name)
{
    int64_t requeue = 0;

    return nc_volume_reconciler.reconcile(&ctx, "default", name, &requeue);
}

Test(reconcilers, volumes_blank_missing_pool_shrink_and_delete)
{
    cJSON *st;

    put_kind("volume", "v1", "{\"size\":\"64MiB\"}");
    put_kind("volume", "nopool", "{\"size\":\"64MiB\",\"pool\":\"elsewhere\"}");
    cr_assert_eq(reconcile_volume("v1"), 0);
    cr_assert_eq(reconcile_volume("nopool"), 0, "a missing pool is not retried with backoff");
    st = status_of("volume", "v1");
    cr_assert_str_eq(str(st, "phase", NULL), "Ready");
    cr_assert_eq(cJSON_GetObjectItem(st, "capacity")->valuedouble, 64.0 * 1024 * 1024);
    cr_assert(strstr(str(st, "path", NULL), "/fake/default/"));
    cJSON_Delete(st);
    st = status_of("volume", "nopool");
    cr_assert_str_eq(str(st, "phase", NULL), "Failed");
    cr_assert_str_eq(ready_reason(st), "PoolMissing");
    cJSON_Delete(st);
    /* Shrinking is refused; the volume keeps its size. */
    put_kind("volume", "v1", "{\"size\":\"32MiB\"}");
    cr_assert_eq(reconcile_volume("v1"), 0);
    st = status_of("volume", "v1");
    cr_assert_str_eq(ready_reason(st), "ShrinkRefused");
    cJSON_Delete(st);
    cr_assert_eq(fake_st_count(env.st), 1);
    delete_kind("volume", "v1");
    cr_assert_eq(reconcile_volume("v1"), 0);
    cr_assert_eq(fake_st_count(env.st), 0);
    cr_assert_null(status_of("volume", "v1"));
}

/* A VM's disk is the file storage has for the Volume, whatever the
 * Volume's status says. */
Test(reconcilers, a_disk_is_what_storage_has_not_what_status_says)
{
    char key[256];
    cJSON *st, *forged;
    char *text;
    int64_t rev;

    put_kind("volume", "root", "{\"size\":\"64MiB\"}");
    cr_assert_eq(reconcile_volume("root"), 0);
    st = status_of("volume", "root");
    forged = cJSON_Duplicate(st, true);
    cJSON_ReplaceItemInObject(forged, "path", cJSON_CreateString("/etc/shadow"));
    text = cJSON_PrintUnformatted(forged);
    snprintf(key, sizeof(key), "%sstatus/default/volume/root", prefix);
    cr_assert_eq(nc_etcd_put(test_etcd, key, text, 0, &rev), 0);
    nc_informer_store(env.statuses, key, text, rev);
    free(text);
    cJSON_Delete(forged);
    put_spec("disky", "{\"vcpus\":1,\"memory\":\"64MiB\",\"node\":\"node-a\","
                      "\"disks\":[{\"name\":\"root\",\"volume\":\"root\"}]}");
    cr_assert_eq(reconcile("disky"), 0);
    cJSON_Delete(st);
    st = status("disky");
    cr_assert_str_eq(str(st, "phase", NULL), "Running");
    cr_assert(strstr(cJSON_GetStringValue(cJSON_GetObjectItem(
                  cJSON_GetArrayItem(cJSON_GetObjectItem(st, "disks"), 0), "path")),
                     "/fake/default/"),
              "the disk is not the volume's file");
    cJSON_Delete(st);
}

Test(reconcilers, a_failing_volume_create_is_retried)
{
    cJSON *st;

    put_kind("volume", "v2", "{\"size\":\"64MiB\"}");
    fake_st_fail(env.st, "create", -EIO, 1);
    cr_assert_lt(reconcile_volume("v2"), 0);
    st = status_of("volume", "v2");
    cr_assert_neq(strcmp(str(st, "phase", NULL), "Ready"), 0);
    cJSON_Delete(st);
    cr_assert_eq(reconcile_volume("v2"), 0);
    st = status_of("volume", "v2");
    cr_assert_str_eq(str(st, "phase", NULL), "Ready");
    cJSON_Delete(st);
    cr_assert_eq(fake_st_calls(env.st, "create"), 2);
}

static int
reconcile_network(const char *name)
{
    int64_t requeue = 0;

    return nc_network_reconciler.reconcile(&ctx, "default", name, &requeue);
}

Test(reconcilers, networks_realised_conflicting_failing_and_deleted)
{
    char bridge[NC_IFNAME_MAX], vxlan[NC_IFNAME_MAX], alias[NC_NETWORK_ALIAS_MAX], have[160];
    cJSON *st;

    /* No VM on it here: Ready, realised on no node. */
    put_kind("network", "n1", "{\"cidr\":\"10.9.0.0/24\",\"mode\":\"isolated\"}");
    cr_assert_eq(reconcile_network("n1"), 0);
    st = status_of("network", "n1");
    cr_assert_str_eq(str(st, "phase", NULL), "Ready");
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(st, "nodes")), 0);
    nc_network_names(&env, "default", "n1", bridge, vxlan, alias);
    cr_assert(!fake_ov_has(ctx.ov, bridge, NULL, NULL), "a bridge without a VM here");
    cJSON_Delete(st);

    /* A VM of this node on each: realised, the bridge with the owner mark,
     * an address of the CIDR. */
    put_spec("u", "{\"vcpus\":1,\"memory\":\"64MiB\",\"node\":\"node-a\",\"interfaces\":["
                  "{\"name\":\"a\",\"network\":\"n1\"},{\"name\":\"b\",\"network\":\"n2\"},"
                  "{\"name\":\"c\",\"network\":\"n3\"}]}");
    cr_assert_eq(reconcile_network("n1"), 0);
    st = status_of("network", "n1");
    cr_assert_str_eq(str(st, "phase", NULL), "Ready");
    cr_assert_str_eq(ready_reason(st), "Realised");
    nc_network_names(&env, "default", "n1", bridge, vxlan, alias);
    cr_assert_str_eq(str(st, "bridge", NULL), bridge);
    cr_assert(fake_ov_has(ctx.ov, bridge, have, NULL));
    cr_assert_str_eq(have, alias);
    cr_assert(!fake_ov_has(ctx.ov, vxlan, NULL, NULL), "an isolated Network got a VXLAN device");
    cJSON_Delete(st);

    /* A device of that name that is not ours: Failed, left alone. */
    nc_network_names(&env, "default", "n2", bridge, vxlan, alias);
    cr_assert_eq(fake_ov_add(ctx.ov, bridge, "someone else's"), 0);
    put_kind("network", "n2", "{\"cidr\":\"10.10.0.0/24\",\"mode\":\"isolated\"}");
    cr_assert_eq(reconcile_network("n2"), 0, "a name conflict is looked at again later, no backoff");
    st = status_of("network", "n2");
    cr_assert_str_eq(ready_reason(st), "NameConflict");
    cr_assert(fake_ov_has(ctx.ov, bridge, have, NULL));
    cr_assert_str_eq(have, "someone else's");
    cJSON_Delete(st);

    /* A failing netlink call: an error to retry, then Ready. */
    put_kind("network", "n3", "{\"cidr\":\"10.11.0.0/24\",\"mode\":\"isolated\"}");
    fake_ov_fail(ctx.ov, "ensure", -EIO, 1);
    cr_assert_lt(reconcile_network("n3"), 0);
    st = status_of("network", "n3");
    cr_assert_str_eq(ready_reason(st), "NodeProblem");
    cJSON_Delete(st);
    cr_assert_eq(reconcile_network("n3"), 0);
    st = status_of("network", "n3");
    cr_assert_str_eq(str(st, "phase", NULL), "Ready");
    cJSON_Delete(st);

    /* Its last VM here gone: the bridge goes, the Network stays Ready. */
    delete_kind("vm", "u");
    cr_assert_eq(reconcile_network("n3"), 0);
    nc_network_names(&env, "default", "n3", bridge, vxlan, alias);
    cr_assert(!fake_ov_has(ctx.ov, bridge, NULL, NULL), "the bridge stayed without its VM");
    st = status_of("network", "n3");
    cr_assert_str_eq(str(st, "phase", NULL), "Ready");
    cJSON_Delete(st);

    /* Deleted: our bridge goes, then the status; the other's stays. */
    nc_network_names(&env, "default", "n1", bridge, vxlan, alias);
    cr_assert_eq(reconcile_network("n1"), 0);
    cr_assert(!fake_ov_has(ctx.ov, bridge, NULL, NULL));
    delete_kind("network", "n1");
    cr_assert_eq(reconcile_network("n1"), 0);
    cr_assert(!fake_ov_has(ctx.ov, bridge, NULL, NULL));
    cr_assert_null(status_of("network", "n1"));
    nc_network_names(&env, "default", "n2", bridge, vxlan, alias);
    delete_kind("network", "n2");
    cr_assert_eq(reconcile_network("n2"), 0);
    cr_assert(fake_ov_has(ctx.ov, bridge, have, NULL), "a device that is not ours was removed");
}

/* Egress NAT: the Network's table, with its mark, where a VM of it runs;
 * a device the node lacks Failed naming spec.egress.via; a table of that
 * name that is not ours left alone; nat off or the Network gone, the
 * table goes. */
Test(reconcilers, egress_nat_table_follows_the_spec)
{
    char bridge[NC_IFNAME_MAX], vxlan[NC_IFNAME_MAX], alias[NC_NETWORK_ALIAS_MAX], table[16],
        via[16];
    cJSON *st;

    nc_network_names(&env, "default", "e1", bridge, vxlan, alias);
    snprintf(table, sizeof(table), "ncn%.12s", bridge + 3);
    put_spec("u", "{\"vcpus\":1,\"memory\":\"64MiB\",\"node\":\"node-a\",\"interfaces\":["
                  "{\"name\":\"a\",\"network\":\"e1\"}]}");
    put_kind("network", "e1",
             "{\"cidr\":\"10.12.0.0/24\",\"mode\":\"isolated\",\"egress\":{\"nat\":true,"
             "\"via\":\"eth0\"}}");
    cr_assert_eq(reconcile_network("e1"), 0);
    st = status_of("network", "e1");
    cr_assert_str_eq(str(st, "phase", NULL), "Ready");
    cr_assert(strstr(str(nc_status_find_condition(st, "Ready"), "message", NULL), "NAT"));
    cJSON_Delete(st);
    cr_assert(fake_fw_has(env.fw, table, via));
    cr_assert_str_eq(via, "eth0");

    put_kind("network", "e1",
             "{\"cidr\":\"10.12.0.0/24\",\"mode\":\"isolated\",\"egress\":{\"nat\":true,"
             "\"via\":\"nope0\"}}");
    cr_assert_eq(reconcile_network("e1"), 0, "a device the node lacks is looked at later, no backoff");
    st = status_of("network", "e1");
    cr_assert_str_eq(str(st, "phase", NULL), "Failed");
    cr_assert_str_eq(ready_reason(st), "NoSuchInterface");
    cr_assert(strstr(str(nc_status_find_condition(st, "Ready"), "message", NULL),
                     "spec.egress.via: node node-a has no interface \"nope0\""));
    cJSON_Delete(st);

    put_kind("network", "e1", "{\"cidr\":\"10.12.0.0/24\",\"mode\":\"isolated\"}");
    cr_assert_eq(reconcile_network("e1"), 0);
    cr_assert(!fake_fw_has(env.fw, table, NULL), "the table outlived nat: true");

    /* Someone else's table of that name: Failed, never changed. */
    fake_fw_add_foreign(env.fw, table, "someone else's");
    put_kind("network", "e1",
             "{\"cidr\":\"10.12.0.0/24\",\"mode\":\"isolated\",\"egress\":{\"nat\":true}}");
    cr_assert_eq(reconcile_network("e1"), 0);
    st = status_of("network", "e1");
    cr_assert_str_eq(ready_reason(st), "NameConflict");
    cJSON_Delete(st);
    delete_kind("vm", "u");
    delete_kind("network", "e1");
    cr_assert_eq(reconcile_network("e1"), 0);
    cr_assert_null(status_of("network", "e1"));
    cr_assert(fake_fw_has(env.fw, table, via), "a table that is not ours was removed");
    cr_assert_eq(fake_fw_count(env.fw), 1u);
}

/* A vlan Network: refused by a node without --vlan-parent; with one, a
 * VLAN device on the bridge; its id held like a VNI, so a second Network
 * asking for it is Failed; deleting it removes the device. */
Test(reconcilers, vlan_networks)
{
    char bridge[NC_IFNAME_MAX], vxlan[NC_IFNAME_MAX], alias[NC_NETWORK_ALIAS_MAX], vlan[16],
        master[NC_IFNAME_MAX];
    cJSON *st;

    nc_network_names(&env, "default", "v1", bridge, vxlan, alias);
    snprintf(vlan, sizeof(vlan), "ncv%.12s", bridge + 3);
    put_spec("u", "{\"vcpus\":1,\"memory\":\"64MiB\",\"node\":\"node-a\",\"interfaces\":["
                  "{\"name\":\"a\",\"network\":\"v1\"}]}");
    put_kind("network", "v1", "{\"cidr\":\"10.14.0.0/24\",\"mode\":\"vlan\",\"vlan\":100}");
    cr_assert_eq(reconcile_network("v1"), 0);
    st = status_of("network", "v1");
    cr_assert_str_eq(ready_reason(st), "NoVLANParent");
    cJSON_Delete(st);

    env.vlan_parent = "eth0";
    cr_assert_eq(reconcile_network("v1"), 0);
    st = status_of("network", "v1");
    cr_assert_str_eq(str(st, "phase", NULL), "Ready", "%s", ready_reason(st));
    cr_assert_eq(cJSON_GetNumberValue(cJSON_GetObjectItem(st, "vlan")), 100);
    cr_assert_str_eq(str(st, "vlanDevice", NULL), vlan);
    cr_assert_null(cJSON_GetObjectItem(st, "vxlanDevice"));
    cJSON_Delete(st);
    cr_assert(fake_ov_has(ctx.ov, vlan, NULL, master));
    cr_assert_str_eq(master, bridge);
    cr_assert(!fake_ov_has(ctx.ov, vxlan, NULL, NULL), "a vlan Network got a VXLAN device");

    put_kind("network", "v2", "{\"cidr\":\"10.15.0.0/24\",\"mode\":\"vlan\",\"vlan\":100}");
    cr_assert_eq(reconcile_network("v2"), 0);
    st = status_of("network", "v2");
    cr_assert_str_eq(str(st, "phase", NULL), "Failed");
    cr_assert(strstr(str(nc_status_find_condition(st, "Ready"), "message", NULL),
                     "spec.vlan: 100 is held by network default/v1"));
    cJSON_Delete(st);
    delete_kind("network", "v2");
    cr_assert_eq(reconcile_network("v2"), 0);

    delete_kind("vm", "u");
    delete_kind("network", "v1");
    cr_assert_eq(reconcile_network("v1"), 0);
    cr_assert_null(status_of("network", "v1"));
    cr_assert(!fake_ov_has(ctx.ov, vlan, NULL, NULL), "the VLAN device outlived its Network");
    cr_assert(!fake_ov_has(ctx.ov, bridge, NULL, NULL));
    env.vlan_parent = NULL;
}

/* Port security: before a guest's tap joins its bridge, the node's port
 * table holds it to its MAC and IP; portSecurity false opens it;
 * bandwidth limits come and change with the spec; a removed interface or
 * a deleted VM takes it out. */
Test(reconcilers, a_guest_tap_is_held_to_its_addresses)
{
    char owner[200], hash[9], tap[16], mac[18], ip[16];
    uint64_t in, out;
    uint32_t burst;
    const cJSON *iface, *bw;
    cJSON *st;

    env.hv->caps.taps = true; /* as with QEMU: taps to attach */
    snprintf(owner, sizeof(owner), "default/p/eth0");
    nc_install_hash(env.install_hash, owner, hash);
    snprintf(tap, sizeof(tap), "nct%s", hash);
    cr_assert_eq(fake_ov_add(ctx.ov, tap, ""), 0);
    put_kind("network", "plan", "{\"cidr\":\"10.13.0.0/24\",\"mode\":\"isolated\"}");
    put_spec("p", "{\"vcpus\":1,\"memory\":\"64MiB\",\"node\":\"node-a\","
                  "\"interfaces\":[{\"name\":\"eth0\",\"network\":\"plan\"}]}");
    cr_assert_eq(reconcile_network("plan"), 0);
    cJSON_Delete(status_of("network", "plan"));
    cr_assert_eq(reconcile("p"), 0);
    st = status("p");
    iface = cJSON_GetArrayItem(cJSON_GetObjectItem(st, "interfaces"), 0);
    cr_assert_str_eq(str(iface, "device", NULL), tap);
    cr_assert_eq(fake_fw_port(env.fw, tap, mac, ip), 1, "the tap joined its bridge unsecured");
    cr_assert_str_eq(mac, str(iface, "mac", NULL));
    cr_assert_str_eq(ip, str(iface, "ip", NULL));
    cJSON_Delete(st);

    put_spec("p", "{\"vcpus\":1,\"memory\":\"64MiB\",\"node\":\"node-a\",\"interfaces\":["
                  "{\"name\":\"eth0\",\"network\":\"plan\",\"portSecurity\":false}]}");
    cr_assert_eq(reconcile("p"), 0);
    cr_assert_eq(fake_fw_port(env.fw, tap, mac, ip), 0, "portSecurity false left it secured");

    /* Bandwidth, on an open port too, changed in place: bytes a second,
     * the default burst (16 KiB), then a given one. */
    put_spec("p", "{\"vcpus\":1,\"memory\":\"64MiB\",\"node\":\"node-a\",\"interfaces\":["
                  "{\"name\":\"eth0\",\"network\":\"plan\",\"portSecurity\":false,"
                  "\"bandwidth\":{\"inboundKbps\":2000,\"outboundKbps\":8000}}]}");
    cr_assert_eq(reconcile("p"), 0);
    cr_assert_eq(fake_fw_port_bandwidth(env.fw, tap, &in, &out, &burst), 0);
    cr_assert(in == 250000 && out == 1000000 && burst == 16 * 1024,
              "bandwidth in %" PRIu64 " out %" PRIu64 " burst %" PRIu32, in, out, burst);
    st = status("p");
    bw = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(st, "interfaces"), 0),
                             "bandwidth");
    cr_assert_eq(cJSON_GetNumberValue(cJSON_GetObjectItem(bw, "burstKiB")), 16);
    cr_assert_eq(cJSON_GetNumberValue(cJSON_GetObjectItem(bw, "outboundKbps")), 8000);
    cJSON_Delete(st);
    put_spec("p", "{\"vcpus\":1,\"memory\":\"64MiB\",\"node\":\"node-a\",\"interfaces\":["
                  "{\"name\":\"eth0\",\"network\":\"plan\",\"portSecurity\":false,"
                  "\"bandwidth\":{\"outboundKbps\":64,\"burstKiB\":4}}]}");
    cr_assert_eq(reconcile("p"), 0);
    cr_assert_eq(fake_fw_port_bandwidth(env.fw, tap, &in, &out, &burst), 0);
    cr_assert(in == 0 && out == 8000 && burst == 4096,
              "bandwidth in %" PRIu64 " out %" PRIu64 " burst %" PRIu32, in, out, burst);

    put_spec("p", "{\"vcpus\":1,\"memory\":\"64MiB\",\"node\":\"node-a\"}");
    cr_assert_eq(reconcile("p"), 0);
    cr_assert_eq(fake_fw_port(env.fw, tap, mac, ip), -1, "a removed interface kept its port");
    put_spec("p", "{\"vcpus\":1,\"memory\":\"64MiB\",\"node\":\"node-a\","
                  "\"interfaces\":[{\"name\":\"eth0\",\"network\":\"plan\"}]}");
    /* (The fake cannot unplug live: the domain restarts, in turns.) */
    for (int i = 0; i < 3 && fake_fw_port(env.fw, tap, mac, ip) != 1; i++)
        cr_assert_eq(reconcile("p"), 0);
    cr_assert_eq(fake_fw_port(env.fw, tap, mac, ip), 1, "an interface added back is not secured");
    delete_spec("p");
    cr_assert_eq(reconcile("p"), 0);
    cr_assert_null(status("p"));
    cr_assert_eq(fake_fw_port(env.fw, tap, mac, ip), -1, "a deleted VM kept its port");
    env.hv->caps.taps = false;
}

/* VM @name with labels @labels (a JSON object) as a policy sees it: its
 * spec, and in the statuses cache the node it runs on and its address. */
static void
policy_vm(const char *name, const char *labels, const char *node, const char *ip)
{
    char key[256], doc[512];
    int64_t rev;

    snprintf(key, sizeof(key), "%sspec/default/vm/%s", prefix, name);
    snprintf(doc, sizeof(doc),
             "{\"apiVersion\":\"novacron.io/v1\",\"kind\":\"VirtualMachine\",\"metadata\":"
             "{\"name\":\"%s\",\"labels\":%s},\"spec\":{\"vcpus\":1,\"memory\":\"64MiB\"}}",
             name, labels);
    cr_assert_eq(nc_etcd_put(test_etcd, key, doc, 0, &rev), 0);
    nc_informer_store(env.specs, key, doc, rev);
    snprintf(key, sizeof(key), "%sstatus/default/vm/%s", prefix, name);
    snprintf(doc, sizeof(doc),
             "{\"phase\":\"Running\",\"node\":\"%s\",\"interfaces\":[{\"name\":\"eth0\","
             "\"network\":\"n\",\"ip\":\"%s\"}]}",
             node, ip);
    nc_informer_store(env.statuses, key, doc, rev);
}

static int
reconcile_policy(const char *name)
{
    int64_t requeue = 0;

    return nc_networkpolicy_reconciler.reconcile(&ctx, "default", name, &requeue);
}

/* What the fake firewall was last given, "" for no table. */
static char *
policies_now(void)
{
    char *text;

    cr_assert_eq(nc_netpol_sync(&ctx), 0);
    text = fake_fw_policies(env.fw);
    return text ? text : strdup("");
}

/* A NetworkPolicy: its status names the VMs it selects anywhere and their
 * nodes; this node enforces it for its own selected VMs only, with each
 * rule's peer VMs from every node; a relabelled VM leaves the peers; an
 * invalid policy is Failed and enforces nothing; a deleted one goes. */
Test(reconcilers, network_policy_status_and_enforcement)
{
    const char *p1 = "{\"vmSelector\":{\"matchLabels\":{\"app\":\"web\"}},\"ingress\":[{\"from\":["
                     "{\"vmSelector\":{\"matchLabels\":{\"role\":\"client\"}}},{\"cidr\":"
                     "\"192.168.0.0/16\"}],\"ports\":[{\"port\":80,\"endPort\":90},"
                     "{\"protocol\":\"UDP\",\"port\":53}]}]}";
    char *text;
    cJSON *st;

    policy_vm("web1", "{\"app\":\"web\"}", "node-a", "10.30.0.1");
    policy_vm("web2", "{\"app\":\"web\"}", "node-b", "10.30.0.2");
    policy_vm("cli", "{\"role\":\"client\"}", "node-a", "10.30.0.3");
    text = policies_now();
    cr_assert_str_eq(text, "", "a table without a policy");
    free(text);

    put_kind("networkpolicy", "p1", p1);
    cr_assert_eq(reconcile_policy("p1"), 0);
    st = status_of("networkpolicy", "p1");
    cr_assert_str_eq(str(st, "phase", NULL), "Ready");
    cr_assert_str_eq(ready_reason(st), "Active");
    text = cJSON_PrintUnformatted(cJSON_GetObjectItem(st, "vms"));
    cr_assert_str_eq(text, "[\"web1\",\"web2\"]");
    free(text);
    text = cJSON_PrintUnformatted(cJSON_GetObjectItem(st, "nodes"));
    cr_assert_str_eq(text, "[\"node-a\",\"node-b\"]");
    free(text);
    cJSON_Delete(st);
    text = policies_now();
    cr_assert(strstr(text, " vms=10.30.0.1 in\n"), "node-a's own selected VM only: %s", text);
    cr_assert(strstr(text, "\n in0 vms=10.30.0.3 cidrs=192.168.0.0/16 ports=tcp:80-90,udp:53-53\n"),
              "%s", text);
    free(text);

    policy_vm("cli", "{\"role\":\"other\"}", "node-a", "10.30.0.3");
    text = policies_now();
    cr_assert(strstr(text, "\n in0 vms= cidrs=192.168.0.0/16"), "relabelled, still a peer: %s", text);
    free(text);

    /* The node cannot write its rules: a Warning on the policy, retried. */
    fake_fw_fail(env.fw, "policies", -EIO, 1);
    cr_assert_lt(nc_netpol_sync(&ctx), 0);
    cr_assert(has_event_of("networkpolicy", "p1", "NotEnforced"));
    text = policies_now();
    cr_assert(strstr(text, " in0 "), "not enforced once the fault stopped: %s", text);
    free(text);

    put_kind("networkpolicy", "p1", "{\"vmSelector\":{},\"ingress\":[{\"ports\":[{\"port\":0}]}]}");
    cr_assert_eq(reconcile_policy("p1"), 0);
    st = status_of("networkpolicy", "p1");
    cr_assert_str_eq(str(st, "phase", NULL), "Failed");
    cr_assert_str_eq(ready_reason(st), "InvalidSpec");
    cr_assert(strstr(str(nc_status_find_condition(st, "Ready"), "message", NULL),
                     "spec.ingress[0].ports[0].port: must be an integer from 1 to 65535, got 0"));
    cJSON_Delete(st);
    text = policies_now();
    cr_assert_str_eq(text, "", "an invalid policy is enforced: %s", text);
    free(text);

    put_kind("networkpolicy", "p1", p1);
    cr_assert_eq(reconcile_policy("p1"), 0);
    text = policies_now();
    cr_assert(strstr(text, " in0 "), "%s", text);
    free(text);
    delete_kind("networkpolicy", "p1");
    cr_assert_eq(reconcile_policy("p1"), 0);
    cr_assert_null(status_of("networkpolicy", "p1"));
    text = policies_now();
    cr_assert_str_eq(text, "", "a deleted policy is still enforced: %s", text);
    free(text);
    for (const char *const *vm = (const char *const[]){"web1", "web2", "cli", NULL}; *vm; vm++)
        delete_kind("vm", *vm);
}

/* A VM on a Network: its interface holds a MAC and an address, the node's
 * DHCP server answers for exactly that pair, and both go with the VM. */
Test(reconcilers, a_guest_on_a_network_gets_its_dhcp_entry)
{
    char bridge[NC_IFNAME_MAX], vxlan[NC_IFNAME_MAX], alias[NC_NETWORK_ALIAS_MAX];
    struct nc_dhcp_host hosts[4];
    const cJSON *iface;
    cJSON *st;

    put_kind("network", "lan", "{\"cidr\":\"10.12.0.0/24\",\"mode\":\"isolated\"}");
    cr_assert_eq(reconcile_network("lan"), 0);
    cJSON_Delete(status_of("network", "lan"));
    nc_network_names(&env, "default", "lan", bridge, vxlan, alias);
    cr_assert_eq(fake_dhcp_hosts(env.dhcp, bridge, hosts, 4), -1, "a server without guests");

    put_spec("g", "{\"vcpus\":1,\"memory\":\"64MiB\",\"node\":\"node-a\","
                  "\"interfaces\":[{\"name\":\"eth0\",\"network\":\"lan\"}]}");
    cr_assert_eq(reconcile("g"), 0);
    st = status("g");
    cr_assert_str_eq(str(st, "phase", NULL), "Running");
    iface = cJSON_GetArrayItem(cJSON_GetObjectItem(st, "interfaces"), 0);
    cr_assert_not_null(iface);
    cr_assert_eq(reconcile_network("lan"), 0);
    cr_assert_eq(fake_dhcp_hosts(env.dhcp, bridge, hosts, 4), 1);
    cr_assert_str_eq(hosts[0].mac, str(iface, "mac", NULL));
    cr_assert_str_eq(hosts[0].ip, str(iface, "ip", NULL));
    cr_assert(strncmp(hosts[0].ip, "10.12.0.", 8) == 0);
    cJSON_Delete(st);

    delete_spec("g");
    cr_assert_eq(reconcile("g"), 0);
    cr_assert_null(status("g"));
    cr_assert_eq(reconcile_network("lan"), 0);
    cr_assert_eq(fake_dhcp_hosts(env.dhcp, bridge, hosts, 4), -1, "the server outlived its guest");
}

/*
 * The fault sweep: for each change (a VM with a disk made, updated,
 * deleted; a Volume made, grown, deleted; a Network with a VM of this
 * node made, changed, deleted; a Snapshot of a running VM taken,
 * deleted; a VM restored from one; a running VM moved to another node,
 * live, cold with its disk, or cancelled), the N-th driver call of its reconcile (of a move: of the
 * reconciles of both nodes) fails, whichever fake makes it, for N = 1, 2,
 * ... until a reconcile makes fewer calls than N. The etcd client's requests count
 * among them twice: one fails unsent, one loses the answer of a request
 * etcd applied. Each time the failure must show (an
 * error returned for a retry with backoff, with Ready=False or a Warning
 * event saying it), the object must converge once the faults stop, and
 * nothing may be left or doubled: one domain, volume or bridge while it
 * should exist, none after. It prints the call sites it failed.
 */
static struct fake_sweep sweep;

/* One reconcile of @kind/@name; its result, and in *@requeue (may be
 * NULL) the milliseconds after which it asked to be looked at again. */
static int
reconcile_kind(const char *kind, const char *name, int64_t *requeue)
{
    const struct nc_reconciler *rc = strcmp(kind, "snapshot") == 0  ? &nc_snapshot_reconciler
                                     : strcmp(kind, "restore") == 0 ? &nc_restore_reconciler
                                     : strcmp(kind, "network") == 0 ? &nc_network_reconciler
                                     : strcmp(kind, "vm") == 0      ? &nc_vm_reconciler
                                                                    : &nc_volume_reconciler;
    int64_t ignored;

    return rc->reconcile(&ctx, "default", name, requeue ? requeue : &ignored);
}

/* A Network is realised on the nodes of its VMs: a VM spec of this node
 * on it (never reconciled: no domain), named after it. */
static void
network_user(const char *net, bool present)
{
    char vm[80], spec[256];

    snprintf(vm, sizeof(vm), "u-%s", net);
    snprintf(spec, sizeof(spec),
             "{\"vcpus\":1,\"memory\":\"64MiB\",\"node\":\"node-a\","
             "\"interfaces\":[{\"name\":\"eth0\",\"network\":\"%s\"}]}",
             net);
    if (present)
        put_spec(vm, spec);
    else
        delete_spec(vm);
}

/* The spec of a container (@runtime "container", run by fake_hv as this
 * node's Podman) or a process ("process", its program in env.exec_dir,
 * run by fake_hv as libvirt's LXC driver), with an environment when
 * @changed. */
static void
runtime_spec(const char *runtime, bool changed, char *buf, size_t size)
{
    char what[PATH_MAX + 64];

    if (strcmp(runtime, "container") == 0)
        snprintf(what, sizeof(what), "\"image\":\"localhost/app:1\"");
    else
        snprintf(what, sizeof(what), "\"command\":[\"%s/prog\",\"x\"]", env.exec_dir);
    snprintf(buf, size,
             "{\"runtime\":\"%s\",%s,\"vcpus\":1,\"memory\":\"64MiB\",\"node\":\"node-a\"%s}",
             runtime, what, changed ? ",\"env\":[{\"name\":\"A\",\"value\":\"2\"}]" : "");
}

/* The sweep's Networks: isolated, with egress NAT (@more: other fields). */
#define NAT_NET(more)                                                                            \
    "{\"cidr\":\"10.77.0.0/24\",\"mode\":\"isolated\",\"egress\":{\"nat\":true}" more "}"

/* Network @net's bridge and its NAT table are there. */
static bool
bridge_of(const char *net)
{
    char bridge[NC_IFNAME_MAX], vxlan[NC_IFNAME_MAX], alias[NC_NETWORK_ALIAS_MAX], table[16];
    bool dev, nat;

    nc_network_names(&env, "default", net, bridge, vxlan, alias);
    snprintf(table, sizeof(table), "ncn%.12s", bridge + 3);
    dev = fake_ov_has(ctx.ov, bridge, NULL, NULL);
    nat = fake_fw_has(env.fw, table, NULL);
    cr_assert_eq(dev, nat, "Network %s: bridge %d, NAT table %d", net, dev, nat);
    return dev;
}

static void
disk_vm(const char *name, unsigned vcpus)
{
    char spec[256];

    snprintf(spec, sizeof(spec),
             "{\"vcpus\":%u,\"memory\":\"64MiB\",\"node\":\"node-a\","
             "\"disks\":[{\"name\":\"root\",\"volume\":\"v-%s\"}]}",
             vcpus, name);
    put_spec(name, spec);
}

/* Reconciles @kind/@name (and, for a VM, its Volume first) until it
 * reports @phase, or, with @phase NULL, its status is gone. */
static void
converge(const char *kind, const char *name, const char *phase)
{
    char vol[80];

    snprintf(vol, sizeof(vol), "v-%s", name);
    for (int i = 0; i < 8; i++) {
        cJSON *st;
        bool done;

        if (strcmp(kind, "vm") == 0 && phase) {
            reconcile_volume(vol);
            cJSON_Delete(status_of("volume", vol));
        }
        reconcile_kind(kind, name, NULL);
        st = status_of(kind, name);
        done = phase ? st && strcmp(str(st, "phase", NULL), phase) == 0 : !st;
        cJSON_Delete(st);
        if (done)
            return;
    }
    cr_assert_fail("%s %s did not reach %s once the faults stopped", kind, name,
                   phase ? phase : "deletion");
}

/* Ready=False or a Warning event of @kind/@name carries the driver's
 * reason. */
static bool
said_failure(const char *kind, const char *name)
{
    cJSON *st = status_of(kind, name);
    const cJSON *ready = nc_status_find_condition(st, "Ready");
    bool said = ready && strcmp(str(ready, "status", NULL), "False") == 0 &&
                str(ready, "message", NULL) && strstr(str(ready, "message", NULL), "injected");
    char key[256], *end;
    struct nc_range range = {0};

    cJSON_Delete(st);
    snprintf(key, sizeof(key), "%sevents/default/%s/%s/", prefix, kind, name);
    end = nc_etcd_prefix_end(key);
    cr_assert_eq(nc_etcd_range(test_etcd, key, end, 0, 0, &range), 0);
    free(end);
    for (size_t i = 0; i < range.n && !said; i++)
        said = strstr(range.kvs[i].value, "\"Warning\"") &&
               strstr(range.kvs[i].value, "injected");
    nc_range_clear(&range);
    return said;
}

/* The failure shows: the reconcile returned it (a retry with backoff)
 * and said it. */
static bool
shows_failure(const char *kind, const char *name, int r)
{
    return said_failure(kind, name) && r < 0;
}

struct sweep_case {
    const char *what, *kind;
    int change;   /* 0: make it, 1: change it, 2: delete it */
};

/*
 * After a reconcile of @kind/@name that returned @r and asked for
 * @requeue: the daemon looks at the object again only on a retry (@r < 0)
 * or when asked to (its own writes are no news to it), so otherwise it is
 * at its goal already: @phase and Ready, or with @phase NULL, its status
 * gone.
 */
static void
assert_queued_or_there(const struct sweep_case *c, unsigned n, const char *kind, const char *name,
                       int r, int64_t requeue, const char *phase)
{
    cJSON *st;
    const char *now;

    if (r < 0 || requeue > 0)
        return;
    st = status_of(kind, name);
    now = st ? str(st, "phase", NULL) : NULL;
    cr_assert(phase ? now && strcmp(now, phase) == 0 && nc_status_condition_true(st, "Ready")
                    : !st,
              "%s: after call %u (%s) failed, %s is %s%s and nothing would look at it again",
              c->what, n, sweep.failed, name, st ? (now ? now : "without a phase") : "gone",
              st && !nc_status_condition_true(st, "Ready") ? ", not Ready" : "");
    cJSON_Delete(st);
}

static void
sweep_one(const struct sweep_case *c, unsigned n, char *name, size_t namesz, bool *ret_hit)
{
    bool vm = strcmp(c->kind, "vm") == 0, net = strcmp(c->kind, "network") == 0;
    bool ctr = strcmp(c->kind, "container") == 0, proc = strcmp(c->kind, "process") == 0;
    struct nc_hv *rt_hv = ctr ? env.container_hv : proc ? env.process_hv : NULL;
    const char *kind = rt_hv ? "vm" : c->kind, *ready = vm || rt_hv ? "Running" : "Ready";
    char spec[PATH_MAX + 256];
    char vol[80];
    int64_t requeue;
    int r;

    snprintf(name, namesz, "%c%u-%u", rt_hv ? c->kind[0] : c->kind[1], c->change, n);
    snprintf(vol, sizeof(vol), "v-%s", name);
    /* Before: what the change starts from, without faults. */
    if (vm) {
        put_kind("volume", vol, "{\"size\":\"64MiB\"}");
        converge("volume", vol, "Ready");
    }
    if (net)
        network_user(name, true);
    if (c->change > 0) {
        if (rt_hv)
            runtime_spec(c->kind, false, spec, sizeof(spec));
        if (vm)
            disk_vm(name, 1);
        else
            put_kind(kind, name, net ? NAT_NET("") : rt_hv ? spec : "{\"size\":\"64MiB\"}");
        converge(kind, name, ready);
    }
    /* The change, whose reconcile fails at its n-th driver call. */
    if (c->change == 2) {
        if (net)
            network_user(name, false);
        delete_kind(kind, name);
    } else if (vm) {
        disk_vm(name, c->change == 1 ? 2 : 1);
    } else if (rt_hv) {
        runtime_spec(c->kind, c->change == 1, spec, sizeof(spec));
        put_kind(kind, name, spec);
    } else if (net) {
        put_kind(c->kind, name, c->change == 1 ? NAT_NET(",\"mtu\":1400") : NAT_NET(""));
    } else {
        put_kind(c->kind, name, c->change == 1 ? "{\"size\":\"128MiB\"}" : "{\"size\":\"64MiB\"}");
    }
    fake_sweep_arm(&sweep, n, -EIO);
    r = reconcile_kind(kind, name, &requeue);
    *ret_hit = fake_sweep_disarm(&sweep);
    assert_queued_or_there(c, n, kind, name, r, requeue, c->change == 2 ? NULL : ready);
    /* A failing etcd is no place to say so: the reconcile returns the
     * error, for a retry with backoff, unless what failed was only a
     * report on the way and it got where it was going all the same. */
    if (*ret_hit && strncmp(sweep.failed, "etcd.", 5) == 0) {
        cJSON *st = status_of(kind, name);
        const char *phase = str(st, "phase", NULL);
        bool there = c->change == 2 ? !st : phase && strcmp(phase, ready) == 0;

        cJSON_Delete(st);
        cr_assert(r < 0 || there,
                  "%s: a failure of call %u (%s) was neither returned for a retry nor overcome",
                  c->what, n, sweep.failed);
    } else if (*ret_hit)
        cr_assert(shows_failure(kind, name, r),
                  "%s: a failure of call %u (%s) left no trace (reconcile returned %d)", c->what,
                  n, sweep.failed, r);
    /* Once the faults stop: converged, nothing left or doubled. */
    converge(kind, name, c->change == 2 ? NULL : ready);
    if (c->change < 2) {
        cr_assert_eq(fake_hv_count(env.hv), vm ? 1u : 0u, "%s after call %u failed", c->what, n);
        cr_assert_eq(fake_hv_count(env.container_hv), ctr ? 1u : 0u, "%s after call %u failed",
                     c->what, n);
        cr_assert_eq(fake_hv_count(env.process_hv), proc ? 1u : 0u, "%s after call %u failed",
                     c->what, n);
        cr_assert_eq(fake_st_count(env.st), net || rt_hv ? 0u : 1u, "%s after call %u failed",
                     c->what, n);
        cr_assert(!net || bridge_of(name), "%s: no bridge after call %u failed", c->what, n);
        if (net)
            network_user(name, false);
        delete_kind(kind, name);
        converge(kind, name, NULL);
    }
    if (vm) {
        delete_kind("volume", vol);
        converge("volume", vol, NULL);
    }
    cr_assert_eq(fake_hv_count(env.hv) + fake_hv_count(env.container_hv) +
                     fake_hv_count(env.process_hv),
                 0u, "%s: a domain, container or process left after call %u failed", c->what, n);
    cr_assert_eq(fake_st_count(env.st), 0u, "%s: a volume left after call %u failed", c->what, n);
    cr_assert(!net || !bridge_of(name), "%s: a bridge left after call %u failed", c->what, n);
}

static void
count_one(const char *snap, void *data)
{
    (void)snap;
    ++*(unsigned *)data;
}

/* How many snapshots the domain of VM @vm has. */
static unsigned
snapshots_of(const char *vm)
{
    char dom[NC_DOMAIN_NAME_MAX];
    unsigned n = 0;

    nc_domain_name(env.install_hash, "default", vm, dom);
    nc_hv_snapshot_list(env.hv, dom, count_one, &n);
    return n;
}

/* The sweep of a Snapshot taken or deleted, or a Restore done: of a
 * running VM with a qcow2 disk, NAME-vm. */
static void
sweep_snap_one(const struct sweep_case *c, unsigned n, bool *ret_hit)
{
    bool restore = strcmp(c->kind, "restore") == 0;
    char id[32], vm[48], vol[56], snap[48], obj[48], spec[160];
    const char *done = c->change == 2 ? NULL : restore ? "Complete" : "Ready";
    int64_t requeue;
    int r;

    snprintf(id, sizeof(id), "%c%u-%u", c->kind[1], c->change, n);
    snprintf(vm, sizeof(vm), "%s-vm", id);
    snprintf(vol, sizeof(vol), "v-%s", vm);
    snprintf(snap, sizeof(snap), "%s-s", id);
    snprintf(obj, sizeof(obj), restore ? "%s-r" : "%s-s", id);
    /* Before: the VM runs, and has its snapshot unless one is taken. */
    put_kind("volume", vol, "{\"size\":\"64MiB\"}");
    converge("volume", vol, "Ready");
    disk_vm(vm, 1);
    converge("vm", vm, "Running");
    snprintf(spec, sizeof(spec), "{\"vm\":\"%s\"}", vm);
    if (restore || c->change == 2) {
        put_kind("snapshot", snap, spec);
        converge("snapshot", snap, "Ready");
    }
    /* The change, whose reconcile fails at its n-th driver call. */
    if (c->change == 2)
        delete_kind("snapshot", snap);
    else if (restore) {
        snprintf(spec, sizeof(spec), "{\"vm\":\"%s\",\"snapshot\":\"%s\"}", vm, snap);
        put_kind("restore", obj, spec);
    } else
        put_kind("snapshot", snap, spec);
    fake_sweep_arm(&sweep, n, -EIO);
    r = reconcile_kind(c->kind, obj, &requeue);
    *ret_hit = fake_sweep_disarm(&sweep);
    assert_queued_or_there(c, n, c->kind, obj, r, requeue, done);
    if (*ret_hit && strncmp(sweep.failed, "etcd.", 5) == 0) {
        cJSON *st = status_of(c->kind, obj);
        const char *phase = str(st, "phase", NULL);
        bool there = !done ? !st : phase && strcmp(phase, done) == 0;

        cJSON_Delete(st);
        cr_assert(r < 0 || there,
                  "%s: a failure of call %u (%s) was neither returned for a retry nor overcome",
                  c->what, n, sweep.failed);
    } else if (*ret_hit) {
        cr_assert(shows_failure(c->kind, obj, r),
                  "%s: a failure of call %u (%s) left no trace (reconcile returned %d)", c->what,
                  n, sweep.failed, r);
    }
    /* Once the faults stop: converged, one snapshot while it should be,
     * the VM running again. */
    converge(c->kind, obj, done);
    converge("vm", vm, "Running");
    cr_assert_eq(snapshots_of(vm), c->change == 2 ? 0u : 1u, "%s after call %u failed", c->what, n);
    cr_assert_eq(fake_hv_count(env.hv), 1u, "%s after call %u failed", c->what, n);
    if (restore) {
        delete_kind("restore", obj);
        converge("restore", obj, NULL);
    }
    if (c->change != 2) {
        delete_kind("snapshot", snap);
        converge("snapshot", snap, NULL);
    }
    cr_assert_eq(snapshots_of(vm), 0u, "%s: a snapshot left after call %u failed", c->what, n);
    delete_spec(vm);
    converge("vm", vm, NULL);
    delete_kind("volume", vol);
    converge("volume", vol, NULL);
    cr_assert_eq(fake_hv_count(env.hv), 0u, "%s: a domain left after call %u failed", c->what, n);
    cr_assert_eq(fake_st_count(env.st), 0u, "%s: a volume left after call %u failed", c->what, n);
}

/*
 * Node node-b beside node-a (env, ctx), for migrations: a hypervisor,
 * storage and network of its own, its own index of moves, the same etcd
 * and caches (a watch would bring both nodes the same). The two
 * hypervisors reach each other as "fake://node-a" and "fake://node-b".
 */
static struct nc_env env_b;
static struct nc_ctx ctx_b;

static void mig_enqueue(void *data, const char *key);

/* Registers node @node (@up), or takes its registration away. With
 * one node registered, a Volume has no choice of home to wait for. */
static void
node_registered(const char *node, bool up)
{
    char key[128], value[256];

    snprintf(key, sizeof(key), "%snodes/%s", prefix, node);
    snprintf(value, sizeof(value),
             "{\"name\":\"%s\",\"peerLibvirt\":\"fake://%s\",\"cpus\":8,"
             "\"memory\":8589934592,\"pools\":[{\"name\":\"default\",\"shared\":false}]}",
             node, node);
    nc_informer_store(env.nodes, key, up ? value : NULL, nc_informer_revision(env.nodes) + 1);
}

static void
node_b_up(void)
{
    env_b = env;
    env_b.node = "node-b";
    env_b.vm = NULL;
    snprintf(env_b.dnsmasq_dir, sizeof(env_b.dnsmasq_dir), "/tmp/nc-itest-%d-b", getpid());
    node_open(&env_b);
    ctx_b = (struct nc_ctx){.env = &env_b, .etcd = ctx.etcd};
    cr_assert_eq(fake_ov_open(NULL, &ctx_b.ov), 0);
    fake_hv_link(env.hv, "fake://node-b", env_b.hv);
    fake_hv_link(env_b.hv, "fake://node-a", env.hv);
    fake_st_link(env.st, "fake://node-b", env_b.st);
    fake_st_link(env_b.st, "fake://node-a", env.st);
    env.enqueue = env_b.enqueue = mig_enqueue;
    env.enqueue_data = &env;
    env_b.enqueue_data = &env_b;
}

static void
node_b_down(void)
{
    node_close(&env_b);
    nc_overlay_close(ctx_b.ov);
}

/* What the watches would bring both nodes after a write: VM @vm's
 * status and placement, its Volume's (v-@vm) status, Migration @mig's
 * status (and both indexes of moves). */
static void
refresh(const char *vm, const char *mig)
{
    char key[256], vol[80];
    struct nc_kv kv;
    int64_t rev;
    int r;

    snprintf(vol, sizeof(vol), "v-%s", vm);
    cJSON_Delete(status_of("vm", vm));
    cJSON_Delete(status_of("volume", vol));
    snprintf(key, sizeof(key), "%splacement/default/%s", prefix, vm);
    if ((r = nc_etcd_get(test_etcd, key, &kv, &rev)) == 0) {
        nc_informer_store(env.placements, key, kv.value, kv.mod_revision);
        nc_kv_clear(&kv);
    } else if (r == -ENOENT) {
        nc_informer_store(env.placements, key, NULL, rev);
    }
    snprintf(key, sizeof(key), "%sstatus/default/migration/%s", prefix, mig);
    if ((r = nc_etcd_get(test_etcd, key, &kv, &rev)) == 0) {
        nc_informer_store(env.statuses, key, kv.value, kv.mod_revision);
        nc_moves_note(env.moves, "default", mig, kv.value, kv.mod_revision);
        nc_moves_note(env_b.moves, "default", mig, kv.value, kv.mod_revision);
        nc_kv_clear(&kv);
    } else if (r == -ENOENT) {
        nc_informer_store(env.statuses, key, NULL, rev);
        nc_moves_note(env.moves, "default", mig, NULL, rev);
        nc_moves_note(env_b.moves, "default", mig, NULL, rev);
    }
}

/* The phase of Migration @mig, "" when it has no status. */
static void
mig_phase(const char *mig, char *out, size_t outsz)
{
    cJSON *st = status_of("migration", mig);

    snprintf(out, outsz, "%s", st && str(st, "phase", NULL) ? str(st, "phase", NULL) : "");
    cJSON_Delete(st);
}

static bool
mig_ended(const char *phase)
{
    return !strcmp(phase, "Succeeded") || !strcmp(phase, "Failed") || !strcmp(phase, "Cancelled");
}

/* A move's objects, reconciled in turn on both nodes. */
struct mig_objects {
    char vm[32], vol[40], mig[40];
    unsigned n_kinds; /* the first of: Migration, VM, Volume */
};

enum { MIG, VM, VOL };

/*
 * What each node's work queue holds of the move's objects ([node][kind],
 * node 0 node-b, 1 node-a), filled as the daemon fills it
 * (controller/main.c): a reconcile that failed or asked to be requeued,
 * a reconciler's nc_run_enqueue(), and what a watch brings of another
 * node's writes: the object whose status changed (a Volume's only to the
 * node it names, or any when it names none), the VM of a Migration whose
 * status changed, the VM whose placement changed. A node's own writes
 * reach its cache first and are no news to it. Once the faults stop, only
 * what is queued is reconciled: a move must end without a resync.
 */
static bool queued[2][3];
static const struct mig_objects *queue_of;

static void
mig_enqueue(void *data, const char *key)
{
    static const char *const kinds[] = {"migration", "vm", "volume"};
    int node = data == &env_b ? 0 : 1;
    char want[96];

    if (!queue_of)
        return;
    for (int k = MIG; k <= VOL; k++) {
        snprintf(want, sizeof(want), "default/%s/%s", kinds[k],
                 k == MIG ? queue_of->mig : k == VM ? queue_of->vm : queue_of->vol);
        if (strcmp(key, want) == 0)
            queued[node][k] = true;
    }
}

/* The keys whose watches queue the move's objects, as the caches hold
 * them: the statuses of the Migration, the VM and the Volume, and the
 * VM's placement. */
struct mig_keys {
    char *text[4];
};

static void
mig_keys_read(const struct mig_objects *o, struct mig_keys *k)
{
    const char *const spaces[4] = {"status/default/migration/", "status/default/vm/",
                                   "status/default/volume/", "placement/default/"};
    const char *const names[4] = {o->mig, o->vm, o->vol, o->vm};
    char key[256];
    int64_t rev;

    for (int i = 0; i < 4; i++) {
        snprintf(key, sizeof(key), "%s%s%s", prefix, spaces[i], names[i]);
        if (nc_informer_get(i == 3 ? env.placements : env.statuses, key, &k->text[i], &rev) < 0)
            k->text[i] = NULL;
    }
}

static bool
mig_key_changed(const struct mig_keys *a, const struct mig_keys *b, int i)
{
    return !a->text[i] != !b->text[i] || (a->text[i] && strcmp(a->text[i], b->text[i]) != 0);
}

/* Node @writer wrote what changed from @before to @after: the other
 * node's watch queues what it queues. */
static void
mig_watch(int writer, const struct mig_keys *before, const struct mig_keys *after)
{
    int other = !writer;

    if (mig_key_changed(before, after, MIG))
        queued[other][MIG] = queued[other][VM] = true;
    if (mig_key_changed(before, after, VM) || mig_key_changed(before, after, 3))
        queued[other][VM] = true;
    if (mig_key_changed(before, after, VOL)) {
        cJSON *st = cJSON_Parse(after->text[VOL] ? after->text[VOL] : "null");
        const char *at = str(st, "node", NULL);

        if (!at || strcmp(at, other ? "node-a" : "node-b") == 0)
            queued[other][VOL] = true;
        cJSON_Delete(st);
    }
}

static void
mig_keys_clear(struct mig_keys *k)
{
    for (int i = 0; i < 4; i++)
        free(k->text[i]);
}

/*
 * One round: each object on node-b, then on node-a, and what the watches
 * bring after each; with @all every one, else only those queued. Returns
 * how many were reconciled. With @seen: the first reconcile in which the
 * armed fault struck, whose failure must show there (@shown): a retry
 * (the reconcile returned it) with Ready=False or a Warning event naming
 * it; for a Migration, also its end (Failed, the reason in Ready) or a
 * warning it went on after. An etcd request's failure is a retry, or a
 * report it did not need.
 */
static unsigned
mig_round(const struct mig_objects *o, bool all, char *seen, size_t seensz, bool *shown)
{
    static const char *const kinds[] = {"migration", "vm", "volume"};
    struct nc_ctx *nodes[2] = {&ctx_b, &ctx};
    unsigned done = 0;

    queue_of = o;
    for (unsigned k = 0; k < 2 * o->n_kinds; k++) {
        int node = k % 2, kind = k / 2;
        const char *name = kind == MIG ? o->mig : kind == VM ? o->vm : o->vol;
        const struct nc_reconciler *rc = kind == MIG  ? &nc_migration_reconciler
                                         : kind == VM ? &nc_vm_reconciler
                                                      : &nc_volume_reconciler;
        int64_t requeue = 0;
        struct mig_keys before, after;
        int r;

        if (!all && !queued[node][kind])
            continue;
        queued[node][kind] = false;
        mig_keys_read(o, &before);
        r = rc->reconcile(nodes[node], "default", name, &requeue);
        done++;
        refresh(o->vm, o->mig);
        mig_keys_read(o, &after);
        if (r < 0 || requeue > 0)
            queued[node][kind] = true;
        mig_watch(node, &before, &after);
        mig_keys_clear(&before);
        mig_keys_clear(&after);
        if (seen && sweep.failed[0] && !seen[0]) {
            snprintf(seen, seensz, "%s", sweep.failed);
            *shown = strncmp(seen, "etcd.", 5) == 0 ||
                     (kind == MIG ? said_failure(kinds[kind], name)
                                  : shows_failure(kinds[kind], name, r));
        }
    }
    queue_of = NULL;
    return done;
}

/* Rounds of what is queued until nothing is, or the move ends when
 * @until_ended (@phase, its phase then); at most 12. */
static void
mig_settle(const struct mig_objects *o, bool until_ended, char *phase, size_t phasesz)
{
    for (int i = 0; i < 12; i++) {
        mig_phase(o->mig, phase, phasesz);
        if (until_ended && mig_ended(phase))
            return;
        if (mig_round(o, false, NULL, 0, NULL) == 0)
            return;
    }
    mig_phase(o->mig, phase, phasesz);
}

/*
 * The sweep of a move from node-a to node-b of a running VM: live
 * (@c->change 0), cold with a node-local Volume whose content must
 * arrive (1), or live and cancelled (2: its spec deleted once the leader
 * scheduled it, the VM staying on node-a). The n-th driver call of the
 * reconciles of both nodes (the Migration's, the VM's, the Volume's)
 * fails, from the leader's Scheduling until the move ends; the failure
 * must show where it struck (mig_round()). Once the faults stop, through
 * what the nodes' queues hold alone (queued[]), the move ends (Succeeded,
 * or Failed or Cancelled with the guest on node-a), exactly one domain
 * runs, and one volume is left, both on the node the VM's placement and
 * statuses name.
 */
static void
sweep_mig_one(const struct sweep_case *c, unsigned n, bool *ret_hit)
{
    bool cold = c->change == 1;
    struct mig_objects o = {.n_kinds = cold ? 3 : 2};
    char key[256], doc[512], phase[32] = "", seen[48] = "", volname[NC_DOMAIN_NAME_MAX] = "";
    struct nc_ctx *at;
    int64_t gen, rev;
    bool shown = true;
    cJSON *st;

    snprintf(o.vm, sizeof(o.vm), "mv%u-%u", c->change, n);
    snprintf(o.vol, sizeof(o.vol), "v-%s", o.vm);
    snprintf(o.mig, sizeof(o.mig), "%s-to-b", o.vm);
    /* Before: the VM runs on node-a, where the scheduler placed it; a
     * cold one with a disk that holds something. */
    node_registered("node-a", true);
    node_registered("node-b", true);
    snprintf(key, sizeof(key), "%splacement/default/%s", prefix, o.vm);
    cr_assert_eq(nc_etcd_put(test_etcd, key, "node-a", 0, &rev), 0);
    nc_informer_store(env.placements, key, "node-a", rev);
    snprintf(key, sizeof(key), "%sstatus/default/vm/%s", prefix, o.vm);
    nc_informer_store(env.statuses, key, NULL, rev);
    if (cold) {
        put_kind("volume", o.vol, "{\"size\":\"64MiB\"}");
        snprintf(doc, sizeof(doc),
                 "{\"vcpus\":1,\"memory\":\"64MiB\",\"disks\":[{\"name\":\"root\",\"volume\":"
                 "\"%s\"}]}",
                 o.vol);
        put_spec(o.vm, doc);
    } else {
        put_spec(o.vm, "{\"vcpus\":1,\"memory\":\"64MiB\"}");
    }
    converge("vm", o.vm, "Running");
    if (cold) {
        st = status_of("volume", o.vol);
        snprintf(volname, sizeof(volname), "%s", str(st, "volume", NULL));
        cJSON_Delete(st);
        cr_assert_eq(fake_st_content(env.st, "default", volname, 42), 42u);
    }
    /* The change: the Migration, which the leader scheduled. */
    snprintf(doc, sizeof(doc), "{\"vm\":\"%s\",\"targetNode\":\"node-b\",\"mode\":\"%s\"}", o.vm,
             cold ? "cold" : "live");
    gen = put_kind("migration", o.mig, doc);
    snprintf(doc, sizeof(doc),
             "{\"observedGeneration\":%" PRId64 ",\"phase\":\"Scheduling\",\"vm\":\"%s\","
             "\"mode\":\"%s\",\"sourceNode\":\"node-a\",\"targetNode\":\"node-b\","
             "\"conditions\":[]}",
             gen, o.vm, cold ? "cold" : "live");
    snprintf(key, sizeof(key), "%sstatus/default/migration/%s", prefix, o.mig);
    cr_assert_eq(nc_etcd_put(test_etcd, key, doc, 0, &rev), 0);
    if (c->change == 2)
        delete_kind("migration", o.mig);
    refresh(o.vm, o.mig);
    memset(queued, 0, sizeof(queued));
    fake_sweep_arm(&sweep, n, -EIO);
    for (int i = 0; i < 12 && !mig_ended(phase); i++) {
        mig_round(&o, true, seen, sizeof(seen), &shown);
        mig_phase(o.mig, phase, sizeof(phase));
    }
    *ret_hit = fake_sweep_disarm(&sweep);
    cr_assert(shown, "%s: a failure of call %u (%s) left no trace", c->what, n, seen);
    /* Once the faults stop, through what is queued alone: it ends, and
     * settles. */
    mig_settle(&o, true, phase, sizeof(phase));
    cr_assert(mig_ended(phase),
              "%s: Migration %s is %s, with nothing queued to end it, once the faults "
              "stopped after call %u (%s) failed",
              c->what, o.mig, phase, n, seen);
    mig_settle(&o, false, phase, sizeof(phase));
    cr_assert(c->change != 2 || !strcmp(phase, "Cancelled"), "%s: %s after call %u (%s) failed",
              c->what, phase, n, seen);
    at = strcmp(phase, "Succeeded") == 0 ? &ctx_b : &ctx;
    {
        char dom[NC_DOMAIN_NAME_MAX];
        struct nc_dominfo info;

        cr_assert_eq(fake_hv_count(env.hv) + fake_hv_count(env_b.hv), 1u,
                     "%s: %zu + %zu domains after call %u (%s) failed", c->what,
                     fake_hv_count(env.hv), fake_hv_count(env_b.hv), n, seen);
        domain_name(o.vm, dom);
        cr_assert_eq(nc_hv_lookup(at->env->hv, dom, &info), 0, "%s: not on %s after call %u",
                     c->what, at->env->node, n);
        cr_assert_eq(info.state, NC_DOM_RUNNING);
        st = status(o.vm);
        cr_assert_str_eq(str(st, "node", NULL), at->env->node, "%s: status %s after call %u",
                         c->what, str(st, "node", NULL), n);
        cr_assert_str_eq(str(st, "phase", NULL), "Running");
        cJSON_Delete(st);
    }
    if (cold) {
        cr_assert_eq(fake_st_count(env.st) + fake_st_count(env_b.st), 1u,
                     "%s: %zu + %zu volumes after call %u (%s) failed", c->what,
                     fake_st_count(env.st), fake_st_count(env_b.st), n, seen);
        cr_assert_eq(fake_st_content(at->env->st, "default", volname, 0), 42u,
                     "%s: the disk on %s lost its content after call %u (%s) failed", c->what,
                     at->env->node, n, seen);
        st = status_of("volume", o.vol);
        cr_assert_str_eq(str(st, "node", NULL), at->env->node);
        cJSON_Delete(st);
    }
    /* Gone: the Migration (the leader deletes the status of an ended
     * one), then the VM and its Volume. */
    if (c->change != 2)
        delete_kind("migration", o.mig);
    cr_assert_eq(nc_etcd_delete(test_etcd, key, false, &rev), 0);
    delete_spec(o.vm);
    if (cold)
        delete_kind("volume", o.vol);
    refresh(o.vm, o.mig);
    for (int node = 0; node < 2; node++)
        queued[node][MIG] = queued[node][VM] = queued[node][VOL] = true;
    mig_settle(&o, false, phase, sizeof(phase));
    cr_assert_eq(fake_hv_count(env.hv) + fake_hv_count(env_b.hv), 0u,
                 "%s: a domain left after call %u failed", c->what, n);
    cr_assert_eq(fake_st_count(env.st) + fake_st_count(env_b.st), 0u,
                 "%s: a volume left after call %u failed", c->what, n);
    snprintf(key, sizeof(key), "%splacement/default/%s", prefix, o.vm);
    cr_assert_eq(nc_etcd_delete(test_etcd, key, false, &rev), 0);
    refresh(o.vm, o.mig);
    node_registered("node-a", false);
    node_registered("node-b", false);
}

Test(reconcilers, a_failure_at_every_driver_call_shows_and_converges)
{
    static const struct sweep_case cases[] = {
        {"a VM made", "vm", 0},      {"a VM changed", "vm", 1},
        {"a VM deleted", "vm", 2},   {"a Volume made", "volume", 0},
        {"a Volume grown", "volume", 1}, {"a Volume deleted", "volume", 2},
        {"a Network made", "network", 0}, {"a Network's MTU changed", "network", 1},
        {"a Network deleted", "network", 2}, {"a container made", "container", 0},
        {"a container's environment changed", "container", 1},
        {"a container deleted", "container", 2}, {"a process made", "process", 0},
        {"a process's environment changed", "process", 1},
        {"a process deleted", "process", 2}, {"a Snapshot taken", "snapshot", 0},
        {"a Snapshot deleted", "snapshot", 2}, {"a VM restored", "restore", 0},
        {"a VM moved live", "migration", 0}, {"a VM and its disk moved cold", "migration", 1},
        {"a live move cancelled", "migration", 2},
    };
    unsigned failed = 0;

    node_b_up();
    fake_sweep_init(&sweep);
    fake_hv_sweep(env.hv, &sweep, "hv");
    fake_hv_sweep(env_b.hv, &sweep, "hv");
    fake_hv_sweep(env.container_hv, &sweep, "ctr");
    fake_hv_sweep(env.process_hv, &sweep, "proc");
    fake_st_sweep(env_b.st, &sweep);
    fake_st_sweep(env.st, &sweep);
    fake_ov_sweep(ctx.ov, &sweep);
    fake_dhcp_sweep(env.dhcp, &sweep);
    fake_fw_sweep(env.fw, &sweep);
    conf.inject_fault = fake_sweep_etcd;
    conf.fault_data = &sweep;
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        bool hit = true;

        for (unsigned n = 1; hit && n < 100; n++) {
            char name[32];

            if (strcmp(cases[c].kind, "migration") == 0)
                sweep_mig_one(&cases[c], n, &hit);
            else if (strcmp(cases[c].kind, "snapshot") == 0 || strcmp(cases[c].kind, "restore") == 0)
                sweep_snap_one(&cases[c], n, &hit);
            else
                sweep_one(&cases[c], n, name, sizeof(name), &hit);
            failed += hit;
        }
        cr_assert_not(hit, "%s: still failing calls after 99", cases[c].what);
    }
    printf("fault sweep: %u driver calls failed in turn over %zu changes, %u distinct call "
           "sites:", failed, sizeof(cases) / sizeof(cases[0]), sweep.n_sites);
    for (unsigned i = 0; i < sweep.n_sites; i++)
        printf(" %s", sweep.sites[i]);
    printf("\n");
    fake_hv_sweep(env.hv, NULL, "hv");
    fake_hv_sweep(env_b.hv, NULL, "hv");
    fake_hv_sweep(env.container_hv, NULL, "ctr");
    fake_hv_sweep(env.process_hv, NULL, "proc");
    fake_st_sweep(env_b.st, NULL);
    fake_st_sweep(env.st, NULL);
    fake_ov_sweep(ctx.ov, NULL);
    fake_dhcp_sweep(env.dhcp, NULL);
    fake_fw_sweep(env.fw, NULL);
    conf.inject_fault = NULL;
    fake_sweep_fini(&sweep);
    node_b_down();
}
