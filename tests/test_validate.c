#include <criterion/criterion.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema/kinds.h"
#include "schema/network.h"
#include "schema/vm.h"
#include "schema/volume.h"

#define VM(spec) "{\"apiVersion\":\"novacron.io/v1\",\"kind\":\"VirtualMachine\"," \
                 "\"metadata\":{\"name\":\"web-1\",\"namespace\":\"default\"},\"spec\":" spec "}"

/*
 * The documents of every kind, valid and hostile, live in
 * tests/corpus/documents.json, which the JSON Schema check
 * (tests/integration/test_schema.sh) reads too. Here: what only a stored
 * document has, its key, and text that is not a JSON object at all.
 */
static const struct {
    const char *ns, *name, *doc, *want;
} bad[] = {
    {"default", "web-2", VM("{\"vcpus\":1,\"memory\":\"1GiB\"}"),
     "metadata.name: \"web-1\" disagrees with the key's name"},
    {"other", "web-1", VM("{\"vcpus\":1,\"memory\":\"1GiB\"}"),
     "metadata.namespace: \"default\" disagrees with the key's namespace"},
    {"default", "Web_1", VM("{\"vcpus\":1,\"memory\":\"1GiB\"}"),
     "metadata.name: the key's name \"Web_1\" is not a DNS label"},
    {"default", "a/b", VM("{\"vcpus\":1,\"memory\":\"1GiB\"}"), "the key's name \"a/b\""},
    {"de<fault>", "web-1", VM("{\"vcpus\":1,\"memory\":\"1GiB\"}"), "the key's namespace"},
    {"default", "web-1",
     "{\"apiVersion\":\"novacron.io/v1\",\"kind\":\"Volume\",\"metadata\":{\"name\":\"web-1\"},"
     "\"spec\":{\"vcpus\":1,\"memory\":\"1GiB\"}}",
     "kind: must be \"VirtualMachine\" for this key, got \"Volume\""},
    /* cJSON keeps both members, other parsers the last one. */
    {"default", "web-1", VM("{\"vcpus\":1,\"memory\":\"1GiB\",\"vcpus\":\"x\"}"),
     "spec.vcpus: appears more than once"},
    {"default", "web-1", VM("{\"vcpus\":1,\"memory\":\"1GiB\",\"node\":\"a\\u0000b\"}"),
     "(document): must not contain \\u0000"},
    {"default", "web-1",
     "{\"apiVersion\":\"novacron.io/v1\",\"kind\":\"VirtualMachine\",\"metadata\":{\"name\":"
     "\"web-1\",\"labels\":{\"a\":\"1\",\"a\":\"2\"}},\"spec\":{\"vcpus\":1,\"memory\":\"1GiB\"}}",
     "metadata.labels[\"a\"]: appears more than once"},
    {"default", "web-1", "{\"apiVersion\":\"novacron.io/v1\"", "(document): is not valid JSON"},
    {"default", "web-1", "[1,2]", "(document): must be a JSON object"},
    {"default", "web-1", "", "(document): is not valid JSON"},
    {"default", "web-1", VM("{\"vcpus\":1,\"memory\":NaN}"), "(document): is not valid JSON"},
    /* What XML cannot carry, as raw bytes: an encoded surrogate, an
     * overlong form, U+FFFE, a code point above U+10FFFF. */
    {"default", "web-1", VM("{\"vcpus\":1,\"memory\":\"1GiB\",\"boot\":{\"kernel\":\"/k\","
                            "\"cmdline\":\"a\xed\xa0\x80\"}}"),
     "spec.boot.cmdline: must be valid UTF-8"},
    {"default", "web-1", VM("{\"vcpus\":1,\"memory\":\"1GiB\",\"boot\":{\"kernel\":\"/k\","
                            "\"cmdline\":\"a\xe0\x80\x80\"}}"),
     "spec.boot.cmdline: must be valid UTF-8"},
    {"default", "web-1", VM("{\"vcpus\":1,\"memory\":\"1GiB\",\"boot\":{\"kernel\":\"/k\","
                            "\"cmdline\":\"a\xef\xbf\xbe\"}}"),
     "spec.boot.cmdline: must not contain U+FFFE or U+FFFF"},
    {"default", "web-1", VM("{\"vcpus\":1,\"memory\":\"1GiB\",\"boot\":{\"kernel\":\"/k\","
                            "\"cmdline\":\"a\xf4\x90\x80\x80\"}}"),
     "spec.boot.cmdline: must be valid UTF-8"},
    /* Text after the document: novactl validate refuses it, so must the
     * daemon, or the two disagree on what is valid. */
    {"default", "web-1", VM("{\"vcpus\":1,\"memory\":\"1GiB\"}") " GARBAGE{{",
     "(document): has text after the JSON value"},
    {"default", "web-1", VM("{\"vcpus\":1,\"memory\":\"1GiB\"}") "{}",
     "(document): has text after the JSON value"},
};

