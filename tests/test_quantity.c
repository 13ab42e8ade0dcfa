#include <criterion/criterion.h>
#include <errno.h>

#include "schema/quantity.h"

static const struct {
    const char *in;
    int ret;
    uint64_t bytes;
} cases[] = {
    {"0", 0, 0},
    {"1048576", 0, 1048576},
    {"256MiB", 0, 256ULL << 20},
    {"256Mi", 0, 256ULL << 20},
    {"10GiB", 0, 10ULL << 30},
    {"1Ti", 0, 1ULL << 40},
    {"4KiB", 0, 4096},
    {"18446744073709551615", 0, UINT64_MAX},
    {"18446744073709551616", -ERANGE, 0},
    {"16777216TiB", -ERANGE, 0},
    {"16777215TiB", 0, 16777215ULL << 40},
    {"lots", -EINVAL, 0},
    {"", -EINVAL, 0},
    {"-1", -EINVAL, 0},
    {"+1", -EINVAL, 0},
    {" 1", -EINVAL, 0},
    {"1 MiB", -EINVAL, 0},
    {"1.5GiB", -EINVAL, 0},
    {"1MB", -EINVAL, 0},
    {"1mib", -EINVAL, 0},
    {"1MiBB", -EINVAL, 0},
    {"1Pi", -EINVAL, 0},
    {"0x10", -EINVAL, 0},
    {"01", -EINVAL, 0},
    {"00", -EINVAL, 0},
    {"0Mi", 0, 0},
};

Test(quantity, parse_table)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint64_t v = 12345;
        int r = nc_quantity_parse(cases[i].in, &v);

        cr_assert_eq(r, cases[i].ret, "\"%s\": got %d", cases[i].in, r);
        if (r == 0)
            cr_assert_eq(v, cases[i].bytes, "\"%s\"", cases[i].in);
        else
            cr_assert_eq(v, 12345, "\"%s\": output touched on failure", cases[i].in);
    }
}

Test(quantity, format_round_trips)
{
    static const uint64_t values[] = {0, 1, 1000, 1024, 256ULL << 20, 3ULL << 30, 5ULL << 40};
    static const char *const text[] = {"0", "1", "1000", "1KiB", "256MiB", "3GiB", "5TiB"};
    char buf[32];

    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        uint64_t back;

        cr_assert_str_eq(nc_quantity_format(values[i], buf, sizeof(buf)), text[i]);
        cr_assert_eq(nc_quantity_parse(buf, &back), 0);
        cr_assert_eq(back, values[i]);
    }
}

Test(quantity, duration_table)
{
    static const struct {
        const char *in;
        int ret;
        uint64_t seconds;
    } d[] = {
        {"45s", 0, 45},
        {"1h", 0, 3600},
        {"1h30m", 0, 5400},
        {"7d", 0, 7 * 86400},
        {"1d2h3m4s", 0, 93784},
        {"0s", 0, 0},
        {"90m", 0, 5400},
        {"4294967295s", 0, 4294967295ULL},
        {"4294967296s", -ERANGE, 0},
        {"49711d", -ERANGE, 0},
        {"", -EINVAL, 0},
        {"10", -EINVAL, 0},
        {"h", -EINVAL, 0},
        {"1m1h", -EINVAL, 0},
        {"1h1h", -EINVAL, 0},
        {"1.5h", -EINVAL, 0},
        {"-1s", -EINVAL, 0},
        {"1 s", -EINVAL, 0},
        {"1S", -EINVAL, 0},
        {"1w", -EINVAL, 0},
        {"1hx", -EINVAL, 0},
    };

    for (size_t i = 0; i < sizeof(d) / sizeof(d[0]); i++) {
        uint64_t v = 12345;
        int r = nc_duration_parse(d[i].in, &v);

        cr_assert_eq(r, d[i].ret, "\"%s\": got %d", d[i].in, r);
        cr_assert_eq(v, r == 0 ? d[i].seconds : 12345, "\"%s\"", d[i].in);
    }
}
