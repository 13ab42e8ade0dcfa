#!/usr/bin/python3
"""Writes the JSON Schemas of schema/ (draft 2020-12), one per kind.

The schemas are generated because some rules are only exact as long
regular expressions: sizes within a range for each suffix, and IPv4
subnets without host bits for each prefix length. Edit this file, run
`hack/gen-schema.py`, and commit both; tests/schema/check.py fails when the
committed files differ from what this writes, or when a schema and the C
validators (schema/*.c) disagree on any case.

Usage: hack/gen-schema.py [OUTDIR]   (default: schema/ of this checkout)
"""
import collections
import json
import os
import sys
import random
import re
OCT = "(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
def mult(step):
    return "(?:" + "|".join(str(v) for v in range(0, 256, step)) + ")"
alts = []
for p in range(8, 31):
    k, r = divmod(p, 8)
    parts = [OCT] * k
    if k < 4:
        parts.append(mult(1 << (8 - r)) if r else "0")
        parts += ["0"] * (4 - k - 1)
    alts.append("\\.".join(parts) + "/" + str(p))
CIDR = "^(?:" + "|".join(alts) + ")$"
any_alts = []
for p in range(0, 33):
    k, r = divmod(p, 8)
    parts = [OCT] * k
    if k < 4:
        parts.append(mult(1 << (8 - r)) if r else "0")
        parts += ["0"] * (4 - k - 1)
    any_alts.append("\\.".join(parts) + "/" + str(p))
CIDR_ANY = "^(?:" + "|".join(any_alts) + ")$"
IP = "^(?:" + OCT + "\\.){3}" + OCT + "$"
LABEL = "^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?$"
SUB = "[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?"
HOST = "^(?=.{1,253}$)" + SUB + "(?:\\." + SUB + ")*$"
NAME = "[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?"
QKEY = "^(?:(?=[^/]{1,253}/)" + SUB + "(?:\\." + SUB + ")*/)?" + NAME + "$"
TEXT = "^[^\\u0000-\\u001f\\u007f\\ud800-\\udfff\\ufffe\\uffff]*$"
LINES = "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f\\ud800-\\udfff\\ufffe\\uffff]*$"
PATH = "^/(?!(?:.*/)?\\.\\.?(?:/|$))[^\\u0000-\\u001f\\u007f\\ud800-\\udfff\\ufffe\\uffff]*$"

def digits_class(lo, hi, rest):
    """[lo-hi] followed by @rest free digits."""
    cls = str(lo) if lo == hi else "[%d-%d]" % (lo, hi)
    return cls + ("[0-9]" if rest == 1 else "[0-9]{%d}" % rest if rest else "")


def tail_ge(t):
    """Alternatives for strings of len(t) digits (leading zeros allowed) >= t."""
    out = []
    for i, c in enumerate(t):
        low = int(c) if i == len(t) - 1 else int(c) + 1
        if low <= 9:
            out.append(t[:i] + digits_class(low, 9, len(t) - i - 1))
    return out or [""]


def tail_le(t):
    """Alternatives for strings of len(t) digits (leading zeros allowed) <= t."""
    out = []
    for i, c in enumerate(t):
        high = int(c) if i == len(t) - 1 else int(c) - 1
        if high >= 0:
            out.append(t[:i] + digits_class(0, high, len(t) - i - 1))
    return out or [""]


def rng(lo, hi):
    """A regex alternation matching the decimal integers lo..hi (lo >= 1),
    written without leading zeros."""
    a, b = str(lo), str(hi)
    if len(a) < len(b):
        parts = [rng(lo, int("9" * len(a)))]
        if len(b) - len(a) > 1:
            parts.append("[1-9][0-9]{%d,%d}" % (len(a), len(b) - 2))
        parts.append(rng(int("1" + "0" * (len(b) - 1)), hi))
        return "|".join(parts)
    if a == b:
        return a
    k = 0
    while a[k] == b[k]:
        k += 1
    out = [a[:k + 1] + x for x in tail_ge(a[k + 1:])]
    if int(b[k]) - int(a[k]) > 1:
        out.append(a[:k] + digits_class(int(a[k]) + 1, int(b[k]) - 1, len(a) - k - 1))
    out += [b[:k + 1] + x for x in tail_le(b[k + 1:])]
    return "|".join(out)


