#!/usr/bin/python3
"""The client side of test_etcd_chaos.sh, speaking etcd's HTTP gateway.

  chaos.py init ENDPOINTS PREFIX NS N          put VMs vm-0 ... vm-(N-1)
  chaos.py churn ENDPOINTS PREFIX NS N SECONDS SEED
      for SECONDS, create, change and delete VMs among vm-0 ... vm-(N*6/5)
      at random, going on through failed writes (which it counts)
  chaos.py check ENDPOINTS PREFIX NS METRICS-URL...
      exit 0 when every VM has converged: its status observes its spec's
      generation and says Ready, exactly one node runs its domain (the
      nodes' novacron_vm_info), and nothing is left of a deleted VM;
      otherwise print what is not so and exit 1
  chaos.py history FILE ENDPOINTS PREFIX NS
      read the status writes `etcdctl watch -w json` recorded in FILE:
      exit 1 if a status's observedGeneration ever went backwards, or if
      the record's last value of a key is not what etcd holds now
  chaos.py proxy URL...
      forward a loopback port to each URL; print the new URLs, comma
      separated, and serve until killed (SIGSTOP cuts every connection
      through it without closing any: a link that drops everything)
"""
import base64
import json
import random
import re
import socket
import sys
import threading
import time
import urllib.request


def b64(s):
    return base64.b64encode(s.encode()).decode()


def unb64(s):
    return base64.b64decode(s).decode()


def prefix_end(p):
    return p[:-1] + chr(ord(p[-1]) + 1)


class Etcd:
    """A client that moves on to the next endpoint when one fails."""

    def __init__(self, endpoints):
        self.eps = endpoints.split(",")
        self.i = 0

    def call(self, path, body, tries=None):
        tries = tries or 3 * len(self.eps)
        for _ in range(tries):
            ep = self.eps[self.i % len(self.eps)]
            try:
                req = urllib.request.Request(ep + path, json.dumps(body).encode(),
                                             {"Content-Type": "application/json"})
                with urllib.request.urlopen(req, timeout=3) as r:
                    return json.load(r)
            except Exception:  # unreachable, 5xx, timed out: the next one
                self.i += 1
                time.sleep(0.05)
        raise RuntimeError("no etcd endpoint answered %s" % path)

    def list(self, prefix):
        resp = self.call("/v3/kv/range", {"key": b64(prefix), "range_end": b64(prefix_end(prefix))})
        return {unb64(kv["key"]): (unb64(kv.get("value", "")), int(kv["mod_revision"]))
                for kv in resp.get("kvs", [])}

    def put(self, key, value, tries=None):
        self.call("/v3/kv/put", {"key": b64(key), "value": b64(value)}, tries)

    def delete(self, key, tries=None):
        self.call("/v3/kv/deleterange", {"key": b64(key)}, tries)


def vm_doc(ns, name, memory, round_):
    return json.dumps({"apiVersion": "novacron.io/v1", "kind": "VirtualMachine",
                       "metadata": {"name": name, "namespace": ns, "labels": {"round": str(round_)}},
                       "spec": {"vcpus": 1, "memory": memory}})


MEMORY = ["64MiB", "96MiB", "128MiB"]


def init(eps, prefix, ns, n):
    e = Etcd(eps)
    for i in range(int(n)):
        e.put("%sspec/%s/vm/vm-%d" % (prefix, ns, i), vm_doc(ns, "vm-%d" % i, "64MiB", 0))


def churn(eps, prefix, ns, n, seconds, seed):
    e = Etcd(eps)
    rng = random.Random(int(seed))
    pool = int(n) * 6 // 5
    end = time.time() + float(seconds)
    done = failed = 0
    while time.time() < end:
        name = "vm-%d" % rng.randrange(pool)
        key = "%sspec/%s/vm/%s" % (prefix, ns, name)
        try:
            # A write that failed may have happened anyway: what etcd holds
            # at the end is the truth the check compares with.
            if rng.random() < 0.2:
                e.delete(key, tries=2)
            else:
                e.put(key, vm_doc(ns, name, rng.choice(MEMORY), done), tries=2)
            done += 1
        except RuntimeError:
            failed += 1
        time.sleep(0.02)
    print("%d writes, %d failed" % (done, failed))


