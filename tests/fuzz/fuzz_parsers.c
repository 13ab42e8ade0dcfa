/* The small parsers every spec goes through, each with what must hold
 * of what it accepts: sizes and durations (format, parse again: the
 * same), CIDRs (no host bits), MACs (canonical), CPU lists (format,
 * parse again: the same set), label keys and values. */
#include "fuzz.h"

#include "schema/labels.h"
#include "schema/network.h"
#include "schema/quantity.h"
#include "schema/vm.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_string(data, size), buf[8192], mac[18], again[18];
    uint64_t bytes, back, secs;
    uint32_t net;
    unsigned prefix, n, n2;
    struct nc_cpuset set, set2;

    if (!s)
        return 0;
    if (nc_quantity_parse(s, &bytes) == 0) {
        nc_quantity_format(bytes, buf, sizeof(buf));
        FUZZ_ASSERT(nc_quantity_parse(buf, &back) == 0 && back == bytes);
    }
    (void)!nc_duration_parse(s, &secs);
    if (!nc_cidr_parse(s, 0, 32, &net, &prefix))
        FUZZ_ASSERT(prefix <= 32 && (prefix == 32 || (net & (0xffffffffu >> prefix)) == 0));
    if (nc_mac_parse(s, mac))
        FUZZ_ASSERT(nc_mac_parse(mac, again) && strcmp(mac, again) == 0);
    if (nc_cpuset_parse(s, &set, &n)) {
        nc_cpuset_format(&set, buf, sizeof(buf));
        FUZZ_ASSERT(nc_cpuset_parse(buf, &set2, &n2) && n2 == n &&
                    memcmp(&set, &set2, sizeof(set)) == 0);
    }
    (void)nc_is_label_key(s);
    (void)nc_is_label_value(s);
    (void)nc_is_dns_subdomain(s);
    free(s);
    return 0;
}
