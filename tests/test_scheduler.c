/* The scheduler's decisions and the node inventory, without etcd. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "scheduler/scheduler.h"

#define GIB (1ULL << 30)
#define MIB (1ULL << 20)

static struct nc_sched_node nodes[8];
static const struct nc_sched_vm *placed[64];
static struct nc_sched sched;

/* Registers node @name as the daemon would, with @labels "k=v,k=v". */
static void
add_node_with(const char *name, unsigned vcpus, uint64_t memory, const char *labels,
              unsigned runtimes)
{
    struct nc_labels l = {0};
    struct nc_sched_pool pools[] = {{"default", false}, {"shared", true}};
    struct nc_inventory inv = {.name = name, .host_vcpus = vcpus, .host_memory = memory,
                               .cpu_ratio = 1.0, .memory_ratio = 1.0, .labels = &l,
                               .pools = pools, .n_pools = 2, .runtimes = runtimes};
    char buf[256], *save = NULL;
    cJSON *o = cJSON_CreateObject();
    char *json;

    snprintf(buf, sizeof(buf), "%s", labels);
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(t, '=');

        *eq = '\0';
        cr_assert_eq(nc_labels_set(&l, t, eq + 1), 0);
    }
    cr_assert_eq(nc_inventory_json(&inv, o), 0);
    json = cJSON_PrintUnformatted(o);
    cr_assert_eq(nc_sched_node_parse(name, json, &nodes[sched.n_nodes]), 0, "%s", json);
    sched.n_nodes++;
    free(json);
    cJSON_Delete(o);
    nc_labels_clear(&l);
}

static void
add_node(const char *name, unsigned vcpus, uint64_t memory, const char *labels)
{
    add_node_with(name, vcpus, memory, labels, 1u << NC_RUNTIME_VM);
}

static void
setup(void)
{
    memset(&sched, 0, sizeof(sched));
    sched.nodes = nodes;
    sched.vms = placed;
}

static void
teardown(void)
{
    for (unsigned i = 0; i < sched.n_nodes; i++)
        nc_sched_node_clear(&nodes[i]);
}

static struct nc_labels no_labels;

static struct nc_sched_vm
vm(const char *name, unsigned vcpus, uint64_t memory)
{
    return (struct nc_sched_vm){.ns = "default", .name = name, .vcpus = vcpus,
                                .memory = memory, .labels = &no_labels, .node = -1};
}

/* Places @v where the scheduler says, as the leader would; returns the
 * node's name, or NULL with @why. */
static const char *
place(struct nc_sched_vm *v, char *why, size_t whysz)
{
    int i = nc_sched_pick(&sched, v, why, whysz);

    if (i < 0)
        return NULL;
    v->node = i;
    nc_sched_account(&sched, v, i, 1);
    nc_sched_add(&sched, v);
    return nodes[i].name;
}

TestSuite(scheduler, .init = setup, .fini = teardown);

Test(scheduler, inventory_round_trip_and_garbage)
{
    struct nc_sched_node n;

    add_node("node-a", 16, 3 * GIB, "zone=a");
    cr_assert_eq(nodes[0].vcpus, 16);
    cr_assert_eq(nodes[0].memory, 3 * GIB);
    cr_assert_str_eq(nc_labels_get(&nodes[0].labels, "zone"), "a");
    cr_assert_str_eq(nc_labels_get(&nodes[0].labels, NC_LABEL_NODE), "node-a");
    cr_assert(nc_sched_node_pool(&nodes[0], "shared")->shared);
    cr_assert_not(nc_sched_node_pool(&nodes[0], "default")->shared);
    cr_assert_null(nc_sched_node_pool(&nodes[0], "other"));
    cr_assert_eq(nc_sched_node_parse("x", "{\"name\":\"x\"}", &n), -EINVAL,
                 "a registration without inventory is no candidate");
    cr_assert_eq(nc_sched_node_parse("x", "not json", &n), -EINVAL);
    cr_assert_eq(nc_sched_node_parse("x",
                                     "{\"allocatable\":{\"vcpus\":-1,\"memory\":1},"
                                     "\"overcommit\":{\"cpu\":1,\"memory\":1}}",
                                     &n),
                 -EINVAL);
}

