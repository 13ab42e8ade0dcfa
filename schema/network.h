/* The Network kind of the API (schema/README.md §5-7): its parsed form and validator. */
#ifndef NC_SCHEMA_NETWORK_H
#define NC_SCHEMA_NETWORK_H

#include <stdbool.h>
#include <stdint.h>

#include "schema/validate.h"

#define NC_NETWORK_KIND "Network"
#define NC_NETWORK_MIN_PREFIX 8
#define NC_NETWORK_MAX_PREFIX 30 /* a bridge address and a guest at least */
#define NC_NETWORK_MAX_VNI 16777215
#define NC_NETWORK_DEFAULT_MTU 1450 /* 1500 less the VXLAN encapsulation */
#define NC_NETWORK_MIN_MTU 576      /* what DHCP needs */
#define NC_NETWORK_MAX_MTU 9000
#define NC_NETWORK_MAX_VLAN 4094

enum nc_net_mode {
    NC_NET_OVERLAY,  /* bridge + VXLAN */
    NC_NET_ISOLATED, /* bridge only */
    NC_NET_VLAN,     /* bridge + a VLAN device on the node's --vlan-parent */
    NC_NET_MODE_INVALID,
};

struct nc_network_spec {
    char cidr[19];    /* as given, which is canonical: "10.0.0.0/24" */
    uint32_t network; /* host byte order */
    unsigned prefix;
    uint32_t vni;  /* 0: to be allocated */
    unsigned vlan; /* mode vlan: its 802.1Q id, 1 to 4094; else 0 */
    unsigned mtu;
    enum nc_net_mode mode;
    /* spec.egress: its guests reach outside the Network through each
     * node's uplink, masqueraded behind the node's address. */
    bool egress_nat;
    char egress_via[16]; /* the node's device to leave by; "": any but the bridge */
};

extern const char *const nc_net_mode_names[];

/* As nc_vm_spec_from_json() (schema/vm.h), for a Network document. */
int nc_network_spec_from_json(const cJSON *doc, const char *ns, const char *name,
                              struct nc_network_spec *ret, struct nc_verr *errs)
    __attribute__((warn_unused_result));
int nc_network_spec_parse(const char *json, const char *ns, const char *name,
                          struct nc_network_spec *ret, struct nc_verr *errs)
    __attribute__((warn_unused_result));
int nc_network_validate(const cJSON *doc, const char *ns, const char *name, struct nc_verr *errs);

/* Parses "a.b.c.d/p" with @min..@max prefix and no host bits set. Returns
 * NULL or the reason it is not one. */
const char *nc_cidr_parse(const char *s, unsigned min, unsigned max, uint32_t *ret_network,
                          unsigned *ret_prefix);

#endif