Test(validate, hostile_documents_fail_naming_the_field)
{
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct nc_verr *e = nc_verr_new();
        struct nc_vm_spec spec;
        char *msg;

        cr_assert_eq(nc_vm_spec_parse(bad[i].doc, bad[i].ns, bad[i].name, &spec, e), -EINVAL,
                     "case %zu accepted: %s", i, bad[i].doc);
        msg = nc_verr_join(e);
        cr_assert(strstr(msg, bad[i].want), "case %zu: \"%s\" not in \"%s\"", i, bad[i].want, msg);
        cr_assert_null(spec.kernel, "case %zu: output not cleared", i);
        free(msg);
        nc_verr_free(e);
    }
}

Test(validate, every_error_is_reported_at_once)
{
    struct nc_verr *e = nc_verr_new();
    struct nc_vm_spec spec;

    cr_assert_eq(nc_vm_spec_parse(VM("{\"vcpus\":\"x\",\"memory\":\"y\",\"z\":1}"), "default",
                                  "web-1", &spec, e),
                 -EINVAL);
    cr_assert_eq(nc_verr_count(e), 3);
    nc_verr_free(e);
}

Test(validate, a_full_document_parses)
{
    struct nc_verr *e = nc_verr_new();
    struct nc_vm_spec spec;
    int r = nc_vm_spec_parse(
        "{\"apiVersion\":\"novacron.io/v1\",\"kind\":\"VirtualMachine\",\"metadata\":{"
        "\"name\":\"web-1\",\"namespace\":\"default\",\"labels\":{\"app\":\"web\","
        "\"novacron.io/tier\":\"front\"},\"annotations\":{\"note\":\"<b>&'\\\"\"}},\"spec\":{"
        "\"runState\":\"Paused\",\"vcpus\":4,\"memory\":\"2GiB\",\"accel\":\"tcg\","
        "\"boot\":{\"kernel\":\"/var/lib/k\",\"initrd\":\"/var/lib/i\",\"cmdline\":\"console=ttyS0 "
        "quiet <&>\"},\"disks\":[{\"name\":\"root\",\"volume\":\"web-root\",\"bus\":\"virtio\","
        "\"readOnly\":true}],\"interfaces\":[{\"name\":\"eth0\",\"network\":\"net-a\","
        "\"mac\":\"52:54:00:AB:cd:01\",\"ip\":\"10.0.0.5\"}],\"stopGracePeriodSeconds\":0,"
        "\"node\":\"host-1.example\"}}",
        "default", "web-1", &spec, e);

    cr_assert_eq(r, 0, "%s", nc_verr_count(e) ? nc_verr_get(e, 0) : "");
    cr_assert_eq(spec.run_state, NC_RUN_PAUSED);
    cr_assert_eq(spec.vcpus, 4);
    cr_assert_eq(spec.memory, 2ULL << 30);
    cr_assert_eq(spec.accel, NC_ACCEL_TCG);
    cr_assert_str_eq(spec.kernel, "/var/lib/k");
    cr_assert_str_eq(spec.cmdline, "console=ttyS0 quiet <&>");
    cr_assert_eq(spec.n_disks, 1);
    cr_assert(spec.disks[0].read_only);
    cr_assert_str_eq(spec.disks[0].volume, "web-root");
    cr_assert_str_eq(spec.ifaces[0].mac, "52:54:00:ab:cd:01");
    cr_assert_str_eq(spec.ifaces[0].ip, "10.0.0.5");
    cr_assert_eq(spec.stop_grace_seconds, 0);
    cr_assert_str_eq(spec.node, "host-1.example");
    nc_vm_spec_clear(&spec);
    nc_verr_free(e);
}

Test(validate, defaults)
{
    struct nc_verr *e = nc_verr_new();
    struct nc_vm_spec spec;

    cr_assert_eq(nc_vm_spec_parse(VM("{\"vcpus\":1,\"memory\":268435456}"), "default", "web-1",
                                  &spec, e),
                 0);
    cr_assert_eq(spec.run_state, NC_RUN_RUNNING);
    cr_assert_eq(spec.accel, NC_ACCEL_AUTO);
    cr_assert_eq(spec.memory, 256ULL << 20);
    cr_assert_eq(spec.stop_grace_seconds, 30);
    cr_assert_str_eq(spec.node, "");
    nc_vm_spec_clear(&spec);
    nc_verr_free(e);
}

