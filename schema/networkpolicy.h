/*
 * The NetworkPolicy kind of the API (schema/README.md), the Kubernetes
 * NetworkPolicy model for VMs: the VMs of a namespace a selector picks
 * are isolated for the policy's types (Ingress, Egress), and then only
 * what one of its rules allows reaches them or leaves them. Its parsed
 * form and validator.
 */
#ifndef NC_SCHEMA_NETWORKPOLICY_H
#define NC_SCHEMA_NETWORKPOLICY_H

#include <stdbool.h>
#include <stdint.h>

#include "schema/labels.h"
#include "schema/validate.h"

#define NC_NETWORKPOLICY_KIND "NetworkPolicy"
#define NC_NETPOL_MAX_RULES    16 /* per direction */
#define NC_NETPOL_MAX_PEERS    16 /* per rule */
#define NC_NETPOL_MAX_PORTS    16 /* per rule */
#define NC_NETPOL_MAX_SELECTOR 16 /* labels of a selector */

enum nc_proto { NC_PROTO_TCP, NC_PROTO_UDP, NC_PROTO_SCTP };

extern const char *const nc_proto_names[]; /* "TCP", "UDP", "SCTP" */

/* ports[i]: @proto, and ports @first to @last; @first 0: every port. */
struct nc_netpol_port {
    enum nc_proto proto;
    unsigned first, last;
};

/* from[i] / to[i]: the VMs of the namespace @selector picks, or a CIDR. */
struct nc_netpol_peer {
    bool is_cidr;
    struct nc_labels selector;
    char cidr[19];
    uint32_t network; /* host byte order */
    unsigned prefix;
};

/* A rule allows traffic from (Ingress) or to (Egress) each of its peers
 * (every address when it has none) on each of its ports (every port and
 * protocol when it has none). */
struct nc_netpol_rule {
    unsigned n_peers, n_ports;
    struct nc_netpol_peer peers[NC_NETPOL_MAX_PEERS];
    struct nc_netpol_port ports[NC_NETPOL_MAX_PORTS];
};

struct nc_netpol_spec {
    struct nc_labels selector; /* spec.vmSelector.matchLabels; empty: every VM */
    bool ingress, egress;      /* spec.policyTypes */
    unsigned n_ingress, n_egress;
    struct nc_netpol_rule *rules; /* the ingress rules, then the egress ones */
};

/* As nc_vm_spec_from_json() (schema/vm.h), for a NetworkPolicy document.
 * Free what it holds with nc_netpol_spec_clear(), whatever it returned. */
int nc_netpol_spec_from_json(const cJSON *doc, const char *ns, const char *name,
                             struct nc_netpol_spec *ret, struct nc_verr *errs)
    __attribute__((warn_unused_result));
int nc_netpol_spec_parse(const char *json, const char *ns, const char *name,
                         struct nc_netpol_spec *ret, struct nc_verr *errs)
    __attribute__((warn_unused_result));
void nc_netpol_spec_clear(struct nc_netpol_spec *spec);
int nc_networkpolicy_validate(const cJSON *doc, const char *ns, const char *name,
                              struct nc_verr *errs);

#endif
