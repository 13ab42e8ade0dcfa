#include <criterion/criterion.h>
#include <errno.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>
#include <string.h>

#include "drivers/domxml.h"
#include "schema/vm.h"

/* Returns the text of the first node at @xpath in @xml; caller frees. */
static char *
xpath_text(const char *xml, const char *xpath)
{
    xmlDocPtr doc = xmlReadMemory(xml, (int)strlen(xml), "d.xml", NULL, XML_PARSE_NONET);
    xmlXPathContextPtr ctx;
    xmlXPathObjectPtr obj;
    char *out = NULL;

    cr_assert_not_null(doc, "not well-formed XML:\n%s", xml);
    ctx = xmlXPathNewContext(doc);
    xmlXPathRegisterNs(ctx, BAD_CAST "nc", BAD_CAST NC_OWNER_URI);
    obj = xmlXPathEvalExpression(BAD_CAST xpath, ctx);
    if (obj && obj->nodesetval && obj->nodesetval->nodeNr > 0) {
        xmlChar *t = xmlNodeGetContent(obj->nodesetval->nodeTab[0]);

        out = strdup((const char *)t);
        xmlFree(t);
    }
    xmlXPathFreeObject(obj);
    xmlXPathFreeContext(ctx);
    xmlFreeDoc(doc);
    return out;
}

static struct nc_owner owner = {
    .ns = "default", .kind = "vm", .name = "web-1", .cluster = "123", .prefix = "/novacron/",
    .config = "0123456789abcdef",
};

/* Strings that would break a naively concatenated document. */
static const char *const hostile[] = {
    "console=ttyS0 quiet",
    "a\"b'c",
    "</cmdline><kernel>/etc/shadow</kernel><cmdline>",
    "&amp; &lt; &#x41; &",
    "]]><!-- -->",
    "<![CDATA[x]]>",
    "\xc3\xa9\xe2\x82\xac unicode",
};

Test(domxml, hostile_text_round_trips)
{
    for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
        struct nc_owner o = owner;
        struct nc_domain_def def = {.name = "nc-1.default.web-1", .type = "test", .owner = &o,
                                    .vcpus = 2, .memory = 256ULL << 20, .kernel = "/boot/k",
                                    .cmdline = hostile[i], .console_log = hostile[i]};
        char *xml, *t;

        snprintf(o.prefix, sizeof(o.prefix), "%s", hostile[i]);
        cr_assert_eq(nc_domxml_build(&def, &xml), 0, "case %zu", i);
        t = xpath_text(xml, "/domain/os/cmdline");
        cr_assert_str_eq(t, hostile[i], "case %zu", i);
        free(t);
        t = xpath_text(xml, "/domain/os/kernel");
        cr_assert_str_eq(t, "/boot/k", "case %zu: the kernel was replaced", i);
        free(t);
        t = xpath_text(xml, "/domain/metadata/nc:owner/nc:prefix");
        cr_assert_str_eq(t, hostile[i], "case %zu", i);
        free(t);
        t = xpath_text(xml, "/domain/devices/serial/log/@file");
        cr_assert_str_eq(t, hostile[i], "case %zu", i);
        free(t);
        t = xpath_text(xml, "/domain/memory");
        cr_assert_str_eq(t, "262144");
        free(t);
        free(xml);
    }
}

Test(domxml, control_characters_are_refused)
{
    static const char *const bad[] = {"a\x01b", "\x1b[31m", "x\x08y"};

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct nc_domain_def def = {.name = "n", .type = "test", .owner = &owner, .vcpus = 1,
                                    .memory = 1 << 20, .kernel = "/k", .cmdline = bad[i]};
        char *xml = (char *)"untouched";

        cr_assert_eq(nc_domxml_build(&def, &xml), -EINVAL, "case %zu", i);
        cr_assert_null(xml);
    }
}

