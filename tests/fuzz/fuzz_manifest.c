/* novactl's manifest reader: one document, an array, several in a row. */
#include "fuzz.h"

#include "novactl/manifest.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct nc_manifest_set set = {0};
    char *text = fuzz_string(data, size);
    size_t invalid = 0;

    if (!text)
        return 0;
    nc_manifests_parse(&set, "fuzz.json", text);
    nc_manifests_find_duplicates(&set);
    FUZZ_ASSERT(set.n >= 1); /* at least the reason it read nothing */
    for (size_t i = 0; i < set.n; i++) {
        invalid += set.items[i].errs != NULL;
        FUZZ_ASSERT(set.items[i].errs || set.items[i].kind);
    }
    FUZZ_ASSERT(invalid == set.n_invalid);
    nc_manifests_clear(&set);
    free(text);
    return 0;
}
