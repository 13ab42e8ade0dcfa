#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema/network.h"
#include "schema/networkpolicy.h"

const char *const nc_proto_names[] = {"TCP", "UDP", "SCTP", NULL};

static const char *const spec_fields[] = {"vmSelector", "policyTypes", "ingress", "egress", NULL};
static const char *const selector_fields[] = {"matchLabels", NULL};
static const char *const ingress_fields[] = {"from", "ports", NULL};
static const char *const egress_fields[] = {"to", "ports", NULL};
static const char *const peer_fields[] = {"vmSelector", "cidr", NULL};
static const char *const port_fields[] = {"protocol", "port", "endPort", NULL};

/* @path's vmSelector, {"matchLabels": {...}} (empty: every VM), into @ret. */
static void
parse_selector(struct nc_verr *e, const cJSON *obj, const char *path, bool required,
               struct nc_labels *ret)
{
    const cJSON *sel = nc_v_object(e, obj, path, "vmSelector", required), *match;
    char p[96];

    if (!sel)
        return;
    snprintf(p, sizeof(p), "%s.vmSelector", path);
    nc_v_known_fields(e, sel, p, selector_fields);
    if ((match = nc_v_labels(e, sel, p, "matchLabels", false, NC_NETPOL_MAX_SELECTOR)) &&
        nc_labels_from_json(match, ret) < 0)
        nc_verr_add(e, p, "out of memory");
}

static void
parse_peer(struct nc_verr *e, const cJSON *obj, const char *path, struct nc_netpol_peer *peer)
{
    bool sel = cJSON_GetObjectItemCaseSensitive(obj, "vmSelector") != NULL;
    const char *cidr, *why;
    char got[64];

    nc_v_known_fields(e, obj, path, peer_fields);
    if (sel == (cJSON_GetObjectItemCaseSensitive(obj, "cidr") != NULL)) {
        nc_verr_add(e, path, "must have exactly one of vmSelector and cidr");
        return;
    }
    if (sel) {
        parse_selector(e, obj, path, true, &peer->selector);
        return;
    }
    peer->is_cidr = true;
    if (!(cidr = nc_v_string(e, obj, path, "cidr", true, sizeof(peer->cidr) - 1)))
        return;
    if ((why = nc_cidr_parse(cidr, 0, 32, &peer->network, &peer->prefix)))
        nc_verr_add(e, path, "cidr: %s, got %s", why,
                    nc_json_brief(cJSON_GetObjectItemCaseSensitive(obj, "cidr"), got, sizeof(got)));
    else
        snprintf(peer->cidr, sizeof(peer->cidr), "%s", cidr);
}

static void
parse_port(struct nc_verr *e, const cJSON *obj, const char *path, struct nc_netpol_port *port)
{
    nc_v_known_fields(e, obj, path, port_fields);
    port->proto = (enum nc_proto)nc_v_enum(e, obj, path, "protocol", nc_proto_names, NC_PROTO_TCP);
    port->first = (unsigned)nc_v_int(e, obj, path, "port", false, 1, 65535, 0);
    port->last = (unsigned)nc_v_int(e, obj, path, "endPort", false, 1, 65535, port->first);
    if (cJSON_GetObjectItemCaseSensitive(obj, "endPort") && !port->first)
        nc_verr_add(e, path, "endPort: needs port (the first port of the range)");
    else if (port->last < port->first)
        nc_verr_add(e, path, "endPort: must not be below port (%u), got %u", port->first,
                    port->last);
}

/* Two ports of one protocol that share a port, or two CIDRs that share an
 * address, in one rule: the second is a mistake, never what was meant. */
static void
check_overlaps(struct nc_verr *e, const char *path, const char *peers,
               const struct nc_netpol_rule *r)
{
    for (unsigned i = 0; i < r->n_ports; i++)
        for (unsigned j = 0; j < i; j++) {
            const struct nc_netpol_port *a = &r->ports[j], *b = &r->ports[i];
            bool all_a = !a->first, all_b = !b->first;

            if (a->proto == b->proto &&
                (all_a || all_b || (b->first <= a->last && a->first <= b->last))) {
                nc_verr_add(e, path, "ports[%u]: overlaps ports[%u] (%s)", i, j,
                            nc_proto_names[a->proto]);
                return;
            }
        }
    for (unsigned i = 0; i < r->n_peers; i++)
        for (unsigned j = 0; j < i; j++) {
            const struct nc_netpol_peer *a = &r->peers[j], *b = &r->peers[i];
            unsigned p = a->prefix < b->prefix ? a->prefix : b->prefix;
            uint32_t mask = p ? (uint32_t)(0xffffffffULL << (32 - p)) : 0;

            if (a->is_cidr && b->is_cidr && a->cidr[0] && b->cidr[0] &&
                (a->network & mask) == (b->network & mask)) {
                nc_verr_add(e, path, "%s[%u]: cidr %s overlaps %s[%u] (%s)", peers, i, b->cidr,
                            peers, j, a->cidr);
                return;
            }
        }
}

