#!/usr/bin/python3
"""Cross-checks the JSON Schemas in schema/ against the C validators.

Every document of tests/corpus/documents.json, every example manifest and
a generated set of boundary cases goes both to `novactl validate -o json`
(the C validators novacrond uses) and to Debian's python3-jsonschema with
the schema of its kind. The verdicts must agree, except for the corpus
cases marked "schemaCannot": rules a JSON Schema cannot state (the C
validator refuses them, the schema must accept them, so the list stays
exact). Exit status 1 on any disagreement.

Usage: tests/schema/check.py PATH/TO/novactl
"""
import glob
import json
import os
import random
import subprocess
import sys
import tempfile

from jsonschema import Draft202012Validator

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def load_schemas():
    validators = {}
    for path in sorted(glob.glob(os.path.join(ROOT, "schema", "*.schema.json"))):
        with open(path) as f:
            schema = json.load(f)
        Draft202012Validator.check_schema(schema)
        validators[schema["properties"]["kind"]["const"]] = Draft202012Validator(schema)
    return validators


def envelope(kind, name, spec):
    return {"apiVersion": "novacron.io/v1", "kind": kind, "metadata": {"name": name}, "spec": spec}


def generated():
    """Boundary and random cases for every pattern and range the schemas hold."""
    rnd = random.Random(20261123)
    out = []
    vm = lambda **spec: envelope("VirtualMachine", "web-1", dict({"vcpus": 1, "memory": "1GiB"}, **spec))
    vol = lambda **spec: envelope("Volume", "disk-1", dict({"size": "1GiB"}, **spec))
    net = lambda **spec: envelope("Network", "net-a", dict({"cidr": "10.0.0.0/24"}, **spec))
    # Sizes: each suffix around both ends of the range, and byte counts.
    for make, field, lo, hi in ((vm, "memory", 16 << 20, 4 << 40), (vol, "size", 1 << 20, 64 << 40)):
        for shift, suffix in ((10, "Ki"), (20, "Mi"), (30, "Gi"), (40, "Ti")):
            unit = 1 << shift
            for n in {max(lo // unit, 1) - 1, max(lo // unit, 1), (lo + unit - 1) // unit,
                      hi // unit, hi // unit + 1, rnd.randrange(1, hi // unit + 2), 0}:
                for b in ("", "B"):
                    out.append(make(**{field: "%d%s%s" % (n, suffix, b)}))
        for n in (lo - 1024, lo - 1, lo, lo + 1, lo + 1024, hi - 1024, hi, hi + 1, hi + 1024,
                  rnd.randrange(lo, hi) // 1024 * 1024, rnd.randrange(lo, hi)):
            out.append(make(**{field: n}))
        for s in ("%d" % lo, "1 GiB", "1GiB\n", "1gib", "1G", "01GiB", "-1GiB", "1.0GiB", "1KiBB"):
            out.append(make(**{field: s}))
    # Networks: every prefix length, with and without host bits.
    for p in range(6, 33):
        for _ in range(4):
            addr = rnd.getrandbits(32)
            for a in (addr, addr & (0xffffffff << (32 - p)) & 0xffffffff if p else 0):
                text = ".".join(str((a >> s) & 255) for s in (24, 16, 8, 0))
                out.append(net(cidr="%s/%d" % (text, p)))
    for s in ("10.0.0.0/24\n", "10.0.0.0/024", "10.00.0.0/24", "10.0.0.0 /24", "10.0.0/24",
              "10.0.0.0/", "/24", "010.0.0.0/8"):
        out.append(net(cidr=s))
    for vni in (0, 1, 16777215, 16777216):
        out.append(net(vni=vni))
    for mtu in (575, 576, 9000, 9001):
        out.append(net(mtu=mtu))
    # Names and other strings.
    for name in ("a" * 62, "a" * 63, "a" * 64, "A", "a_b", "-a", "a-", "a.b", "é", "web-1\n", "0"):
        out.append(envelope("Network", name, {"cidr": "10.0.0.0/24"}))
        out.append(vm(disks=[{"name": "root", "volume": name}]))
    for node in ("a", "a.b", "a..b", ".a", "a.", "a" * 63 + ".b", "a" * 64 + ".b",
                 ".".join(["a" * 63] * 4)[:253], ".".join(["a" * 63] * 4)[:254], "node-a\n"):
        out.append(vm(node=node))
    for mac in ("52:54:00:12:34:56", "53:54:00:12:34:56", "52:54:00:12:34", "52:54:00:12:34:5G",
                "FE:54:00:12:34:56", "52:54:00:12:34:56\n"):
        out.append(vm(interfaces=[{"name": "eth0", "network": "n", "mac": mac}]))
    for ip in ("0.0.0.0", "255.255.255.255", "256.0.0.0", "01.2.3.4", "1.2.3", "1.2.3.4\n", " 1.2.3.4"):
        out.append(vm(interfaces=[{"name": "eth0", "network": "n", "ip": ip}]))
    for path in ("/", "/a", "//a//b/", "/a/./b", "/a/../b", "/a/..b", "/.../x", "/a/.", "/a/..",
                 "/.", "a", "", "/a\tb", "/" + "x" * 4095, "/" + "x" * 4096, "/é" * 2048):
        out.append(vm(boot={"kernel": path}))
        out.append(vol(source={"image": path}))
    for pool in ("default", "vm_pool-2", "_x", "-x", "a.b", "p" * 63, "p" * 64, "é"):
        out.append(vol(pool=pool))
    for key in ("app", "example.com/app", "a/b/c", "Example.com/app", "x" * 63, "x" * 64,
                "a" * 63 + "." + "b" * 63 + "/x", ("a" * 63 + ".") * 4 + "/x", "/x", "x/", "a_b",
                "a.b", "app\n"):
        out.append(envelope("VirtualMachine", "web-1", {"vcpus": 1, "memory": "1GiB"}))
        out[-1]["metadata"]["labels"] = {key: "v"}
        out.append(envelope("VirtualMachine", "web-1", {"vcpus": 1, "memory": "1GiB"}))
        out[-1]["metadata"]["annotations"] = {key: "any text <&>"}
    for value in ("", "v", "a-b_c.d", "-v", "v-", "x" * 63, "x" * 64, "v\n", "a b"):
        out.append(envelope("VirtualMachine", "web-1", {"vcpus": 1, "memory": "1GiB"}))
        out[-1]["metadata"]["labels"] = {"app": value}
    # NetworkPolicy: CIDRs of every prefix length, ports at both ends.
    pol = lambda rule: envelope("NetworkPolicy", "p", {"vmSelector": {}, "ingress": [rule]})
    for p in range(0, 34):
        addr = rnd.getrandbits(32)
        for a in (addr, addr & (0xffffffff << (32 - p)) & 0xffffffff if 0 < p <= 32 else 0):
            text = ".".join(str((a >> s) & 255) for s in (24, 16, 8, 0))
            out.append(pol({"from": [{"cidr": "%s/%d" % (text, p)}]}))
    for port in (0, 1, 65535, 65536, -1, "80", 80.5):
        out.append(pol({"ports": [{"port": port}]}))
        out.append(pol({"ports": [{"port": 1, "endPort": port}]}))
    for types in ([], ["Ingress"], ["Egress"], ["Egress", "Ingress"], ["Ingress", "Ingress"], ["ingress"], "Ingress"):
        out.append(envelope("NetworkPolicy", "p", {"vmSelector": {}, "policyTypes": types}))
    for text in ("x" * 2048, "x" * 2049, "é" * 2048, "tab\there", "end\n"):
        out.append(vm(boot={"kernel": "/k", "cmdline": text}))
    return [{"doc": d} for d in out]


def example_manifests():
    cases = []
    for path in sorted(glob.glob(os.path.join(ROOT, "manifests", "**", "*.json"), recursive=True)):
        if os.sep + "monitoring" + os.sep in path:
            continue  # Prometheus and Grafana files, not NovaCron documents
        with open(path) as f:
            cases.append({"text": f.read(), "source": os.path.relpath(path, ROOT), "want": None})
    return cases


def reject_constant(name):
    raise ValueError("not JSON: " + name)


def schema_verdict(validators, text):
    try:
        doc = json.loads(text, parse_constant=reject_constant)
    except ValueError:
        return False, "not JSON"
    # cJSON does not decode a \u0000 safely, so the C side refuses it
    # before parsing; in the decoded document it is a control character,
    # which every string pattern refuses too.
    docs = doc if isinstance(doc, list) else [doc]
    for d in docs:
        v = validators.get(d.get("kind")) if isinstance(d, dict) else None
        if v is None:
            return False, "no schema for this kind"
        errors = sorted(v.iter_errors(d), key=lambda e: list(e.path))
        if errors:
            return False, "%s: %s" % ("/".join(map(str, errors[0].path)), errors[0].message[:200])
    return True, ""


def generated_files_current():
    """The committed schemas are what hack/gen-schema.py writes."""
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, os.path.join(ROOT, "hack", "gen-schema.py"), tmp], check=True)
        stale = []
        for name in sorted(os.listdir(tmp)):
            with open(os.path.join(tmp, name)) as a, open(os.path.join(ROOT, "schema", name)) as b:
                if a.read() != b.read():
                    stale.append(name)
    if stale:
        sys.exit("schema/%s differ from what hack/gen-schema.py writes: run it and commit"
                 % ", schema/".join(stale))


def main():
    novactl = sys.argv[1]
    generated_files_current()
    validators = load_schemas()
    with open(os.path.join(ROOT, "tests", "corpus", "documents.json")) as f:
        corpus = json.load(f)
    for c in corpus:
        c["source"] = "corpus"
    cases = corpus + example_manifests() + [dict(c, source="generated") for c in generated()]
    with tempfile.TemporaryDirectory() as tmp:
        for i, c in enumerate(cases):
            c["file"] = os.path.join(tmp, "case-%04d.json" % i)
            if "text" not in c:
                c["text"] = json.dumps(c["doc"], ensure_ascii=False)
            with open(c["file"], "w") as f:
                f.write(c["text"])
        run = subprocess.run([novactl, "validate", "-o", "json", "-f", tmp],
                             capture_output=True, text=True)
        if run.returncode not in (0, 1):
            sys.exit("novactl validate failed: %s" % run.stderr)
        results = {}
        for r in json.loads(run.stdout):
            results.setdefault(r["file"], []).append(r)
    bad = 0
    known = 0
    for c in cases:
        rs = results.get(c["file"], [])
        c_valid = bool(rs) and all(r["valid"] for r in rs)
        c_errors = [e for r in rs for e in r["errors"]]
        s_valid, s_why = schema_verdict(validators, c["text"])
        if "want" in c and (c["want"] is None) != c_valid:
            print("MISMATCH (C against the corpus) %s %s: C says %s %s" %
                  (c["source"], c["text"][:160], c_valid, c_errors))
            bad += 1
        if c.get("schemaCannot"):
            known += 1
            if c_valid or not s_valid:
                print("MISMATCH (known difference no longer holds) %s: C %s, schema %s" %
                      (c["text"][:160], c_valid, s_valid))
                bad += 1
            continue
        if c_valid != s_valid:
            print("MISMATCH %s %s\n  C: %s %s\n  schema: %s %s" %
                  (c["source"], c["text"][:200], c_valid, c_errors, s_valid, s_why))
            bad += 1
    n_valid = sum(1 for c in cases if results.get(c["file"]) and
                  all(r["valid"] for r in results[c["file"]]))
    print("schema check: %d documents (%d valid, %d invalid), %d disagreements, "
          "%d known differences (rules a JSON Schema cannot state)" %
          (len(cases), n_valid, len(cases) - n_valid, bad, known))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