Test(scheduler, reserves_are_taken_off)
{
    struct nc_labels l = {0};
    struct nc_inventory inv = {.name = "n", .host_vcpus = 4, .host_memory = 4 * GIB,
                               .reserve_vcpus = 1, .reserve_memory = GIB, .cpu_ratio = 4,
                               .memory_ratio = 1.5, .labels = &l};
    cJSON *o = cJSON_CreateObject();
    char *json;
    struct nc_sched_node n;

    cr_assert_eq(nc_inventory_json(&inv, o), 0);
    json = cJSON_PrintUnformatted(o);
    cr_assert_eq(nc_sched_node_parse("n", json, &n), 0);
    cr_assert_eq(n.vcpus, 3);
    cr_assert_eq(n.memory, 3 * GIB);
    cr_assert_eq(nc_sched_node_cpu_limit(&n), 12, "3 vCPUs x 4");
    cr_assert_eq(nc_sched_node_memory_limit(&n), 9 * GIB / 2, "3 GiB x 1.5");
    nc_sched_node_clear(&n);
    free(json);
    cJSON_Delete(o);
}

Test(scheduler, capacity_filters_and_the_reason_per_node)
{
    struct nc_sched_vm big = vm("big", 1, 4 * GIB), huge = vm("huge", 1, 16 * GIB);
    struct nc_sched_vm wide = vm("wide", 9, MIB * 64);
    char why[256] = "";

    add_node("node-a", 8, 3 * GIB, "");
    add_node("node-b", 8, 6 * GIB, "");
    cr_assert_str_eq(place(&big, why, sizeof(why)), "node-b", "too big for node-a");
    cr_assert_null(place(&huge, why, sizeof(why)));
    cr_assert_str_eq(why, "0/2 nodes: 2 insufficient memory");
    cr_assert_null(place(&wide, why, sizeof(why)));
    cr_assert_str_eq(why, "0/2 nodes: 2 insufficient cpu");
    nodes[0].cordoned = true;
    cr_assert_null(place(&huge, why, sizeof(why)));
    cr_assert_str_eq(why, "0/2 nodes: 1 cordoned, 1 insufficient memory");
}

Test(scheduler, nothing_registered)
{
    struct nc_sched_vm a = vm("a", 1, MIB * 64);
    char why[64];

    cr_assert_null(place(&a, why, sizeof(why)));
    cr_assert_str_eq(why, "0/0 nodes: none registered");
}

Test(scheduler, never_overcommits)
{
    struct nc_sched_vm vms[40];
    char why[128];
    unsigned n = 0;

    add_node("node-a", 2, GIB, "");
    add_node("node-b", 2, GIB, "");
    nodes[0].cpu_ratio = 4; /* 8 vCPUs fit on node-a, 2 on node-b */
    for (unsigned i = 0; i < 40; i++) {
        vms[i] = vm("v", 1, MIB * 100);
        n += place(&vms[i], why, sizeof(why)) != NULL;
    }
    cr_assert_eq(n, 10, "8 on node-a by CPU, 2 on node-b, then nothing: %u", n);
    cr_assert_eq(nodes[0].used_vcpus, 8);
    cr_assert_eq(nodes[1].used_vcpus, 2);
    cr_assert_str_eq(why, "0/2 nodes: 2 insufficient cpu");
}

Test(scheduler, spread_and_pack_policies)
{
    struct nc_sched_vm vms[6];
    char why[64];

    add_node("node-a", 8, 8 * GIB, "");
    add_node("node-b", 8, 8 * GIB, "");
    add_node("node-c", 8, 8 * GIB, "");
    for (unsigned i = 0; i < 6; i++) {
        vms[i] = vm("v", 1, GIB);
        cr_assert_not_null(place(&vms[i], why, sizeof(why)));
    }
    for (unsigned i = 0; i < 3; i++)
        cr_assert_eq(nodes[i].n_vms, 2, "spread: 2 on each, node %u has %u", i, nodes[i].n_vms);

    teardown();
    setup();
    sched.policy = NC_SCHED_PACK;
    add_node("node-a", 8, 8 * GIB, "");
    add_node("node-b", 8, 8 * GIB, "");
    for (unsigned i = 0; i < 6; i++) {
        vms[i] = vm("v", 1, GIB);
        place(&vms[i], why, sizeof(why));
    }
    cr_assert(nodes[0].n_vms == 6 || nodes[1].n_vms == 6, "pack: all on one node");
}

