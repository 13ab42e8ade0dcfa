# A fresh machine: `make demo` in a copy of the repository (its tracked
# files) on a PATH where pkg-config and dpkg-query say that nothing is
# installed until apt-get has been called, as on a Debian 12 machine that
# has never seen the project. It must pass on the first run: deps installs,
# and only then are the libraries' flags asked for. The demo runs on
# libvirt's test driver (DEMO_LIBVIRT=test), which keeps it fast and makes
# this also the test that the demo script works.
# lane: light
. "$(dirname "$0")/lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)

mkdir -p "$TMP/bin" "$TMP/clone"
(cd "$top" && git ls-files -z | xargs -0 tar cf -) | tar xf - -C "$TMP/clone"
installed="$TMP/apt-get-was-called"
for tool in pkg-config dpkg-query; do
    real=$(command -v $tool)
    cat >"$TMP/bin/$tool" <<EOF
#!/bin/sh
# Nothing is installed until apt-get has run.
[ -e "$installed" ] && exec "$real" "\$@"
echo "$tool: no packages found (fresh machine)" >&2
exit 1
EOF
done
real=$(command -v apt-get)
cat >"$TMP/bin/apt-get" <<EOF
#!/bin/sh
# Everything is in fact installed already: record what was asked for.
case "\$1" in
download) exec "$real" "\$@" ;;
esac
echo "\$*" >>"$TMP/apt-get.calls"
touch "$installed"
EOF
chmod +x "$TMP/bin/"*

PATH="$TMP/bin:$PATH" pkg-config --cflags libxml-2.0 >/dev/null 2>&1 &&
    fail "the pkg-config wrapper answers before apt-get was called"
netns_before=$(ip netns list | grep novacron-demo- || true)
# A user's shell: none of the variables of the make that runs this test
# (make check passes BUILD, CFLAGS and SANFLAGS down through MAKEFLAGS).
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES BUILD CFLAGS SANFLAGS
if ! (cd "$TMP/clone" && PATH="$TMP/bin:$PATH" DEMO_LIBVIRT=test make -j2 demo) \
    >"$TMP/make.log" 2>&1; then
    tail -n 30 "$TMP/make.log" >&2
    fail "make demo failed on the first run on a fresh machine"
fi
grep -q "install -y .*libxml2-dev" "$TMP/apt-get.calls" ||
    fail "hack/deps.sh did not install libxml2-dev: $(cat "$TMP/apt-get.calls")"
[ -x "$TMP/clone/build/novacrond" ] && [ -x "$TMP/clone/build/novactl" ] || fail "no binaries"
ok "make demo passed on the first run on a fresh machine (apt-get: $(tr '\n' ';' <"$TMP/apt-get.calls"))"

# What the demo must show, as it printed it.
for line in 'novactl apply -f manifests/app/' 'all Ready' 'network/app-net +Ready +True' \
    'volume/app-1-root +Ready +True' 'vm/app-2 +Running +True +demo' 'networkpolicy/shop-web +Ready +True' \
    'novactl delete -f manifests/app/ --wait' 'no status, allocation, domain, volume, device or nftables table left'; do
    grep -qE -- "$line" "$TMP/make.log" || { cat "$TMP/make.log" >&2; fail "the demo did not print: $line"; }
done
[ "$(ip netns list | grep novacron-demo- || true)" = "$netns_before" ] ||
    fail "the demo left its network namespace: $(ip netns list | grep novacron-demo-)"
ok "the demo applied manifests/app/, showed every kind Ready, deleted it all and left nothing"

# make install honours PREFIX and DESTDIR; the man pages render and carry
# every verb's own --help.
(cd "$TMP/clone" && PATH="$TMP/bin:$PATH" make install PREFIX=/usr DESTDIR="$TMP/root") \
    >"$TMP/install.log" 2>&1 || { tail -n 20 "$TMP/install.log" >&2; fail "make install failed"; }
for f in bin/novacrond bin/novactl share/man/man1/novactl.1 share/man/man8/novacrond.8 \
    share/doc/novacron/api.md lib/systemd/system/novacrond.service; do
    [ -s "$TMP/root/usr/$f" ] || fail "make install did not install /usr/$f"
done
grep -qx 'ExecStart=/usr/bin/novacrond' "$TMP/root/usr/lib/systemd/system/novacrond.service" ||
    fail "the unit does not start /usr/bin/novacrond"
man -l "$TMP/root/usr/share/man/man1/novactl.1" 2>/dev/null | grep -q 'Usage: novactl get KIND\[,KIND\]' ||
    fail "novactl(1) lacks the get verb's usage"
man -l "$TMP/root/usr/share/man/man8/novacrond.8" 2>/dev/null | grep -q -- '--netns NAME' ||
    fail "novacrond(8) lacks --netns"
ok "make install PREFIX=/usr DESTDIR=...: binaries, man pages (rendered), API reference, systemd unit"