Test(domxml, owner_mark_round_trips)
{
    struct nc_domain_def def = {.name = "n", .type = "test", .owner = &owner, .vcpus = 1,
                                .memory = 1 << 20};
    struct nc_owner back;
    char *xml, *start, *end;

    cr_assert_eq(nc_domxml_build(&def, &xml), 0);
    start = strstr(xml, "<novacron:owner");
    end = strstr(xml, "</novacron:owner>");
    cr_assert(start && end);
    end[strlen("</novacron:owner>")] = '\0';
    cr_assert_eq(nc_domxml_parse_owner(start, &back), 0, "%s", start);
    cr_assert_str_eq(back.ns, "default");
    cr_assert_str_eq(back.kind, "vm");
    cr_assert_str_eq(back.name, "web-1");
    cr_assert_str_eq(back.cluster, "123");
    cr_assert_str_eq(back.prefix, "/novacron/");
    cr_assert_str_eq(back.config, "0123456789abcdef");
    free(xml);

    /* As libvirt returns it: namespace stripped. */
    cr_assert_eq(nc_domxml_parse_owner("<owner><namespace>a</namespace><kind>vm</kind><name>b"
                                       "</name><cluster>1</cluster><prefix>/p/</prefix></owner>",
                                       &back),
                 0);
    /* Another namespace, a partial mark, junk: not ours. */
    cr_assert_eq(nc_domxml_parse_owner("<x:owner xmlns:x='urn:other'><namespace>a</namespace>"
                                       "<kind>vm</kind><name>b</name><cluster>1</cluster>"
                                       "<prefix>/p/</prefix></x:owner>",
                                       &back),
                 -EINVAL);
    cr_assert_eq(nc_domxml_parse_owner("<owner><name>b</name></owner>", &back), -EINVAL);
    cr_assert_eq(nc_domxml_parse_owner("<owner", &back), -EINVAL);
    /* An element twice, a value too long for its field (cut short, it
     * could name another object): not a mark (found by fuzz_domxml). */
    cr_assert_eq(nc_domxml_parse_owner("<owner><namespace>a</namespace><kind>vm</kind><name>b"
                                       "</name><name>c</name><cluster>1</cluster><prefix>/p/"
                                       "</prefix></owner>",
                                       &back),
                 -EINVAL);
    cr_assert_eq(nc_domxml_parse_owner("<owner><namespace>a123456789012345678901234567890123456"
                                       "78901234567890123456789012345</namespace><kind>vm</kind>"
                                       "<name>b</name><cluster>1</cluster><prefix>/p/</prefix>"
                                       "</owner>",
                                       &back),
                 -EINVAL);
    cr_assert_str_eq(back.ns, "", "nothing is left of a refused mark");
}

Test(domxml, names_are_deterministic_and_distinct)
{
    char h1[9], h2[9], h3[9], a[NC_DOMAIN_NAME_MAX], b[NC_DOMAIN_NAME_MAX];
    char ns[64], name[64];

    nc_install_hash("123", "/novacron/", h1);
    nc_install_hash("123", "/novacron/", h2);
    nc_install_hash("124", "/novacron/", h3);
    cr_assert_str_eq(h1, h2);
    cr_assert_str_neq(h1, h3);
    cr_assert_eq(strlen(h1), 8);
    nc_domain_name(h1, "a-b", "c", a);
    nc_domain_name(h1, "a", "b-c", b);
    cr_assert_str_neq(a, b);
    memset(ns, 'n', 63);
    ns[63] = '\0';
    memset(name, 'm', 63);
    name[63] = '\0';
    nc_domain_name(h1, ns, name, a);
    cr_assert_eq(strlen(a), 3 + 8 + 1 + 63 + 1 + 63, "a long name was cut: %s", a);
}

Test(domxml, config_hash_follows_the_definition)
{
    struct nc_domain_def d1 = {.type = "test", .vcpus = 1, .memory = 1 << 20}, d2 = d1;
    char h1[17], h2[17];

    nc_domain_config_hash(&d1, h1, NULL);
    nc_domain_config_hash(&d2, h2, NULL);
    cr_assert_str_eq(h1, h2);
    d2.vcpus = 2;
    nc_domain_config_hash(&d2, h2, NULL);
    cr_assert_str_neq(h1, h2);
    d2 = d1;
    d2.name = "other"; /* not part of the definition's identity */
    d2.console_log = "/var/log/x";
    nc_domain_config_hash(&d2, h2, NULL);
    cr_assert_str_eq(h1, h2);
}

/* A seed is named by its content in a folder of the node's: a guest that
 * moves to another node's copy keeps its hash, a new seed does not. */
Test(domxml, config_hash_names_the_seed_not_its_folder)
{
    struct nc_domain_def d1 = {.type = "qemu", .vcpus = 1, .memory = 1 << 20,
                               .seed = "/run/a/host-a/seeds/dom/0123456789abcdef.iso"},
                         d2 = d1;
    char h1[17], h2[17], b1[17], b2[17];

    nc_domain_config_hash(&d1, h1, b1);
    d2.seed = "/run/b/host-b/seeds/dom/0123456789abcdef.iso";
    nc_domain_config_hash(&d2, h2, b2);
    cr_assert_str_eq(h1, h2);
    cr_assert_str_eq(b1, b2);
    d2.seed = "/run/a/host-a/seeds/dom/fedcba9876543210.iso";
    nc_domain_config_hash(&d2, h2, b2);
    cr_assert_str_neq(h1, h2);
    cr_assert_str_neq(b1, b2);
}