def check_rng(lo, hi):
    """Tries rng() on both ends and a random sample; a wrong regex stops here."""
    pat = re.compile("^(?:" + rng(lo, hi) + ")$")
    r = random.Random(lo ^ hi)
    tests = {0, 1, 9, 10, hi * 10}
    tests.update(range(max(lo - 2000, 0), lo + 2000))
    tests.update(range(max(hi - 2000, 0), hi + 2000))
    tests.update(r.randrange(0, hi * 10) for _ in range(20000))
    for x in tests:
        assert bool(pat.match(str(x))) == (lo <= x <= hi), (lo, hi, x)


def size(desc, lo, hi):
    groups = []
    for shift, suffix in ((10, "Ki"), (20, "Mi"), (30, "Gi"), (40, "Ti")):
        a, b = max((lo + (1 << shift) - 1) >> shift, 1), hi >> shift
        check_rng(a, b)
        groups.append("(?:%s)%s" % (rng(a, b), suffix))
    return {"description": desc,
            "oneOf": [
                {"type": "string", "pattern": "^(?:%s)B?$" % "|".join(groups)},
                {"type": "integer", "minimum": lo, "maximum": hi, "multipleOf": 1024}]}

def envelope(kind, spec, title):
    O = collections.OrderedDict
    s = O()
    s["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    s["$id"] = "https://novacron.io/schemas/v1/%s.schema.json" % kind.lower()
    s["title"] = title
    s["description"] = ("A NovaCron %s manifest (see schema/README.md). The key it is stored under, "
                        "<prefix>spec/<namespace>/%s/<name>, must agree with metadata. "
                        "novacrond and novactl validate with C code that this schema matches; "
                        "see schema/README.md for the few rules a JSON Schema cannot state." % (kind, SEG[kind]))
    s["type"] = "object"
    s["additionalProperties"] = False
    s["required"] = ["apiVersion", "kind", "metadata", "spec"]
    s["properties"] = O([
        ("apiVersion", {"const": "novacron.io/v1"}),
        ("kind", {"const": kind}),
        ("metadata", {"$ref": "#/$defs/metadata"}),
        ("spec", spec)])
    s["$defs"] = O([
        ("dnsLabel", {"description": "lower-case letters, digits and '-', at most 63, alphanumeric at both ends",
                      "type": "string", "maxLength": 63, "pattern": LABEL}),
        ("metadata", {"type": "object", "additionalProperties": False, "required": ["name"],
                      "properties": O([
                          ("name", {"$ref": "#/$defs/dnsLabel"}),
                          ("namespace", {"$ref": "#/$defs/dnsLabel", "description": "default: \"default\""}),
                          ("labels", {"type": "object", "propertyNames": {"pattern": QKEY},
                                      "additionalProperties": {"type": "string", "pattern": "^(?:" + NAME + ")?$"}}),
                          ("annotations", {"type": "object", "propertyNames": {"pattern": QKEY},
                                           "additionalProperties": {"type": "string", "maxLength": 65536, "pattern": TEXT}})])}),
        ("absPath", {"description": "an absolute path without \".\" or \"..\" components",
                     "type": "string", "maxLength": 4096, "pattern": PATH}),
    ])
    if kind == "VirtualMachine":
        s["$defs"]["selector"] = {"type": "object", "maxProperties": 16, "propertyNames": {"pattern": QKEY},
                                  "additionalProperties": {"type": "string", "pattern": "^(?:" + NAME + ")?$"}}
    if kind == "VirtualMachine":
        s["properties"]["metadata"] = {"$ref": "#/$defs/metadata", "properties": {"annotations": {"properties": O([
            ("novacron.io/restartedAt", {"description": "a restart is asked for once per new value (novactl restart writes the time)", "maxLength": 64}),
            ("novacron.io/restartReason", {"description": "why, recorded in status.restart", "maxLength": 256})])}}}
        s["if"] = {"required": ["spec"], "properties": {"spec": {"required": ["snapshotSchedule"]}}}
        s["then"] = {"properties": {"metadata": {"properties": {"name": {"maxLength": 47}}}}}
    anchor(s["$defs"])
    return s

SEG = {"VirtualMachine": "vm", "Volume": "volume", "Network": "network", "Migration": "migration",
       "Snapshot": "snapshot", "Restore": "restore", "InstanceType": "instancetype",
       "NetworkPolicy": "networkpolicy"}

VM_ONLY = ["accel", "boot", "disks", "resources", "cloudInit", "snapshotSchedule"]
PROCESS_ONLY = ["command", "env", "restartPolicy"]
NOT_CONTAINER = VM_ONLY + ["restartPolicy"]
def runtime_is(name):
    return {"required": ["runtime"], "properties": {"runtime": {"const": name}}}
def none_of(fields):
    return {"not": {"anyOf": [{"required": [f]} for f in fields]}}
vm_spec = {"type": "object", "additionalProperties": False,
  "allOf": [
    {"if": {"not": {"required": ["instancetype"]}}, "then": {"required": ["vcpus", "memory"]}},
    {"if": runtime_is("process"),
     "then": dict(none_of(VM_ONLY + ["image"]), required=["command"],
                  properties={"command": {"prefixItems": [{"$ref": "#/$defs/absPath"}]}})},
    {"if": runtime_is("container"), "then": dict(none_of(NOT_CONTAINER), required=["image"])},
    {"if": {"anyOf": [{"not": {"required": ["runtime"]}}, runtime_is("vm")]},
     "then": none_of(PROCESS_ONLY + ["image"])}],
  "properties": collections.OrderedDict([
    ("runtime", {"description": "vm: a QEMU guest; process: spec.command run on the node in a container of libvirt's LXC driver (the host's file system read-only, an unprivileged user, its own network); container: spec.image run by Podman. Neither of the last two takes accel, boot, disks, resources, cloudInit or snapshotSchedule",
                 "enum": ["vm", "process", "container"], "default": "vm"}),
    ("image", {"description": "a container's OCI image reference, as the node's Podman names it (\"localhost/app:1.0\")",
               "type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[A-Za-z0-9][A-Za-z0-9._/:@-]*$"}),
    ("command", {"description": "a process's program, an absolute path inside the node's program folder (--exec-dir), then its arguments; a container's command in its image (default: the image's); passed as they are (no shell)",
                 "type": "array", "minItems": 1, "maxItems": 64,
                 "items": {"type": "string", "maxLength": 4096, "pattern": LINES}}),
    ("env", {"description": "a process's or container's environment variables, each name once", "type": "array", "maxItems": 64,
             "items": {"type": "object", "additionalProperties": False, "required": ["name"],
                       "properties": collections.OrderedDict([
                           ("name", {"type": "string", "maxLength": 128, "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"}),
                           ("value", {"type": "string", "maxLength": 4096, "pattern": LINES, "default": ""})])}}),
    ("restartPolicy", {"description": "when a process that exited is started again (after 1 s, doubling up to 5 min, back to 1 s once it ran 10 min): Always, OnFailure (a non-zero exit), Never",
                       "enum": ["Always", "OnFailure", "Never"], "default": "Always"}),
    ("instancetype", {"$ref": "#/$defs/dnsLabel", "description": "an InstanceType of the same namespace, which gives vcpus and memory (then left out here: naming them too is a conflict the controller reports)"}),
    ("runState", {"enum": ["Running", "Stopped", "Paused"], "default": "Running"}),
    ("vcpus", {"type": "integer", "minimum": 1, "maximum": 256}),
    ("memory", size("16MiB to 4TiB, a multiple of 1KiB: \"256MiB\", \"2GiB\" (suffixes Ki, Mi, Gi, Ti, each with an optional B) or a byte count as a number",
        16 << 20, 4 << 40)),
    ("accel", {"enum": ["auto", "kvm", "tcg"], "default": "auto"}),
    ("boot", {"description": "direct kernel boot; absent: boot from the first disk",
              "type": "object", "additionalProperties": False, "required": ["kernel"],
              "properties": {"kernel": {"$ref": "#/$defs/absPath"}, "initrd": {"$ref": "#/$defs/absPath"},
                             "cmdline": {"type": "string", "maxLength": 2048, "pattern": TEXT}}}),
    ("disks", {"description": "names are unique within the list", "type": "array", "maxItems": 16,
               "items": {"type": "object", "additionalProperties": False, "required": ["name", "volume"],
                         "properties": collections.OrderedDict([
                             ("name", {"$ref": "#/$defs/dnsLabel"}),
                             ("volume", {"$ref": "#/$defs/dnsLabel", "description": "a Volume of the same namespace"}),
                             ("bus", {"enum": ["virtio"], "default": "virtio"}),
                             ("readOnly", {"type": "boolean", "default": False})])}}),
    ("interfaces", {"description": "names are unique within the list", "type": "array", "maxItems": 8,
               "items": {"type": "object", "additionalProperties": False, "required": ["name", "network"],
                         "properties": collections.OrderedDict([
                             ("name", {"$ref": "#/$defs/dnsLabel"}),
                             ("network", {"$ref": "#/$defs/dnsLabel", "description": "a Network of the same namespace"}),
                             ("mac", {"description": "unicast; allocated when absent", "type": "string",
                                      "pattern": "^[0-9a-fA-F][02468aceACE](?::[0-9a-fA-F]{2}){5}$"}),
                             ("ip", {"description": "IPv4 in the network's cidr; allocated when absent", "type": "string", "pattern": IP}),
                             ("portSecurity", {"description": "the guest may send only from this interface's MAC and IP (ARP and DHCP for them); false: anything", "type": "boolean", "default": True}),
                             ("bandwidth", {"description": "limits of the traffic to (inbound) and from (outbound) the guest, in kbit/s; what goes over is dropped; at once, a guest may send or receive one second of the rate and burstKiB more",
                                            "type": "object", "additionalProperties": False,
                                            "anyOf": [{"required": ["inboundKbps"]}, {"required": ["outboundKbps"]}],
                                            "properties": collections.OrderedDict([
                                                ("inboundKbps", {"type": "integer", "minimum": 8, "maximum": 100000000}),
                                                ("outboundKbps", {"type": "integer", "minimum": 8, "maximum": 100000000}),
                                                ("burstKiB", {"type": "integer", "minimum": 2, "maximum": 1048576, "default": 16})])})])}}),
    ("stopGracePeriodSeconds", {"type": "integer", "minimum": 0, "maximum": 3600, "default": 30}),
    ("node", {"description": "run on this node; absent: placed", "type": "string", "maxLength": 253, "pattern": HOST}),
    ("placement", {"description": "where the scheduler may put it (ignored with node)", "type": "object", "additionalProperties": False,
                   "properties": collections.OrderedDict([
                       ("nodeSelector", {"description": "node labels it needs", "$ref": "#/$defs/selector"}),
                       ("spread", {"description": "spread over the values of a node label, counting the VMs with these labels (default: its own)",
                                   "type": "object", "additionalProperties": False, "required": ["topologyKey"],
                                   "properties": collections.OrderedDict([
                                       ("topologyKey", {"type": "string", "maxLength": 317, "pattern": QKEY}),
                                       ("labels", {"$ref": "#/$defs/selector"})])}),
                       ("antiAffinity", {"type": "array", "maxItems": 8,
                                         "items": {"type": "object", "additionalProperties": False, "required": ["labels"],
                                                   "properties": collections.OrderedDict([
                                                       ("labels", {"$ref": "#/$defs/selector", "minProperties": 1}),
                                                       ("topologyKey", {"type": "string", "maxLength": 317, "pattern": QKEY, "default": "novacron.io/node"}),
                                                       ("required", {"type": "boolean", "default": True})])}})])}),
    ("resources", {"description": "what the guest is given within its size", "type": "object", "additionalProperties": False,
                   "properties": collections.OrderedDict([
                       ("memoryBalloon", size("the memory the guest has now, at most memory (16MiB to 4TiB, a multiple of 1KiB), changed live through its balloon; absent: all of memory", 16 << 20, 4 << 40)),
                       ("disks", {"description": "limits of disks of spec.disks, by name (each named once), changed live", "type": "array", "maxItems": 16,
                                  "items": {"type": "object", "additionalProperties": False, "required": ["name"],
                                            "properties": collections.OrderedDict([
                                                ("name", {"$ref": "#/$defs/dnsLabel"}),
                                                ("iops", {"description": "I/O operations per second, read and write together", "type": "integer", "minimum": 1, "maximum": 1000000}),
                                                ("bps", {"description": "bytes per second, read and write together: a size (\"10MiB\") or a number, 1KiB to 1TiB",
                                                         "oneOf": [{"type": "string", "pattern": "^[1-9][0-9]*(?:[KMGT]iB?)?$"},
                                                                   {"type": "integer", "minimum": 1024, "maximum": 1 << 40}]})])}}),
                       ("cpuShares", {"description": "the guest's weight against other guests when CPUs are busy (<cputune><shares>, cgroup cpu.shares), changed live", "type": "integer", "minimum": 2, "maximum": 262144}),
                       ("cpuQuota", {"description": "microseconds of CPU each vCPU may use per 100000 (100 ms): 50000 is half a CPU (<cputune><quota>), changed live", "type": "integer", "minimum": 1000, "maximum": 100000}),
                       ("pinning", {"description": "host CPUs dedicated to the guest, one per vCPU (\"0-3,6\", ids 0 to 1023, each once): vCPU i runs on the i-th smallest (<vcpupin>), changed live; the scheduler places the VM where no other VM pins them",
                                    "type": "string", "maxLength": 256, "pattern": "^[0-9]+(?:-[0-9]+)?(?:,[0-9]+(?:-[0-9]+)?)*$"})])}),
    ("cloudInit", {"description": "a cloud-init NoCloud seed (ISO 9660 labelled cidata) attached as a read-only CD-ROM; meta-data holds instance-id (the VM's uid) and local-hostname (its name); a change restarts the VM with the new seed",
                   "type": "object", "additionalProperties": False,
                   "properties": collections.OrderedDict([
                       ("userData", {"description": "user-data as is (#cloud-config, a script...), at most 65536 bytes", "type": "string", "maxLength": 65536, "pattern": LINES}),
                       ("metaData", {"description": "more meta-data entries, written as YAML strings", "type": "object", "maxProperties": 32,
                                     "propertyNames": {"pattern": "^[A-Za-z0-9._-]{1,63}$", "not": {"enum": ["instance-id", "local-hostname"]}},
                                     "additionalProperties": {"type": "string", "maxLength": 1024, "pattern": TEXT}}),
                       ("networkConfig", {"description": "network-config as is, at most 65536 bytes; absent: version 2 matching each interface's MAC to its IP", "type": "string", "maxLength": 65536, "pattern": LINES})])}),
    ("snapshotSchedule", {"description": "Snapshots named <vm>-YYYYMMDD-hhmmss written at once and then at every multiple of every since the Unix epoch (UTC), the oldest beyond keep deleted; the VM's name may then have at most 47 characters",
                          "type": "object", "additionalProperties": False, "required": ["every", "keep"],
                          "properties": collections.OrderedDict([
                              ("every", {"description": "10s to 366d: digits and a unit, d, h, m, s, largest first (\"1h30m\", \"7d\")",
                                         "type": "string", "maxLength": 32, "pattern": "^([0-9]+d)?([0-9]+h)?([0-9]+m)?([0-9]+s)?$", "minLength": 2}),
                              ("keep", {"type": "integer", "minimum": 1, "maximum": 100})])})])}

vol_spec = {"type": "object", "additionalProperties": False, "required": ["size"],
  "properties": collections.OrderedDict([
    ("size", size("1MiB to 64TiB, a multiple of 1KiB: \"10GiB\" (suffixes Ki, Mi, Gi, Ti, each with an optional B) or a byte count as a number; it may grow, never shrink",
        1 << 20, 64 << 40)),
    ("format", {"enum": ["qcow2", "raw"], "default": "qcow2"}),
    ("pool", {"description": "a libvirt storage pool", "type": "string", "maxLength": 63,
              "pattern": "^[A-Za-z0-9][-A-Za-z0-9_]*$", "default": "default"}),
    ("source", {"description": "absent: a blank volume",
                "oneOf": [
                    {"type": "object", "additionalProperties": False, "required": ["image"],
                     "properties": {"image": {"$ref": "#/$defs/absPath", "description": "copy-on-write clone of this image file (needs format qcow2)"}}},
                    {"type": "object", "additionalProperties": False, "required": ["volume"],
                     "properties": {"volume": {"$ref": "#/$defs/dnsLabel", "description": "a copy of this Volume of the same namespace"}}}]}),
    ("node", {"description": "make it on this node; absent: on the node of the first VM that uses it (node-local pools)", "type": "string", "maxLength": 253, "pattern": HOST})]),
  "if": {"required": ["source"], "properties": {"source": {"required": ["image"]}}},
  "then": {"properties": {"format": {"const": "qcow2"}}}}

net_spec = {"type": "object", "additionalProperties": False, "required": ["cidr"],
  "if": {"required": ["mode"], "properties": {"mode": {"const": "vlan"}}},
  "then": {"required": ["vlan"], "not": {"required": ["vni"]}},
  "else": {"not": {"required": ["vlan"]}},
  "properties": collections.OrderedDict([
    ("cidr", {"description": "an IPv4 subnet from /8 to /30 without host bits set, such as \"10.0.0.0/24\"; the pattern lists, per prefix length, the values its last partial octet may take",
              "type": "string", "pattern": CIDR}),
    ("vni", {"description": "VXLAN id; allocated when absent, unique per cluster", "type": "integer", "minimum": 1, "maximum": 16777215}),
    ("mtu", {"type": "integer", "minimum": 576, "maximum": 9000, "default": 1450}),
    ("mode", {"description": "overlay: bridges joined by VXLAN; isolated: a bridge per node alone; vlan: bridges joined by an 802.1Q VLAN on each node's --vlan-parent", "enum": ["overlay", "isolated", "vlan"], "default": "overlay"}),
    ("vlan", {"description": "the 802.1Q id of a vlan Network (required with mode vlan, only then), unique in the installation", "type": "integer", "minimum": 1, "maximum": 4094}),
    ("egress", {"description": "how guests reach addresses outside the Network", "type": "object", "additionalProperties": False,
                "properties": collections.OrderedDict([
                    ("nat", {"description": "masquerade behind each node's address, through the node (nftables)", "type": "boolean", "default": False}),
                    ("via", {"description": "the node's network interface NAT leaves by; absent: any but the Network's bridge", "type": "string",
                             "maxLength": 15, "pattern": "^(?!\\.\\.?$)[A-Za-z0-9_.-]+$(?!\\n)"})]),
                "if": {"required": ["via"]}, "then": {"required": ["nat"], "properties": {"nat": {"const": True}}}})])}

mig_spec = {"type": "object", "additionalProperties": False, "required": ["vm"],
  "properties": collections.OrderedDict([
    ("vm", {"$ref": "#/$defs/dnsLabel", "description": "the VirtualMachine of the same namespace to move; it must be placed by the scheduler (no spec.node)"}),
    ("targetNode", {"description": "move it to this node; absent: the scheduler picks one, never the node it is on", "type": "string", "maxLength": 253, "pattern": HOST}),
    ("mode", {"description": "live: the guest keeps running; cold: stopped, moved, started; auto: live when it can be", "enum": ["auto", "live", "cold"], "default": "auto"}),
    ("maxDowntimeMs", {"description": "the longest pause a live migration may take at its end (default: libvirt's, 300)", "type": "integer", "minimum": 1, "maximum": 60000}),
    ("bandwidthMiBps", {"description": "the most the migration may send per second (default: no limit)", "type": "integer", "minimum": 1, "maximum": 1000000}),
    ("timeoutSeconds", {"description": "how long it may run before it is aborted and Failed (default: no limit)", "type": "integer", "minimum": 1, "maximum": 86400})])}

snap_spec = {"type": "object", "additionalProperties": False, "required": ["vm"],
  "properties": collections.OrderedDict([
    ("vm", {"$ref": "#/$defs/dnsLabel", "description": "the VirtualMachine of the same namespace whose disks (every one a qcow2 Volume) are taken"}),
    ("memory", {"description": "keep the guest's memory too (when it runs), so that a restore resumes it where it was", "type": "boolean", "default": False}),
    ("quiesce", {"description": "freeze the guest's file systems first through its agent (not available in this version: true Fails)", "type": "boolean", "default": False}),
    ("retainSeconds", {"description": "delete the snapshot this long after it was taken (default: kept until its spec is deleted)", "type": "integer", "minimum": 60, "maximum": 316224000})])}

restore_spec = {"type": "object", "additionalProperties": False, "required": ["vm", "snapshot"],
  "properties": collections.OrderedDict([
    ("vm", {"$ref": "#/$defs/dnsLabel", "description": "the VirtualMachine of the same namespace to restore"}),
    ("snapshot", {"$ref": "#/$defs/dnsLabel", "description": "the Snapshot of that VM, in the same namespace, to bring it back to"})])}

def anchor(node):
    """Python's re (which python-jsonschema uses) lets "$" match before a
    final newline; "(?!\\n)" makes it mean end of text there too."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "pattern" and v.endswith("$"):
                node[k] = v + "(?!\\n)"
            else:
                anchor(v)
    elif isinstance(node, list):
        for v in node:
            anchor(v)

it_spec = {"type": "object", "additionalProperties": False, "required": ["vcpus", "memory"],
  "properties": collections.OrderedDict([
    ("vcpus", {"type": "integer", "minimum": 1, "maximum": 256}),
    ("memory", size("16MiB to 4TiB, a multiple of 1KiB, as a VirtualMachine's", 16 << 20, 4 << 40))])}

np_selector = {"description": "the VMs of the policy's namespace whose labels include every one of matchLabels; {} selects them all",
               "type": "object", "additionalProperties": False,
               "properties": {"matchLabels": {"type": "object", "maxProperties": 16, "propertyNames": {"pattern": QKEY},
                                              "additionalProperties": {"type": "string", "pattern": "^(?:" + NAME + ")?$"}}}}
np_peer = {"description": "exactly one of vmSelector and cidr", "type": "object", "additionalProperties": False,
           "minProperties": 1, "maxProperties": 1,
           "properties": collections.OrderedDict([
               ("vmSelector", np_selector),
               ("cidr", {"description": "an IPv4 subnet, /0 to /32, without host bits set; the CIDRs of one rule do not overlap", "type": "string", "pattern": CIDR_ANY})])}
np_ports = {"description": "none: every port and protocol; the ports of one protocol in one rule do not overlap", "type": "array", "maxItems": 16,
            "items": {"type": "object", "additionalProperties": False, "dependentRequired": {"endPort": ["port"]},
                      "properties": collections.OrderedDict([
                          ("protocol", {"enum": ["TCP", "UDP", "SCTP"], "default": "TCP"}),
                          ("port", {"description": "absent: every port of the protocol", "type": "integer", "minimum": 1, "maximum": 65535}),
                          ("endPort", {"description": "the last port of a range that starts at port (not below it)", "type": "integer", "minimum": 1, "maximum": 65535})])}}
def np_rules(peers, what):
    return {"description": "traffic %s the selected VMs that one rule allows passes; the rest is dropped (replies to what passed always pass)" % what,
            "type": "array", "maxItems": 16,
            "items": {"type": "object", "additionalProperties": False,
                      "properties": collections.OrderedDict([
                          (peers, {"description": "none: every address", "type": "array", "maxItems": 16, "items": np_peer}),
                          ("ports", np_ports)])}}
np_spec = {"type": "object", "additionalProperties": False, "required": ["vmSelector"],
  "properties": collections.OrderedDict([
    ("vmSelector", np_selector),
    ("policyTypes", {"description": "what the selected VMs are isolated for; absent: Ingress, and Egress when egress is given", "type": "array",
                     "minItems": 1, "maxItems": 2, "uniqueItems": True, "items": {"enum": ["Ingress", "Egress"]}}),
    ("ingress", np_rules("from", "to")),
    ("egress", np_rules("to", "from"))])}

for spec in (vm_spec, vol_spec, net_spec, mig_spec, snap_spec, restore_spec, it_spec, np_spec):
    anchor(spec)

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "schema")
for kind, spec, title, fname in [("VirtualMachine", vm_spec, "VirtualMachine", "vm"),
                                 ("Volume", vol_spec, "Volume", "volume"),
                                 ("Network", net_spec, "Network", "network"),
                                 ("Migration", mig_spec, "Migration", "migration"),
                                 ("Snapshot", snap_spec, "Snapshot", "snapshot"),
                                 ("Restore", restore_spec, "Restore", "restore"),
                                 ("InstanceType", it_spec, "InstanceType", "instancetype"),
                                 ("NetworkPolicy", np_spec, "NetworkPolicy", "networkpolicy")]:
    with open(os.path.join(OUT, "%s.schema.json" % fname), "w") as f:
        json.dump(envelope(kind, spec, title), f, indent=2, ensure_ascii=False)
        f.write("\n")