Test(scheduler, node_selector)
{
    struct nc_vm_placement p = {0};
    struct nc_sched_vm v = vm("v", 1, GIB);
    char why[128];

    add_node("node-a", 8, 8 * GIB, "zone=a,disk=ssd");
    add_node("node-b", 8, 8 * GIB, "zone=b");
    cr_assert_eq(nc_labels_set(&p.node_selector, "zone", "b"), 0);
    v.placement = &p;
    cr_assert_str_eq(place(&v, why, sizeof(why)), "node-b");
    cr_assert_eq(nc_labels_set(&p.node_selector, "disk", "ssd"), 0);
    v.node = -1;
    cr_assert_null(place(&v, why, sizeof(why)));
    cr_assert_str_eq(why, "0/2 nodes: 2 not matching nodeSelector");
    nc_labels_clear(&p.node_selector);
}

/* VMs labelled app=web that must not share a node (hard), across 3 nodes. */
Test(scheduler, hard_anti_affinity_both_ways)
{
    struct nc_labels web = {0};
    struct nc_vm_placement p = {0};
    struct nc_sched_vm vms[4], plain;
    char why[128];

    cr_assert_eq(nc_labels_set(&web, "app", "web"), 0);
    cr_assert_eq(nc_labels_from_json(NULL, &p.anti[0].match), 0);
    cr_assert_eq(nc_labels_set(&p.anti[0].match, "app", "web"), 0);
    snprintf(p.anti[0].topology, sizeof(p.anti[0].topology), "%s", NC_LABEL_NODE);
    p.anti[0].required = true;
    p.n_anti = 1;
    for (int i = 0; i < 3; i++)
        add_node((const char *[]){"node-a", "node-b", "node-c"}[i], 8, 8 * GIB, "");
    for (unsigned i = 0; i < 4; i++) {
        vms[i] = vm("web", 1, GIB);
        vms[i].labels = &web;
        vms[i].placement = &p;
    }
    for (unsigned i = 0; i < 3; i++)
        cr_assert_not_null(place(&vms[i], why, sizeof(why)));
    cr_assert(vms[0].node != vms[1].node && vms[1].node != vms[2].node &&
              vms[0].node != vms[2].node);
    cr_assert_null(place(&vms[3], why, sizeof(why)));
    cr_assert_str_eq(why, "0/3 nodes: 3 anti-affinity");

    /* A web VM without the rule is still kept off by the others' rule. */
    plain = vm("web-plain", 1, GIB);
    plain.labels = &web;
    cr_assert_null(place(&plain, why, sizeof(why)));
    /* Another namespace is not counted. */
    vms[3].ns = "other";
    cr_assert_not_null(place(&vms[3], why, sizeof(why)));
    nc_labels_clear(&web);
    nc_labels_clear(&p.anti[0].match);
}

Test(scheduler, soft_anti_affinity_prefers_but_does_not_refuse)
{
    struct nc_labels db = {0};
    struct nc_vm_placement p = {0};
    struct nc_sched_vm vms[3];
    char why[64];

    cr_assert_eq(nc_labels_set(&db, "app", "db"), 0);
    cr_assert_eq(nc_labels_set(&p.anti[0].match, "app", "db"), 0);
    snprintf(p.anti[0].topology, sizeof(p.anti[0].topology), "%s", NC_LABEL_NODE);
    p.n_anti = 1;
    add_node("node-a", 8, 8 * GIB, "");
    add_node("node-b", 8, 1 * GIB + 512 * MIB, "");
    sched.policy = NC_SCHED_PACK; /* would put both on one node */
    for (unsigned i = 0; i < 3; i++) {
        vms[i] = vm("db", 1, GIB / 2);
        vms[i].labels = &db;
        vms[i].placement = &p;
        cr_assert_not_null(place(&vms[i], why, sizeof(why)), "%s", why);
    }
    cr_assert_neq(vms[0].node, vms[1].node, "the second avoids the first");
    nc_labels_clear(&db);
    nc_labels_clear(&p.anti[0].match);
}