/* The hash is in every running domain's owner mark: a new formula would
 * restart every guest after an upgrade. These are the values it has had
 * since domains first carried it. */
Test(domxml, config_hash_keeps_its_formula)
{
    struct nc_disk_src disks[2] = {{.name = "root", .path = "/p/a", .format = "qcow2"},
                                   {.name = "data", .path = "/p/b", .format = "raw", .read_only = true}};
    struct nc_nic_src nics[1] = {{.mac = "52:54:00:00:00:01", .tap = "nct12345678", .mtu = 1450}};
    struct nc_domain_def def = {.type = "qemu", .vcpus = 2, .memory = 256ULL << 20,
                                .accel = NC_ACCEL_TCG, .kernel = "/k", .initrd = "/i",
                                .cmdline = "console=ttyS0", .disks = disks, .n_disks = 2,
                                .nics = nics, .n_nics = 1};
    struct nc_domain_def bare = {.type = "test", .vcpus = 2, .memory = 256ULL << 20,
                                 .accel = NC_ACCEL_TCG, .kernel = "/k", .initrd = "/i",
                                 .cmdline = "console=ttyS0"};
    char config[17], base[17];

    nc_domain_config_hash(&def, config, base);
    cr_assert_str_eq(config, "b8753df843cdc6b3");
    /* The base leaves the interfaces out (since interfaces are
     * hot-plugged): it only decides whether a change is hot-plugged. */
    cr_assert_str_eq(base, "79ce550f574bf03c");
    nc_domain_config_hash(&bare, config, base);
    cr_assert_str_eq(config, "fbbe1fe68a0f30ec");
    cr_assert_str_eq(base, "fbbe1fe68a0f30ec");
    /* What changes live (the balloon, a disk's limits) is not in it. */
    def.current_memory = 128ULL << 20;
    disks[0].iops = 100;
    disks[1].bps = 1 << 20;
    nc_domain_config_hash(&def, config, base);
    cr_assert_str_eq(config, "b8753df843cdc6b3");
}

Test(domxml, balloon_and_disk_limits)
{
    struct nc_disk_src disks[1] = {{.name = "root", .path = "/p/a", .format = "qcow2", .iops = 200,
                                    .bps = 10485760}};
    struct nc_domain_def def = {.name = "n", .type = "test", .owner = &owner, .vcpus = 1,
                                .memory = 256ULL << 20, .current_memory = 192ULL << 20,
                                .disks = disks, .n_disks = 1};
    char *xml;

    cr_assert_eq(nc_domxml_build(&def, &xml), 0);
    cr_assert(strstr(xml, "<memory unit=\"KiB\">262144</memory>"), "%s", xml);
    cr_assert(strstr(xml, "<currentMemory unit=\"KiB\">196608</currentMemory>"), "%s", xml);
    cr_assert(strstr(xml, "<iotune>"), "%s", xml);
    cr_assert(strstr(xml, "<total_bytes_sec>10485760</total_bytes_sec>"), "%s", xml);
    cr_assert(strstr(xml, "<total_iops_sec>200</total_iops_sec>"), "%s", xml);
    free(xml);
}

Test(domxml, cloudinit_seed_is_a_readonly_cdrom)
{
    struct nc_domain_def def = {.name = "n", .type = "test", .owner = &owner, .vcpus = 1,
                                .memory = 1 << 20, .seed = "/run/seeds/n/1.iso"};
    char *xml, h1[17], h2[17], b1[17], b2[17];

    cr_assert_eq(nc_domxml_build(&def, &xml), 0);
    const char *cd = strstr(xml, "<disk type=\"file\" device=\"cdrom\">");

    cr_assert(cd, "%s", xml);
    cr_assert(strstr(cd, "<source file=\"/run/seeds/n/1.iso\"/>"), "%s", xml);
    cr_assert(strstr(cd, "<target dev=\"sda\" bus=\"scsi\"/>"), "%s", xml);
    cr_assert(strstr(cd, "<readonly/>") < strstr(cd, "</disk>"), "%s", xml);
    cr_assert(strstr(xml, "<controller type=\"scsi\" index=\"0\" model=\"virtio-scsi\"/>"),
              "%s", xml);
    free(xml);
    /* A new seed is a new definition, and not a hot-plug of disks. */
    nc_domain_config_hash(&def, h1, b1);
    def.seed = "/run/seeds/n/2.iso";
    nc_domain_config_hash(&def, h2, b2);
    cr_assert_str_neq(h1, h2);
    cr_assert_str_neq(b1, b2);
    def.seed = "/run/\x01";
    cr_assert_eq(nc_domxml_build(&def, &xml), -EINVAL);
}