def domains(urls, ns):
    """{name: [node, ...]} of the VMs of @ns the nodes run."""
    line = re.compile(r'^novacron_vm_info\{namespace="([^"]*)",name="([^"]*)",node="([^"]*)"')
    found = {}
    for url in urls:
        with urllib.request.urlopen(url, timeout=10) as r:
            for text in r.read().decode().splitlines():
                m = line.match(text)
                if m and m.group(1) == ns:
                    found.setdefault(m.group(2), []).append(m.group(3))
    return found


def check(eps, prefix, ns, *urls):
    e = Etcd(eps)
    specs = e.list("%sspec/%s/vm/" % (prefix, ns))
    statuses = e.list("%sstatus/%s/vm/" % (prefix, ns))
    doms = domains(urls, ns)
    problems = []
    for key, (_, gen) in sorted(specs.items()):
        name = key.rsplit("/", 1)[1]
        st = statuses.get(key.replace("spec/", "status/", 1))
        status = json.loads(st[0]) if st else {}
        ready = [c for c in status.get("conditions", []) if c.get("type") == "Ready"]
        if status.get("observedGeneration") != gen or not ready or ready[0].get("status") != "True":
            problems.append("%s: status %s, spec generation %d" % (name, json.dumps(status)[:200], gen))
        if len(doms.get(name, [])) != 1:
            problems.append("%s: domains on %s" % (name, doms.get(name, [])))
    for key in statuses:
        if key.replace("status/", "spec/", 1) not in specs:
            problems.append("%s: a status without a spec" % key)
    for name, nodes in doms.items():
        if "%sspec/%s/vm/%s" % (prefix, ns, name) not in specs:
            problems.append("%s: a domain on %s without a spec" % (name, nodes))
    if problems:
        print("%d problems, among them:\n  %s" % (len(problems), "\n  ".join(problems[:8])))
        return 1
    print("%d VMs converged, one domain each, nothing left of deleted ones" % len(specs))
    return 0


def history(path, eps, prefix, ns):
    last = {}
    writes = backwards = 0
    with open(path) as f:
        for text in f:
            if not text.startswith("{"):
                continue
            for ev in json.loads(text).get("Events") or []:
                key = unb64(ev["kv"]["key"])
                if ev.get("type") == 1:  # DELETE
                    last[key] = None
                    continue
                writes += 1
                gen = json.loads(unb64(ev["kv"]["value"])).get("observedGeneration", 0)
                prev = last.get(key)
                if prev is not None and gen < prev[0]:
                    backwards += 1
                    print("%s: observedGeneration %d after %d" % (key, gen, prev[0]))
                last[key] = (gen, unb64(ev["kv"]["value"]))
    now = Etcd(eps).list("%sstatus/%s/vm/" % (prefix, ns))
    missed = [k for k in set(last) | set(now)
              if (now[k][0] if k in now else None) != (last.get(k) or (None, None))[1]]
    for k in missed[:5]:
        print("%s: the record does not end with what etcd holds" % k)
    print("%d status writes to %d keys recorded, %d went backwards, %d keys differ from etcd"
          % (writes, len(last), backwards, len(missed)))
    return 1 if backwards or missed or not writes else 0


def pipe(a, b):
    try:
        while True:
            data = a.recv(65536)
            if not data:
                break
            b.sendall(data)
    except OSError:
        pass
    for s in (a, b):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def serve(listener, port):
    while True:
        c, _ = listener.accept()
        try:
            u = socket.create_connection(("127.0.0.1", port))
        except OSError:
            c.close()
            continue
        threading.Thread(target=pipe, args=(c, u), daemon=True).start()
        threading.Thread(target=pipe, args=(u, c), daemon=True).start()


def proxy(*urls):
    out = []
    for url in urls:
        l = socket.socket()
        l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        l.bind(("127.0.0.1", 0))
        l.listen(64)
        threading.Thread(target=serve, args=(l, int(url.rsplit(":", 1)[1])), daemon=True).start()
        out.append("http://127.0.0.1:%d" % l.getsockname()[1])
    print(",".join(out), flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    cmds = {"init": init, "churn": churn, "check": check, "history": history, "proxy": proxy}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        sys.exit(__doc__)
    sys.exit(cmds[sys.argv[1]](*sys.argv[2:]) or 0)