Test(scheduler, spread_over_zones)
{
    struct nc_labels web = {0};
    struct nc_vm_placement p = {0};
    struct nc_sched_vm vms[6];
    unsigned zone_a = 0;
    char why[64];

    cr_assert_eq(nc_labels_set(&web, "app", "web"), 0);
    cr_assert_eq(nc_labels_set(&p.spread_match, "app", "web"), 0);
    snprintf(p.spread_key, sizeof(p.spread_key), "zone");
    /* Zone a has three nodes, zone b one: least-allocated alone would put
     * three of four VMs in zone a. */
    add_node("a-1", 8, 8 * GIB, "zone=a");
    add_node("a-2", 8, 8 * GIB, "zone=a");
    add_node("a-3", 8, 8 * GIB, "zone=a");
    add_node("b-1", 8, 8 * GIB, "zone=b");
    for (unsigned i = 0; i < 6; i++) {
        vms[i] = vm("web", 1, GIB);
        vms[i].labels = &web;
        vms[i].placement = &p;
        cr_assert_not_null(place(&vms[i], why, sizeof(why)));
        zone_a += vms[i].node < 3;
    }
    cr_assert_eq(zone_a, 3, "3 of 6 in zone a, got %u", zone_a);
    nc_labels_clear(&web);
    nc_labels_clear(&p.spread_match);
}

Test(scheduler, volumes_pin_and_pools_filter)
{
    const char *local[] = {"default"}, *other[] = {"fast"};
    struct nc_sched_vm v = vm("v", 1, GIB), w = vm("w", 1, GIB);
    char why[128];

    add_node("node-a", 8, 8 * GIB, "");
    add_node("node-b", 8, 8 * GIB, "");
    v.pin = "node-b";
    v.pools = local;
    v.n_pools = 1;
    cr_assert_str_eq(place(&v, why, sizeof(why)), "node-b");
    w.pools = other;
    w.n_pools = 1;
    cr_assert_null(place(&w, why, sizeof(why)));
    cr_assert_str_eq(why, "0/2 nodes: 2 without its storage pool");
    w.pools = local;
    w.pin = "node-gone";
    cr_assert_null(place(&w, why, sizeof(why)));
    cr_assert_str_eq(why, "0/2 nodes: 2 not where its volumes are");
}

Test(scheduler, runtimes_filter)
{
    struct nc_sched_vm g = vm("g", 1, GIB), p = vm("p", 1, GIB), c = vm("c", 1, GIB);
    char why[128];

    add_node("node-a", 8, 8 * GIB, "");
    add_node_with("node-b", 8, 8 * GIB, "", 1u << NC_RUNTIME_VM | 1u << NC_RUNTIME_PROCESS);
    p.runtime = NC_RUNTIME_PROCESS;
    c.runtime = NC_RUNTIME_CONTAINER;
    cr_assert(nodes[1].runtimes & (1u << NC_RUNTIME_PROCESS), "the registration carries them");
    cr_assert_str_eq(place(&p, why, sizeof(why)), "node-b");
    cr_assert_null(place(&c, why, sizeof(why)));
    cr_assert_str_eq(why, "0/2 nodes: 2 without its runtime");
    /* Guests go anywhere; a registration without runtimes runs guests. */
    cr_assert_not_null(place(&g, why, sizeof(why)));
    struct nc_sched_node old;
    cr_assert_eq(nc_sched_node_parse("x",
                                     "{\"allocatable\":{\"vcpus\":1,\"memory\":1},"
                                     "\"overcommit\":{\"cpu\":1,\"memory\":1}}",
                                     &old),
                 0);
    cr_assert_eq(old.runtimes, 1u << NC_RUNTIME_VM);
    nc_sched_node_clear(&old);
}

Test(scheduler, migration_target)
{
    struct nc_sched_vm a = vm("a", 1, 1 * GIB);
    char why[256];

    add_node("n1", 4, 8 * GIB, "");
    add_node("n2", 4, 2 * GIB, "");
    add_node("n3", 4, 4 * GIB, "");
    cr_assert_str_eq(place(&a, why, sizeof(why)), "n1");
    /* A move never stays where it runs, and goes where there is room. */
    a.avoid = "n1";
    cr_assert_str_eq(nodes[nc_sched_pick(&sched, &a, why, sizeof(why))].name, "n3");
    /* Only the node asked for, with the reason when it cannot. */
    a.only = "n2";
    a.memory = 3 * GIB;
    cr_assert_eq(nc_sched_pick(&sched, &a, why, sizeof(why)), -1);
    cr_assert_str_eq(why, "0/3 nodes: 1 where it runs now, 1 not the targetNode, 1 insufficient memory");
    a.only = "n1";
    cr_assert_eq(nc_sched_pick(&sched, &a, why, sizeof(why)), -1);
    cr_assert_str_eq(why, "0/3 nodes: 2 not the targetNode, 1 where it runs now");
}

