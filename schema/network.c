#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema/network.h"

const char *const nc_net_mode_names[] = {"overlay", "isolated", "vlan", NULL};

static const char *const spec_fields[] = {"cidr", "vni", "mtu", "mode", "vlan", "egress", NULL};
static const char *const egress_fields[] = {"nat", "via", NULL};

/* A network device's name as Linux takes it and as a rule can name it
 * unquoted: 1 to 15 of letters, digits, '_', '.' and '-', not "." or "..". */
static bool
is_ifname(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > 15 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
        return false;
    return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}

/* spec.egress: {nat?, via?}. */
static void
parse_egress(struct nc_verr *errs, const cJSON *spec, struct nc_network_spec *ret)
{
    const cJSON *eg = nc_v_object(errs, spec, "spec", "egress", false);
    const char *via;

    if (!eg)
        return;
    nc_v_known_fields(errs, eg, "spec.egress", egress_fields);
    ret->egress_nat = nc_v_bool(errs, eg, "spec.egress", "nat", false);
    if (!(via = nc_v_string(errs, eg, "spec.egress", "via", false, 64)))
        return;
    if (!is_ifname(via))
        nc_verr_add(errs, "spec.egress.via",
                    "must be a network interface name of the node (1 to 15 of letters, digits, "
                    "'_', '.' and '-')");
    else if (!ret->egress_nat)
        nc_verr_add(errs, "spec.egress.via", "says where NAT leaves the node: needs nat: true");
    else
        snprintf(ret->egress_via, sizeof(ret->egress_via), "%s", via);
}

const char *
nc_cidr_parse(const char *s, unsigned min, unsigned max, uint32_t *ret_network,
              unsigned *ret_prefix)
{
    const char *slash = strchr(s, '/');
    char addr[16];
    struct in_addr in;
    unsigned long p;
    char *end;
    uint32_t mask, net;

    if (!slash || (size_t)(slash - s) >= sizeof(addr))
        return "must be an IPv4 subnet such as \"10.0.0.0/24\"";
    memcpy(addr, s, (size_t)(slash - s));
    addr[slash - s] = '\0';
    if (inet_pton(AF_INET, addr, &in) != 1)
        return "must be an IPv4 subnet such as \"10.0.0.0/24\"";
    if (slash[1] < '0' || slash[1] > '9' || (slash[1] == '0' && slash[2]))
        return "must be an IPv4 subnet such as \"10.0.0.0/24\"";
    p = strtoul(slash + 1, &end, 10);
    if (*end)
        return "must be an IPv4 subnet such as \"10.0.0.0/24\"";
    if (p < min || p > max) {
        static _Thread_local char why[48];

        snprintf(why, sizeof(why), "must have a prefix length from /%u to /%u", min, max);
        return why;
    }
    net = ntohl(in.s_addr);
    mask = p ? (uint32_t)(0xffffffffULL << (32 - p)) : 0;
    if (net & ~mask)
        return "must not have host bits set (the subnet's first address, such as \"10.0.0.0/24\")";
    *ret_network = net;
    *ret_prefix = (unsigned)p;
    return NULL;
}

int
nc_network_spec_from_json(const cJSON *doc, const char *ns, const char *name,
                          struct nc_network_spec *ret, struct nc_verr *errs)
{
    size_t before = nc_verr_count(errs);
    const cJSON *spec = nc_v_envelope(errs, doc, NC_NETWORK_KIND, ns, name);
    const char *s, *why;
    char got[96];

    memset(ret, 0, sizeof(*ret));
    if (spec) {
        nc_v_known_fields(errs, spec, "spec", spec_fields);
        if ((s = nc_v_string(errs, spec, "spec", "cidr", true, sizeof(ret->cidr) - 1))) {
            why = nc_cidr_parse(s, NC_NETWORK_MIN_PREFIX, NC_NETWORK_MAX_PREFIX, &ret->network,
                                &ret->prefix);
            if (why)
                nc_verr_add(errs, "spec.cidr", "%s, got %s", why,
                            nc_json_brief(cJSON_GetObjectItemCaseSensitive(spec, "cidr"), got,
                                          sizeof(got)));
            else
                snprintf(ret->cidr, sizeof(ret->cidr), "%s", s);
        }
        ret->vni = (uint32_t)nc_v_int(errs, spec, "spec", "vni", false, 1, NC_NETWORK_MAX_VNI, 0);
        ret->mtu = (unsigned)nc_v_int(errs, spec, "spec", "mtu", false, NC_NETWORK_MIN_MTU,
                                      NC_NETWORK_MAX_MTU, NC_NETWORK_DEFAULT_MTU);
        ret->mode = nc_v_enum(errs, spec, "spec", "mode", nc_net_mode_names, NC_NET_OVERLAY);
        ret->vlan = (unsigned)nc_v_int(errs, spec, "spec", "vlan", ret->mode == NC_NET_VLAN, 1,
                                       NC_NETWORK_MAX_VLAN, 0);
        if (ret->mode != NC_NET_VLAN && cJSON_GetObjectItemCaseSensitive(spec, "vlan"))
            nc_verr_add(errs, "spec.vlan", "is for mode vlan only");
        if (ret->mode == NC_NET_VLAN && cJSON_GetObjectItemCaseSensitive(spec, "vni"))
            nc_verr_add(errs, "spec.vni", "is for modes overlay and isolated: a vlan Network "
                                          "has spec.vlan instead");
        parse_egress(errs, spec, ret);
    }
    if (nc_verr_count(errs) > before) {
        memset(ret, 0, sizeof(*ret));
        return -EINVAL;
    }
    return 0;
}

int
nc_network_spec_parse(const char *json, const char *ns, const char *name,
                      struct nc_network_spec *ret, struct nc_verr *errs)
{
    NC_V_PARSE(nc_network_spec_from_json, json, ns, name, ret, errs);
}

int
nc_network_validate(const cJSON *doc, const char *ns, const char *name, struct nc_verr *errs)
{
    struct nc_network_spec spec;

    return nc_network_spec_from_json(doc, ns, name, &spec, errs);
}