Test(domxml, disks_from_volumes)
{
    struct nc_disk_src disks[2] = {{.name = "root", .path = "/pool/a&<b>.img", .format = "qcow2"},
                                   {.name = "data", .path = "/pool/b", .format = "raw", .read_only = true}};
    struct nc_domain_def def = {.name = "n", .type = "test", .owner = &owner, .vcpus = 1,
                                .memory = 1 << 20, .disks = disks, .n_disks = 2};
    char *xml, h1[17], h2[17], b1[17], b2[17];

    cr_assert_eq(nc_domxml_build(&def, &xml), 0);
    cr_assert(strstr(xml, "<boot dev=\"hd\"/>"), "%s", xml);
    cr_assert(strstr(xml, "<driver name=\"qemu\" type=\"qcow2\"/>"), "%s", xml);
    cr_assert(strstr(xml, "<source file=\"/pool/a&amp;&lt;b&gt;.img\"/>"), "%s", xml);
    cr_assert(strstr(xml, "<target dev=\"vda\" bus=\"virtio\"/>"), "%s", xml);
    cr_assert(strstr(xml, "<driver name=\"qemu\" type=\"raw\"/>"), "%s", xml);
    /* Only the second disk is read-only. */
    cr_assert(strstr(xml, "<readonly/>") > strstr(xml, "<target dev=\"vdb\" bus=\"virtio\"/>"));
    cr_assert_null(strstr(strstr(xml, "<readonly/>") + 1, "<readonly/>"));
    free(xml);

    /* The definition, so its hash, changes with where a disk lives. */
    nc_domain_config_hash(&def, h1, b1);
    snprintf(disks[1].path, sizeof(disks[1].path), "/other/b");
    nc_domain_config_hash(&def, h2, b2);
    cr_assert_str_neq(h1, h2);
    cr_assert_str_eq(b1, b2, "the base leaves the disks out");

    /* What XML cannot carry is refused. */
    snprintf(disks[1].path, sizeof(disks[1].path), "/p/\x01");
    cr_assert_eq(nc_domxml_build(&def, &xml), -EINVAL);
}

Test(domxml, interfaces_are_taps)
{
    struct nc_nic_src nics[2] = {{.mac = "52:54:00:aa:bb:cc", .tap = "nct01234567", .mtu = 1450},
                                 {.mac = "52:54:00:aa:bb:cd", .tap = "nct89abcdef", .mtu = 9000}};
    struct nc_domain_def def = {.name = "n", .type = "test", .owner = &owner, .vcpus = 1,
                                .memory = 1 << 20, .nics = nics, .n_nics = 2};
    char *xml, h1[17], h2[17], b1[17], b2[17];

    cr_assert_eq(nc_domxml_build(&def, &xml), 0);
    cr_assert(strstr(xml, "<interface type=\"ethernet\">"), "%s", xml);
    cr_assert(strstr(xml, "<mac address=\"52:54:00:aa:bb:cc\"/>"), "%s", xml);
    cr_assert(strstr(xml, "<target dev=\"nct01234567\"/>"), "%s", xml);
    cr_assert(strstr(xml, "<model type=\"virtio\"/>"), "%s", xml);
    cr_assert(strstr(xml, "<mtu size=\"9000\"/>") > strstr(xml, "nct89abcdef"), "%s", xml);
    free(xml);

    /* A new MAC is a new definition, one a hot-plug makes (the base
     * leaves the interfaces out). */
    nc_domain_config_hash(&def, h1, b1);
    nics[1].mac[16] = 'e';
    nc_domain_config_hash(&def, h2, b2);
    cr_assert_str_neq(h1, h2);
    cr_assert_str_eq(b1, b2);
    cr_assert_eq(nc_domxml_nic(&nics[0], &xml), 0);
    cr_assert(strstr(xml, "<interface type=\"ethernet\">"), "%s", xml);
    cr_assert(strstr(xml, "<mac address=\"52:54:00:aa:bb:cc\"/>"), "%s", xml);
    free(xml);
}