/* spec.ingress or spec.egress into @rules; returns how many. */
static unsigned
parse_rules(struct nc_verr *e, const cJSON *spec, bool ingress, struct nc_netpol_rule *rules)
{
    const char *dir = ingress ? "ingress" : "egress", *peers_name = ingress ? "from" : "to";
    const cJSON *arr = nc_v_array(e, spec, "spec", dir, NC_NETPOL_MAX_RULES), *o, *v;
    unsigned n = 0;

    cJSON_ArrayForEach(o, arr) {
        struct nc_netpol_rule *r = &rules[n];
        const cJSON *peers, *ports;
        char path[64], p[96];

        snprintf(path, sizeof(path), "spec.%s[%u]", dir, n++);
        if (!cJSON_IsObject(o)) {
            nc_verr_add(e, path, "must be an object");
            continue;
        }
        nc_v_known_fields(e, o, path, ingress ? ingress_fields : egress_fields);
        peers = nc_v_array(e, o, path, peers_name, NC_NETPOL_MAX_PEERS);
        ports = nc_v_array(e, o, path, "ports", NC_NETPOL_MAX_PORTS);
        cJSON_ArrayForEach(v, peers) {
            snprintf(p, sizeof(p), "%s.%s[%u]", path, peers_name, r->n_peers);
            if (cJSON_IsObject(v))
                parse_peer(e, v, p, &r->peers[r->n_peers]);
            else
                nc_verr_add(e, p, "must be an object");
            r->n_peers++;
        }
        cJSON_ArrayForEach(v, ports) {
            snprintf(p, sizeof(p), "%s.ports[%u]", path, r->n_ports);
            if (cJSON_IsObject(v))
                parse_port(e, v, p, &r->ports[r->n_ports]);
            else
                nc_verr_add(e, p, "must be an object");
            r->n_ports++;
        }
        check_overlaps(e, path, peers_name, r);
    }
    return n;
}

/* spec.policyTypes; without it, Ingress, and Egress when there are egress
 * rules (as Kubernetes has it). */
static void
parse_types(struct nc_verr *e, const cJSON *spec, struct nc_netpol_spec *ret)
{
    const cJSON *types = nc_v_array(e, spec, "spec", "policyTypes", 2), *t;
    unsigned i = 0;

    if (!cJSON_GetObjectItemCaseSensitive(spec, "policyTypes")) {
        ret->ingress = true;
        ret->egress = cJSON_GetObjectItemCaseSensitive(spec, "egress") != NULL;
        return;
    }
    if (types && !types->child)
        nc_verr_add(e, "spec.policyTypes", "must name Ingress, Egress or both");
    cJSON_ArrayForEach(t, types) {
        const char *s = cJSON_GetStringValue(t);
        bool in = s && strcmp(s, "Ingress") == 0, out = s && strcmp(s, "Egress") == 0;
        char got[64];

        if ((!in && !out) || (in && ret->ingress) || (out && ret->egress))
            nc_verr_add(e, "spec.policyTypes", "[%u]: must be Ingress or Egress, each once, got %s",
                        i, nc_json_brief(t, got, sizeof(got)));
        ret->ingress |= in;
        ret->egress |= out;
        i++;
    }
}

int
nc_netpol_spec_from_json(const cJSON *doc, const char *ns, const char *name,
                         struct nc_netpol_spec *ret, struct nc_verr *errs)
{
    size_t before = nc_verr_count(errs);
    const cJSON *spec = nc_v_envelope(errs, doc, NC_NETWORKPOLICY_KIND, ns, name);

    memset(ret, 0, sizeof(*ret));
    if (!spec)
        return -EINVAL;
    if (!(ret->rules = calloc(2 * NC_NETPOL_MAX_RULES, sizeof(*ret->rules)))) {
        nc_verr_add(errs, "spec", "out of memory");
        return -EINVAL;
    }
    nc_v_known_fields(errs, spec, "spec", spec_fields);
    parse_selector(errs, spec, "spec", true, &ret->selector);
    parse_types(errs, spec, ret);
    ret->n_ingress = parse_rules(errs, spec, true, ret->rules);
    ret->n_egress = parse_rules(errs, spec, false, ret->rules + ret->n_ingress);
    if (ret->n_ingress && !ret->ingress)
        nc_verr_add(errs, "spec.ingress", "has rules, but spec.policyTypes has no Ingress");
    if (ret->n_egress && !ret->egress)
        nc_verr_add(errs, "spec.egress", "has rules, but spec.policyTypes has no Egress");
    return nc_verr_count(errs) > before ? -EINVAL : 0;
}

int
nc_netpol_spec_parse(const char *json, const char *ns, const char *name,
                     struct nc_netpol_spec *ret, struct nc_verr *errs)
{
    NC_V_PARSE(nc_netpol_spec_from_json, json, ns, name, ret, errs);
}

void
nc_netpol_spec_clear(struct nc_netpol_spec *spec)
{
    for (unsigned i = 0; spec->rules && i < spec->n_ingress + spec->n_egress; i++)
        for (unsigned j = 0; j < spec->rules[i].n_peers; j++)
            nc_labels_clear(&spec->rules[i].peers[j].selector);
    nc_labels_clear(&spec->selector);
    free(spec->rules);
    memset(spec, 0, sizeof(*spec));
}

int
nc_networkpolicy_validate(const cJSON *doc, const char *ns, const char *name,
                          struct nc_verr *errs)
{
    struct nc_netpol_spec spec;
    int r = nc_netpol_spec_from_json(doc, ns, name, &spec, errs);

    nc_netpol_spec_clear(&spec);
    return r;
}