Test(validate, dns_labels)
{
    static const char *const good[] = {"a", "web-1", "0", "a-b-c",
                                       "abcdefghijklmnopqrstuvwxyz0123456789-abcdefghijklmnopqrstuvwxyz"};
    static const char *const no[] = {"", "-a", "a-", "A", "a_b", "a.b", "a/b", "a b", "é",
                                     "abcdefghijklmnopqrstuvwxyz0123456789-abcdefghijklmnopqrstuvwxyz0"};

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        cr_assert(nc_is_dns_label(good[i]), "%s", good[i]);
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
        cr_assert_not(nc_is_dns_label(no[i]), "%s", no[i]);
}

static char *
read_corpus(void)
{
    FILE *f = fopen("tests/corpus/documents.json", "r");
    char *buf = NULL;
    size_t len = 0;

    cr_assert_not_null(f, "run from the top of the source tree");
    cr_assert_eq(getdelim(&buf, &len, '\0', f) > 0, 1);
    fclose(f);
    return buf;
}

Test(validate, corpus_of_every_kind)
{
    char *file = read_corpus();
    cJSON *corpus = cJSON_Parse(file), *c;
    size_t i = 0, valid = 0;

    cr_assert(cJSON_IsArray(corpus));
    cJSON_ArrayForEach(c, corpus) {
        const cJSON *want = cJSON_GetObjectItem(c, "want");
        const cJSON *text = cJSON_GetObjectItem(c, "text");
        cJSON *parsed = text ? cJSON_Parse(text->valuestring) : NULL;
        const cJSON *doc = text ? parsed : cJSON_GetObjectItem(c, "doc");
        struct nc_verr *e = nc_verr_new();
        const struct nc_kind *kind = NULL;
        char ns[NC_NAME_MAX + 1], name[NC_NAME_MAX + 1];
        int r = -EINVAL;
        char *msg;

        /* A case given as text goes through the text checks first, as novactl's. */
        if (text && nc_json_has_nul_escape(text->valuestring))
            nc_verr_add(e, "(document)", "must not contain \\u0000");
        else
            r = nc_manifest_check(doc, e, &kind, ns, name);
        msg = nc_verr_join(e);
        cJSON_Delete(parsed);

        if (cJSON_IsNull(want)) {
            cr_assert_eq(r, 0, "case %zu refused: %s", i, msg);
            cr_assert_str_eq(ns, "default");
            valid++;
        } else {
            cr_assert_eq(r, -EINVAL, "case %zu accepted", i);
            cr_assert(strstr(msg, want->valuestring), "case %zu: \"%s\" not in \"%s\"", i,
                      want->valuestring, msg);
        }
        free(msg);
        nc_verr_free(e);
        i++;
    }
    cr_assert_gt(valid, 10);
    cr_assert_gt(i - valid, 100);
    cJSON_Delete(corpus);
    free(file);
}

Test(validate, volume_fields_parse)
{
    struct nc_verr *e = nc_verr_new();
    struct nc_volume_spec v;

    cr_assert_eq(nc_volume_spec_parse("{\"apiVersion\":\"novacron.io/v1\",\"kind\":\"Volume\","
                                      "\"metadata\":{\"name\":\"root\"},\"spec\":{\"size\":\"2GiB\","
                                      "\"source\":{\"image\":\"/img/base.qcow2\"}}}",
                                      "default", "root", &v, e),
                 0);
    cr_assert_eq(v.size, 2ULL << 30);
    cr_assert_eq(v.format, NC_VOL_QCOW2);
    cr_assert_str_eq(v.pool, "default");
    cr_assert_eq(v.source, NC_SRC_IMAGE);
    cr_assert_str_eq(v.image, "/img/base.qcow2");
    nc_volume_spec_clear(&v);
    cr_assert_eq(nc_volume_spec_parse("{\"apiVersion\":\"novacron.io/v1\",\"kind\":\"Volume\","
                                      "\"metadata\":{\"name\":\"copy\"},\"spec\":{\"size\":1048576,"
                                      "\"format\":\"raw\",\"pool\":\"fast\",\"source\":{\"volume\":"
                                      "\"root\"}}}",
                                      "default", "copy", &v, e),
                 0);
    cr_assert_eq(v.format, NC_VOL_RAW);
    cr_assert_str_eq(v.pool, "fast");
    cr_assert_eq(v.source, NC_SRC_VOLUME);
    cr_assert_str_eq(v.volume, "root");
    cr_assert_null(v.image);
    nc_volume_spec_clear(&v);
    nc_verr_free(e);
}

