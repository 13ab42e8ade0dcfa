#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "schema/vm.h"

#define VM(spec) "{\"apiVersion\":\"novacron.io/v1\",\"kind\":\"VirtualMachine\"," \
                 "\"metadata\":{\"name\":\"web-1\",\"namespace\":\"default\"},\"spec\":" spec "}"

/* Each invalid document and a piece of the message it must produce. */
static const struct {
    const char *ns, *name, *doc, *want;
} bad[] = {
    {"default", "web-1", VM("{\"vcpus\":\"many\",\"memory\":\"1GiB\"}"),
     "spec.vcpus: must be an integer from 1 to 256, got \"many\""},
    {"default", "web-1", VM("{\"vcpus\":0,\"memory\":\"1GiB\"}"),
     "spec.vcpus: must be an integer from 1 to 256, got 0"},
    {"default", "web-1", VM("{\"vcpus\":257,\"memory\":\"1GiB\"}"), "spec.vcpus: must be an integer"},
    {"default", "web-1", VM("{\"vcpus\":1.5,\"memory\":\"1GiB\"}"), "got 1.5"},
    {"default", "web-1", VM("{\"vcpus\":1e300,\"memory\":\"1GiB\"}"), "spec.vcpus"},
    {"default", "web-1", VM("{\"vcpus\":1}"), "spec.memory: is required"},
    {"default", "web-1", VM("{\"memory\":\"1GiB\"}"), "spec.vcpus: is required"},
    {"default", "web-1", VM("{\"vcpus\":1,\"memory\":\"lots\"}"), "spec.memory: must be a size"},
    {"default", "web-1", VM("{\"vcpus\":1,\"memory\":\"0\"}"), "spec.memory: must be from 16MiB"},
    {"default", "web-1", VM("{\"vcpus\":1,\"memory\":\"99999999999999999999999Gi\"}"),
     "spec.memory: is too large"},
    {"default", "web-1", VM("{\"vcpus\":1,\"memory\":\"16777215TiB\"}"), "spec.memory: must be from"},
    {"default", "web-1", VM("{\"vcpus\":1,\"memory\":\"100000000\"}"),
     "spec.memory: must be a multiple of 1MiB"},
    {"default", "web-1", VM("{\"vcpus\":1,\"memory\":-5}"), "spec.memory: must be a size"},
    {"default", "web-1", VM("{\"vcpus\":1,\"memory\":\"1GiB\",\"runState\":\"running\"}"),
     "spec.runState: must be one of Running, Stopped, Paused, got \"running\""},
    {"default", "web-1", VM("{\"vcpus\":1,\"memory\":\"1GiB\",\"accel\":\"xen\"}"), "spec.accel"},
    {"default", "web-1", VM("{\"vcpus\":1,\"memory\":\"1GiB\",\"colour\":\"red\"}"),
     "spec.\"colour\": unknown field"},
    {"default", "web-1", VM("{\"vcpus\":1,\"memory\":\"1GiB\",\"a\\nb\":1}"),
     "spec.\"a\\nb\": unknown field"},
    {"default", "web-1", VM("{\"vcpus\":1,\"memory\":\"1GiB\",\"boot\":{\"kernel\":\"vmlinuz\"}}"),
     "spec.boot.kernel: must be an absolute path"},
    {"default", "web-1",
     VM("{\"vcpus\":1,\"memory\":\"1GiB\",\"boot\":{\"kernel\":\"/boot/../etc/shadow\"}}"),
     "spec.boot.kernel: must not contain"},
    {"default", "web-1", VM("{\"vcpus\":1,\"memory\":\"1GiB\",\"boot\":{\"initrd\":\"/x\"}}"),
     "spec.boot.kernel: is required"},
    {"default", "web-1",
     VM("{\"vcpus\":1,\"memory\":\"1GiB\",\"boot\":{\"kernel\":\"/k\",\"cmdline\":\"a\\u0001b\"}}"),
     "spec.boot.cmdline: must not contain control characters"},
    {"default", "web-1",
     VM("{\"vcpus\":1,\"memory\":\"1GiB\",\"disks\":[{\"name\":\"root\",\"volume\":\"Vol_1\"}]}"),
     "spec.disks[0].volume: must be a DNS label"},
    {"default", "web-1",
     VM("{\"vcpus\":1,\"memory\":\"1GiB\",\"disks\":[{\"name\":\"a\",\"volume\":\"v\"},"
        "{\"name\":\"a\",\"volume\":\"w\"}]}"),
     "spec.disks[1]: name \"a\" is used by spec.disks[0] too"},
    {"default", "web-1",
     VM("{\"vcpus\":1,\"memory\":\"1GiB\",\"disks\":[{\"name\":\"a\",\"volume\":\"v\",\"bus\":\"ide\"}]}"),
     "spec.disks[0].bus: must be one of virtio"},
    {"default", "web-1", VM("{\"vcpus\":1,\"memory\":\"1GiB\",\"disks\":{}}"),
     "spec.disks: must be an array"},
    {"default", "web-1",
     VM("{\"vcpus\":1,\"memory\":\"1GiB\",\"interfaces\":[{\"name\":\"eth0\",\"network\":\"n\","
        "\"mac\":\"01:00:5e:00:00:01\"}]}"),
     "spec.interfaces[0].mac: must be a unicast MAC"},
    {"default", "web-1",
     VM("{\"vcpus\":1,\"memory\":\"1GiB\",\"interfaces\":[{\"name\":\"eth0\",\"network\":\"n\","
        "\"ip\":\"10.0.0.256\"}]}"),
     "spec.interfaces[0].ip: must be an IPv4 address"},
    {"default", "web-1",
     VM("{\"vcpus\":1,\"memory\":\"1GiB\",\"interfaces\":[{\"name\":\"eth0\"}]}"),
     "spec.interfaces[0].network: is required"},
    {"default", "web-1", VM("{\"vcpus\":1,\"memory\":\"1GiB\",\"stopGracePeriodSeconds\":-1}"),
     "spec.stopGracePeriodSeconds: must be an integer from 0 to 3600"},
    {"default", "web-1", VM("{\"vcpus\":1,\"memory\":\"1GiB\",\"node\":\"Node_A\"}"),
     "spec.node: must be a host name"},
    /* The envelope. */
    {"default", "web-2", VM("{\"vcpus\":1,\"memory\":\"1GiB\"}"),
     "metadata.name: \"web-1\" disagrees with the key's name"},
    {"other", "web-1", VM("{\"vcpus\":1,\"memory\":\"1GiB\"}"),
     "metadata.namespace: \"default\" disagrees with the key's namespace"},
    {"default", "Web_1", VM("{\"vcpus\":1,\"memory\":\"1GiB\"}"),
     "metadata.name: the key's name \"Web_1\" is not a DNS label"},
    {"default", "a/b", VM("{\"vcpus\":1,\"memory\":\"1GiB\"}"), "the key's name \"a/b\""},
    {"de<fault>", "web-1", VM("{\"vcpus\":1,\"memory\":\"1GiB\"}"), "the key's namespace"},
    {"default", "web-1",
     "{\"apiVersion\":\"novacron.io/v2\",\"kind\":\"VirtualMachine\",\"metadata\":{\"name\":"
     "\"web-1\"},\"spec\":{\"vcpus\":1,\"memory\":\"1GiB\"}}",
     "apiVersion: must be \"novacron.io/v1\""},
    {"default", "web-1",
     "{\"apiVersion\":\"novacron.io/v1\",\"kind\":\"Volume\",\"metadata\":{\"name\":\"web-1\"},"
     "\"spec\":{\"vcpus\":1,\"memory\":\"1GiB\"}}",
     "kind: must be \"VirtualMachine\" for this key, got \"Volume\""},
    {"default", "web-1",
     "{\"apiVersion\":\"novacron.io/v1\",\"kind\":\"VirtualMachine\",\"metadata\":{\"name\":"
     "\"web-1\",\"labels\":{\"app\":\"a b\"}},\"spec\":{\"vcpus\":1,\"memory\":\"1GiB\"}}",
     "metadata.labels[\"app\"]: must be at most 63 characters"},
    {"default", "web-1",
     "{\"apiVersion\":\"novacron.io/v1\",\"kind\":\"VirtualMachine\",\"metadata\":{\"name\":"
     "\"web-1\",\"uid\":\"x\"},\"spec\":{\"vcpus\":1,\"memory\":\"1GiB\"}}",
     "metadata.\"uid\": unknown field"},
    {"default", "web-1", "{\"apiVersion\":\"novacron.io/v1\"", "(document): is not valid JSON"},
    {"default", "web-1", "[1,2]", "(document): must be a JSON object"},
    {"default", "web-1", "", "(document): is not valid JSON"},
    {"default", "web-1",
     "{\"apiVersion\":\"novacron.io/v1\",\"kind\":\"VirtualMachine\",\"metadata\":{\"name\":"
     "\"web-1\"}}",
     "spec: is required"},
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
