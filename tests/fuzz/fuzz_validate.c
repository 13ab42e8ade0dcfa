/* Every kind's validator, from bytes: the document as novactl reads it
 * (no key: it names itself) and as the daemon reads it under a key. */
#include "fuzz.h"

#include "schema/kinds.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_string(data, size), ns[NC_NAME_MAX + 1], name[NC_NAME_MAX + 1];
    struct nc_verr *errs = nc_verr_new();
    const struct nc_kind *kind = NULL;
    cJSON *doc;

    if (!text || !errs || nc_doc_too_large(strlen(text), errs) || nc_json_has_nul_escape(text) ||
        !(doc = nc_json_parse_whole(text, errs)))
        goto out;
    if (nc_manifest_check(doc, errs, &kind, ns, name) == 0) {
        FUZZ_ASSERT(kind && nc_is_dns_label(ns) && nc_is_dns_label(name));
        FUZZ_ASSERT(nc_verr_count(errs) == 0);
    } else {
        /* Refused: always with a reason. */
        FUZZ_ASSERT(nc_verr_count(errs) > 0);
        free(nc_verr_join(errs));
    }
    /* Under a key of each kind, whatever the document says. */
    for (size_t i = 0; i < nc_n_kinds; i++) {
        struct nc_verr *e = nc_verr_new();

        if (e && nc_kinds[i].validate(doc, "default", "fuzz", e) < 0)
            FUZZ_ASSERT(nc_verr_count(e) > 0);
        nc_verr_free(e);
    }
    cJSON_Delete(doc);
out:
    nc_verr_free(errs);
    free(text);
    return 0;
}