/* @xml without the indentation between elements, in place. */
static char *
squeeze(char *xml)
{
    char *out = xml;

    for (const char *in = xml; *in; in++) {
        *out++ = *in;
        if (*in == '>')
            while (in[1] == '\n' || in[1] == ' ')
                in++;
    }
    *out = '\0';
    return xml;
}

Test(domxml, a_process_is_an_lxc_exe_domain)
{
    const char *const command[] = {"/srv/bin/app", "--name", "a<b>&\"c'", NULL};
    const char *const env[] = {"GREETING=hi <there> & \"all\"", "EMPTY="};
    struct nc_nic_src nics[1] = {
        {.mac = "52:54:00:aa:bb:01", .tap = "nct01234567", .mtu = 1450, .ip = "10.9.0.5", .prefix = 24}};
    struct nc_domain_def def = {.name = "p", .type = "lxc", .owner = &owner, .vcpus = 2,
                                .memory = 64 << 20, .nics = nics, .n_nics = 1,
                                .command = command, .env = env, .n_env = 2,
                                .run_dir = "/run/novacron/n1/processes/p"};
    char *xml, h1[17], h2[17], b1[17], b2[17];

    cr_assert_eq(nc_domxml_build(&def, &xml), 0);
    squeeze(xml);
    cr_assert(strstr(xml, "<domain type=\"lxc\">"), "%s", xml);
    cr_assert(strstr(xml, "<type>exe</type>"), "%s", xml);
    cr_assert(strstr(xml, "<init>/bin/sh</init>"), "%s", xml);
    /* Each argument is one initarg, escaped, after the folder; the shell
     * never parses them. */
    const char *dir = strstr(xml, "<initarg>/run/novacron/n1/processes/p</initarg>");
    const char *arg0 = strstr(xml, "<initarg>/srv/bin/app</initarg>");
    cr_assert(dir && arg0 > dir, "%s", xml);
    cr_assert(strstr(arg0, "<initarg>--name</initarg><initarg>a&lt;b&gt;&amp;&quot;c'</initarg>"),
              "%s", xml);
    /* The environment too, counted, between the folder and the command
     * (libvirt would write <initenv> back unescaped). */
    cr_assert(strstr(xml, "<initarg>/run/novacron/n1/processes/p</initarg><initarg>2</initarg>"
                          "<initarg>GREETING=hi &lt;there&gt; &amp; &quot;all&quot;</initarg>"
                          "<initarg>EMPTY=</initarg><initarg>/srv/bin/app</initarg>"),
              "%s", xml);
    cr_assert_null(strstr(xml, "<initenv"), "%s", xml);
    /* Nobody, no capabilities, and a network namespace of its own. */
    cr_assert(strstr(xml, "setpriv --reuid=65534 --regid=65534"), "%s", xml);
    cr_assert(strstr(xml, "--bounding-set=-all"), "%s", xml);
    cr_assert(strstr(xml, "<features><privnet/></features>"), "%s", xml);
    /* Two CPUs' worth of time. */
    cr_assert(strstr(xml, "<quota>200000</quota>"), "%s", xml);
    /* The host read-only, its folder writable. */
    cr_assert(strstr(xml, "<source dir=\"/\"/><target dir=\"/\"/><readonly/>"), "%s", xml);
    cr_assert(strstr(xml, "<source dir=\"/run/novacron/n1/processes/p\"/>"
                          "<target dir=\"/run/novacron/n1/processes/p\"/></filesystem>"),
              "%s", xml);
    cr_assert(strstr(xml, "<ip address=\"10.9.0.5\" prefix=\"24\"/>"), "%s", xml);
    cr_assert_null(strstr(xml, "<kernel>"), "%s", xml);
    free(xml);

    /* The command, the environment and the address are its identity. */
    nc_domain_config_hash(&def, h1, b1);
    snprintf(nics[0].ip, sizeof(nics[0].ip), "10.9.0.6");
    nc_domain_config_hash(&def, h2, b2);
    cr_assert_str_neq(h1, h2);
    const char *const env2[] = {"GREETING=bye", "EMPTY="};
    def.env = env2;
    nc_domain_config_hash(&def, h1, b1);
    cr_assert_str_neq(h1, h2);

    /* What XML cannot carry is refused. */
    const char *const bad[] = {"/srv/bin/app", "\x01", NULL};
    def.command = bad;
    cr_assert_eq(nc_domxml_build(&def, &xml), -EINVAL);
}
