#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "core/base64.h"

/* RFC 4648 §10 test vectors, plus bytes that are not text. */
static const struct {
    const char *plain;
    size_t len;
    const char *encoded;
} cases[] = {
    {"", 0, ""},
    {"f", 1, "Zg=="},
    {"fo", 2, "Zm8="},
    {"foo", 3, "Zm9v"},
    {"foob", 4, "Zm9vYg=="},
    {"fooba", 5, "Zm9vYmE="},
    {"foobar", 6, "Zm9vYmFy"},
    {"\0\xff\xfe/", 4, "AP/+Lw=="},
    {"/novacron/spec/", 15, "L25vdmFjcm9uL3NwZWMv"},
};

Test(base64, vectors_both_ways)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *enc = nc_b64_encode(cases[i].plain, cases[i].len);
        size_t len = 99;
        char *dec = nc_b64_decode(cases[i].encoded, &len);

        cr_assert_str_eq(enc, cases[i].encoded, "case %zu", i);
        cr_assert_not_null(dec, "case %zu", i);
        cr_assert_eq(len, cases[i].len, "case %zu", i);
        cr_assert_eq(memcmp(dec, cases[i].plain, len), 0, "case %zu", i);
        cr_assert_eq(dec[len], '\0', "decoded text is NUL-terminated");
        free(enc);
        free(dec);
    }
}

Test(base64, rejects_malformed)
{
    static const char *const bad[] = {
        "Zg=", "Zg", "Z===", "Zm9v!A==", "Zg==Zg==", "Z=g=", "====", "Zm 9", "Zm9\n",
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_assert_null(nc_b64_decode(bad[i], NULL), "accepted \"%s\"", bad[i]);
}
