/*
 * The overlay driver between two network namespaces joined by a veth pair
 * (tests/integration/test_overlay.sh makes them and names them in
 * NC_TEST_NS_A and NC_TEST_NS_B). What the driver did is checked with
 * iproute2 and ping, not with the driver.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/overlay.h"

#define ALIAS "novacron:test/ov:default/net-a"

static const char *ns_a, *ns_b;

static void
setup(void)
{
    ns_a = getenv("NC_TEST_NS_A");
    ns_b = getenv("NC_TEST_NS_B");
    cr_assert(ns_a && ns_b, "run by tests/integration/test_overlay.sh");
}

/* Runs a shell command; returns its exit status and its output in @out. */
static int
run(char *out, size_t outsz, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int
run(char *out, size_t outsz, const char *fmt, ...)
{
    char cmd[1024];
    va_list ap;
    FILE *p;
    size_t n = 0;

    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    p = popen(cmd, "r");
    cr_assert_not_null(p);
    if (out) {
        n = fread(out, 1, outsz - 1, p);
        out[n] = '\0';
    } else {
        char sink[256];

        while (fread(sink, 1, sizeof(sink), p) > 0)
            ;
    }
    return WEXITSTATUS(pclose(p));
}

static struct nc_overlay_net
net_on(const char *local, const char *peer, const char *cidr)
{
    static const char *peers_a[1], *peers_b[1];
    const char **peers = strcmp(local, "192.168.213.1") == 0 ? peers_a : peers_b;

    peers[0] = peer;
    return (struct nc_overlay_net){
        .bridge = "ncbtest0", .vxlan = "ncxtest0", .alias = ALIAS, .vni = 4242, .mtu = 1450,
        .underlay = "nc-veth", .local_ip = local, .bridge_cidr = cidr,
        .peers = peers, .n_peers = peer ? 1 : 0,
    };
}

Test(overlay, two_hosts_over_vxlan, .init = setup)
{
    struct nc_overlay *a, *b;
    struct nc_overlay_net na = net_on("192.168.213.1", "192.168.213.2", "10.213.0.1/24");
    struct nc_overlay_net nb = net_on("192.168.213.2", "192.168.213.1", "10.213.0.2/24");
    char out[4096], ip[16];

    cr_assert_eq(nc_overlay_open(ns_a, &a), 0, "%s", nc_drv_errmsg());
    cr_assert_eq(nc_overlay_open(ns_b, &b), 0, "%s", nc_drv_errmsg());
    cr_assert_eq(nc_overlay_ipv4_of(a, "nc-veth", ip), 0, "%s", nc_drv_errmsg());
    cr_assert_str_eq(ip, "192.168.213.1");

    cr_assert_eq(nc_overlay_ensure(a, &na), 0, "%s", nc_drv_errmsg());
    cr_assert_eq(nc_overlay_ensure(b, &nb), 0, "%s", nc_drv_errmsg());
    /* A second pass changes nothing and adds no duplicate. */
    cr_assert_eq(nc_overlay_ensure(a, &na), 0, "%s", nc_drv_errmsg());

    cr_assert_eq(run(out, sizeof(out), "ip -n %s -d link show ncxtest0", ns_a), 0);
    cr_assert(strstr(out, "vxlan id 4242") && strstr(out, "local 192.168.213.1") &&
                  strstr(out, "dev nc-veth") && strstr(out, "dstport 4789") &&
                  strstr(out, "master ncbtest0") && strstr(out, "mtu 1450") &&
                  strstr(out, "nolearning") && strstr(out, "alias " ALIAS),
              "%s", out);
    cr_assert_eq(run(out, sizeof(out), "ip -n %s addr show ncbtest0", ns_a), 0);
    cr_assert(strstr(out, "inet 10.213.0.1/24") && strstr(out, "state UP"), "%s", out);
    cr_assert_eq(run(out, sizeof(out), "bridge -n %s fdb show dev ncxtest0 | grep -c 'dst '", ns_a),
                 0);
    cr_assert_str_eq(out, "1\n", "one forwarding entry per peer");
    cr_assert_eq(run(out, sizeof(out), "bridge -n %s fdb show dev ncxtest0", ns_a), 0);
    cr_assert(strstr(out, "00:00:00:00:00:00 dst 192.168.213.2 self permanent"), "%s", out);

    /* Traffic crosses: bridge to bridge over the VXLAN. */
    cr_assert_eq(run(NULL, 0, "ip netns exec %s ping -c 2 -W 2 -q 10.213.0.2", ns_a), 0,
                 "no ping from %s's bridge to %s's", ns_a, ns_b);

    /* The peer goes: its entry goes, and so does the traffic. */
    na.n_peers = 0;
    cr_assert_eq(nc_overlay_ensure(a, &na), 0, "%s", nc_drv_errmsg());
    cr_assert_eq(run(out, sizeof(out), "bridge -n %s fdb show dev ncxtest0 | grep -c 'dst ' || true",
                     ns_a),
                 0);
    cr_assert_str_eq(out, "0\n");
    cr_assert_neq(run(NULL, 0, "ip netns exec %s ping -c 1 -W 1 -q 10.213.0.2", ns_a), 0);

    /* A new VNI remakes the VXLAN device. */
    na.vni = 4243;
    cr_assert_eq(nc_overlay_ensure(a, &na), 0, "%s", nc_drv_errmsg());
    cr_assert_eq(run(out, sizeof(out), "ip -n %s -d link show ncxtest0", ns_a), 0);
    cr_assert(strstr(out, "vxlan id 4243"), "%s", out);

    cr_assert_eq(nc_overlay_remove(a, "ncxtest0", ALIAS), 0, "%s", nc_drv_errmsg());
    cr_assert_eq(nc_overlay_remove(a, "ncbtest0", ALIAS), 0, "%s", nc_drv_errmsg());
    cr_assert_eq(nc_overlay_remove(a, "ncbtest0", ALIAS), 0, "removing what is gone is fine");
    cr_assert_neq(run(NULL, 0, "ip -n %s link show ncbtest0 2>/dev/null", ns_a), 0);
    cr_assert_eq(nc_overlay_remove(b, "ncxtest0", ALIAS), 0);
    cr_assert_eq(nc_overlay_remove(b, "ncbtest0", ALIAS), 0);
    nc_overlay_close(a);
    nc_overlay_close(b);
}

static void
count(const char *name, const char *alias, void *data)
{
    (void)name;
    (void)alias;
    (*(int *)data)++;
}

Test(overlay, foreign_devices_are_left_alone, .init = setup)
{
    struct nc_overlay *a;
    struct nc_overlay_net na = net_on("192.168.213.1", NULL, NULL);
    char out[4096];
    int n = 0;

    cr_assert_eq(nc_overlay_open(ns_a, &a), 0, "%s", nc_drv_errmsg());
    /* Same name, no alias; then same name, another alias. */
    cr_assert_eq(run(NULL, 0, "ip -n %s link add ncbtest0 type bridge", ns_a), 0);
    cr_assert_eq(nc_overlay_ensure(a, &na), -EEXIST);
    cr_assert_eq(nc_overlay_remove(a, "ncbtest0", ALIAS), -EEXIST);
    cr_assert_eq(run(NULL, 0, "ip -n %s link set ncbtest0 alias 'novacron:other'", ns_a), 0);
    cr_assert_eq(nc_overlay_ensure(a, &na), -EEXIST);
    cr_assert_eq(run(out, sizeof(out), "ip -n %s link show ncbtest0", ns_a), 0);
    cr_assert(strstr(out, "alias novacron:other") && !strstr(out, "mtu 1450"), "touched: %s", out);
    cr_assert_eq(nc_overlay_list(a, ALIAS, count, &n), 0);
    cr_assert_eq(n, 0);
    cr_assert_eq(run(NULL, 0, "ip -n %s link del ncbtest0", ns_a), 0);

    /* Isolated: a bridge alone, listed by its alias. */
    na.vxlan = NULL;
    cr_assert_eq(nc_overlay_ensure(a, &na), 0, "%s", nc_drv_errmsg());
    cr_assert_eq(nc_overlay_list(a, "novacron:test/", count, &n), 0);
    cr_assert_eq(n, 1);
    cr_assert_neq(run(NULL, 0, "ip -n %s link show ncxtest0 2>/dev/null", ns_a), 0);
    cr_assert_eq(nc_overlay_remove(a, "ncbtest0", ALIAS), 0);
    nc_overlay_close(a);
}
