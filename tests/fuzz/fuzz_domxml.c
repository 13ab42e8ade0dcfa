/* The owner mark as libvirt hands it back (virDomainGetMetadata): what
 * parses is written again and parses to the same mark. */
#include "fuzz.h"

#include "drivers/domxml.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_string(data, size), *xml = NULL;
    struct nc_owner o, o2;

    if (!s)
        return 0;
    memset(&o, 0, sizeof(o));
    memset(&o2, 0, sizeof(o2));
    if (nc_domxml_parse_owner(s, &o) == 0 && nc_domxml_owner(&o, &xml) == 0) {
        FUZZ_ASSERT(nc_domxml_parse_owner(xml, &o2) == 0);
        FUZZ_ASSERT(memcmp(&o, &o2, sizeof(o)) == 0);
    }
    free(xml);
    free(s);
    return 0;
}