Test(validate, network_fields_parse)
{
    struct nc_verr *e = nc_verr_new();
    struct nc_network_spec n;

    cr_assert_eq(nc_network_spec_parse("{\"apiVersion\":\"novacron.io/v1\",\"kind\":\"Network\","
                                       "\"metadata\":{\"name\":\"n\"},\"spec\":{\"cidr\":"
                                       "\"10.1.3.0/23\"}}",
                                       "default", "n", &n, e),
                 -EINVAL);
    cr_assert_eq(nc_network_spec_parse("{\"apiVersion\":\"novacron.io/v1\",\"kind\":\"Network\","
                                       "\"metadata\":{\"name\":\"n\"},\"spec\":{\"cidr\":"
                                       "\"10.1.2.0/24\",\"vni\":42}}",
                                       "default", "n", &n, e),
                 0);
    cr_assert_str_eq(n.cidr, "10.1.2.0/24");
    cr_assert_eq(n.network, 0x0a010200);
    cr_assert_eq(n.prefix, 24);
    cr_assert_eq(n.vni, 42);
    cr_assert_eq(n.mtu, NC_NETWORK_DEFAULT_MTU);
    cr_assert_eq(n.mode, NC_NET_OVERLAY);
    nc_verr_free(e);
}

Test(validate, kinds_by_any_name)
{
    cr_assert_eq(nc_kind_lookup("VMS"), nc_kind_by_segment("vm"));
    cr_assert_eq(nc_kind_lookup("virtualmachine"), nc_kind_by_name("VirtualMachine"));
    cr_assert_eq(nc_kind_lookup("net"), nc_kind_by_segment("network"));
    cr_assert_eq(nc_kind_lookup("volumes"), nc_kind_by_name("Volume"));
    cr_assert_null(nc_kind_lookup("pod"));
    cr_assert_null(nc_kind_by_segment("VirtualMachine"));
}

/* A VirtualMachine whose metadata holds @n labels "lNNNNN": "vvv..."
 * (@vlen characters; every key twice when @twice), built in a buffer the
 * caller frees. */
static char *
many_labels(size_t n, bool twice, size_t vlen)
{
    size_t cap = 256 + n * (32 + vlen), len = 0;
    char *doc = malloc(cap);

    len += (size_t)snprintf(doc + len, cap - len,
                            "{\"apiVersion\":\"novacron.io/v1\",\"kind\":\"VirtualMachine\","
                            "\"metadata\":{\"name\":\"web-1\",\"labels\":{");
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(doc + len, cap - len, "%s\"l%zu\":\"%.*s\"", i ? "," : "",
                                twice ? i / 2 : i, (int)vlen, "vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv");
    snprintf(doc + len, cap - len, "}},\"spec\":{\"vcpus\":1,\"memory\":\"1GiB\"}}");
    return doc;
}

static char *
failure_of(const char *doc)
{
    struct nc_verr *e = nc_verr_new();
    struct nc_vm_spec spec;
    char *msg;

    cr_assert_eq(nc_vm_spec_parse(doc, "default", "web-1", &spec, e), -EINVAL);
    msg = nc_verr_join(e);
    nc_verr_free(e);
    return msg;
}

Test(validate, big_documents_fail_whole_and_briefly)
{
    char *doc, *msg;

    /* 80,000 labels: 1.2 MB, over the document limit, refused unparsed. */
    doc = many_labels(80000, false, 1);
    msg = failure_of(doc);
    cr_assert_str_eq(msg, "(document): is more than the 524288 bytes allowed");
    free(msg);
    free(doc);
    /* 20,000 labels of 12-character values: under the document limit
     * (about 480 KB), over the labels' and annotations' (360 KB). */
    doc = many_labels(20000, false, 12);
    msg = failure_of(doc);
    cr_assert(strstr(msg, "metadata: labels and annotations hold"), "%s", msg);
    free(msg);
    free(doc);
    /* 20,000 labels, each key twice: every repeat found (sorted, not
     * compared pairwise), only the first 20 told, the rest counted. */
    doc = many_labels(20000, true, 1);
    msg = failure_of(doc);
    cr_assert(strstr(msg, "metadata.labels[\"l0\"]: appears more than once"), "%s", msg);
    cr_assert(strstr(msg, "; and 9980 more errors"), "%s", msg);
    cr_assert_lt(strlen(msg), 4096);
    free(msg);
    free(doc);
}
