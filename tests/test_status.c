#include <criterion/criterion.h>
#include <string.h>

#include "reconcilers/status.h"

static cJSON *
status_with(const char *phase, bool ready, const char *reason, const char *now,
            const cJSON *old)
{
    cJSON *s = cJSON_CreateObject();

    cJSON_AddNumberToObject(s, "observedGeneration", 7);
    cJSON_AddStringToObject(s, "phase", phase);
    nc_status_condition(s, old, "Ready", ready, reason, "msg", 7, now);
    return s;
}

static const char *
ltt(const cJSON *s)
{
    return cJSON_GetStringValue(
        cJSON_GetObjectItem(nc_status_find_condition(s, "Ready"), "lastTransitionTime"));
}

Test(status, transition_time_moves_only_on_a_transition)
{
    cJSON *s1 = status_with("Running", true, "DomainRunning", "2026-01-01T00:00:00Z", NULL);
    cJSON *s2 = status_with("Running", true, "DomainRunning", "2026-01-01T00:05:00Z", s1);
    cJSON *s3 = status_with("Running", true, "Other", "2026-01-01T00:06:00Z", s2);
    cJSON *s4 = status_with("Stopped", false, "Converging", "2026-01-01T00:07:00Z", s3);

    cr_assert_str_eq(ltt(s1), "2026-01-01T00:00:00Z");
    cr_assert_str_eq(ltt(s2), "2026-01-01T00:00:00Z", "same status: time kept");
    cr_assert_str_eq(ltt(s3), "2026-01-01T00:00:00Z", "new reason, same status: time kept");
    cr_assert_str_eq(ltt(s4), "2026-01-01T00:07:00Z", "status flipped: time moves");
    cr_assert_not(nc_status_changed(s1, s2), "only the clock moved: no write");
    cr_assert(nc_status_changed(s2, s3), "reason changed: write");
    cr_assert(nc_status_changed(s3, s4));
    cr_assert(nc_status_changed(NULL, s1), "no status yet: write");
    cr_assert_not(nc_status_changed(NULL, NULL));
    cr_assert(nc_status_condition_true(s1, "Ready"));
    cr_assert_not(nc_status_condition_true(s4, "Ready"));
    cr_assert_not(nc_status_condition_true(s4, "Missing"));
    cJSON_Delete(s1);
    cJSON_Delete(s2);
    cJSON_Delete(s3);
    cJSON_Delete(s4);
}

Test(status, diff_sees_every_field_and_ignores_member_order)
{
    static const char *const pairs[][3] = {
        /* old, new, "1" when they differ */
        {"{\"a\":1,\"b\":{\"c\":\"x\"}}", "{\"b\":{\"c\":\"x\"},\"a\":1}", "0"},
        {"{\"a\":1}", "{\"a\":2}", "1"},
        {"{\"a\":1}", "{\"a\":1,\"b\":null}", "1"},
        {"{\"d\":{\"state\":\"running\"}}", "{\"d\":{\"state\":\"paused\"}}", "1"},
        {"{\"c\":[1,2]}", "{\"c\":[2,1]}", "1"},
        {"{\"s\":\"a\"}", "{\"s\":\"A\"}", "1"},
    };

    for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
        cJSON *o = cJSON_Parse(pairs[i][0]), *n = cJSON_Parse(pairs[i][1]);

        cr_assert_eq(nc_status_changed(o, n), pairs[i][2][0] == '1', "case %zu", i);
        cJSON_Delete(o);
        cJSON_Delete(n);
    }
}