/* spec.resources.pinning: the CPUs a VM pins are its own. They must exist
 * on the node, no other VM may pin them, and they leave the node's shared
 * (overcommitted) vCPUs; removing the VM gives them back. */
Test(scheduler, pinned_cpus_are_dedicated)
{
    struct nc_cpuset c1, c3, c01, c9;
    unsigned n;
    struct nc_sched_vm p1 = vm("p1", 1, MIB * 64), p1b = vm("p1b", 1, MIB * 64);
    struct nc_sched_vm p9 = vm("p9", 1, MIB * 64), p01 = vm("p01", 2, MIB * 64);
    struct nc_sched_vm p3 = vm("p3", 1, MIB * 64), shared[8];
    char why[256] = "";
    unsigned placed_shared = 0;

    cr_assert(nc_cpuset_parse("1", &c1, &n) && n == 1);
    cr_assert(nc_cpuset_parse("3", &c3, &n) && n == 1);
    cr_assert(nc_cpuset_parse("0-1", &c01, &n) && n == 2);
    cr_assert(nc_cpuset_parse("9", &c9, &n) && n == 1);
    p1.pinning = p1b.pinning = &c1;
    p9.pinning = &c9;
    p01.pinning = &c01;
    p3.pinning = &c3;
    p1.n_pinned = p1b.n_pinned = p9.n_pinned = p3.n_pinned = 1;
    p01.n_pinned = 2;
    add_node("node-a", 4, GIB, "");
    nodes[0].cpu_ratio = 2; /* 8 shared vCPUs while nothing is pinned */

    cr_assert_str_eq(place(&p1, why, sizeof(why)), "node-a");
    cr_assert_eq(nodes[0].n_dedicated, 1);
    cr_assert_eq(nodes[0].used_vcpus, 0, "a pinned VM takes no shared vCPU");
    cr_assert_eq(nc_sched_node_cpu_limit(&nodes[0]), 6, "3 CPUs left to share, x2");
    cr_assert_null(place(&p1b, why, sizeof(why)));
    cr_assert_str_eq(why, "0/1 nodes: 1 its pinned CPUs dedicated to other VMs");
    cr_assert_null(place(&p01, why, sizeof(why)), "CPU 1 is p1's");
    cr_assert_null(place(&p9, why, sizeof(why)));
    cr_assert_str_eq(why, "0/1 nodes: 1 without the CPUs it pins");

    /* The shared vCPUs fill what is left: 3 CPUs x 2. */
    for (unsigned i = 0; i < 8; i++) {
        shared[i] = vm("s", 1, MIB * 16);
        placed_shared += place(&shared[i], why, sizeof(why)) != NULL;
    }
    cr_assert_eq(placed_shared, 6);
    /* Pinning CPU 3 now would leave 2 CPUs (4 vCPUs) for the 6 placed. */
    cr_assert_null(place(&p3, why, sizeof(why)));
    cr_assert_str_eq(why, "0/1 nodes: 1 insufficient cpu");

    nc_sched_account(&sched, &p1, 0, -1);
    cr_assert_eq(nodes[0].n_dedicated, 0);
    cr_assert_not(nc_cpuset_has(&nodes[0].dedicated, 1), "CPU 1 given back");
}

Test(scheduler, cpu_lists_parse_and_format)
{
    struct nc_cpuset s;
    unsigned n;
    char out[64];

    cr_assert(nc_cpuset_parse("7,0-2,5", &s, &n));
    cr_assert_eq(n, 5);
    nc_cpuset_format(&s, out, sizeof(out));
    cr_assert_str_eq(out, "0-2,5,7");
    cr_assert(nc_cpuset_parse("1023", &s, &n) && n == 1);
    static const char *const bad[] = {"",    ",",  "1,",   "-1", "1-", "2-1",
                                      "1,1", "0-1,1", "1024", "a", "1 ", " 1",
                                      "99999999999999999999"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_assert_not(nc_cpuset_parse(bad[i], &s, &n), "\"%s\" accepted", bad[i]);
}
