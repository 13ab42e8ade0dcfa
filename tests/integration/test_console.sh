# novactl console on a real libvirtd (qemu:///system, a TCG guest), driven
# through a pseudo-terminal as a person would: it attaches to the guest's
# serial console at the libvirt URI the node registered, shows the
# guest's shell prompt, runs a command typed into it and leaves on Ctrl-]
# with exit code 0. --log prints the console log; a VM that does not run
# is refused with exit code 1.
. "$(dirname "$0")/lib.sh"
: "${NOVACTL:=$(cd "$(dirname "$0")/../.." && pwd)/build/novactl}"
use_qemu
NS=cn$$
start_novacrond --libvirt qemu:///system --force-tcg --workers 2

put_vm "$NS" c "$(guest_spec Running 2)"
wait_for 60 "c Running" converged "$NS" vm c Running
wait_for 30 "c's prompt in its log" console_has "$NS" c "novacron-guest# "

nctl() { "$NOVACTL" --etcd "$ETCD" --prefix "$PREFIX" "$@"; }
export NOVACTL ETCD PREFIX NS
out=$(python3 - <<'PY'
import os, pty, select, signal, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(os.environ["NOVACTL"], ["novactl", "--etcd", os.environ["ETCD"], "--prefix",
             os.environ["PREFIX"], "console", "vm", "c", "-n", os.environ["NS"]])
seen = b""
def expect(what, timeout=30):
    global seen
    end = time.time() + timeout
    while what not in seen:
        left = end - time.time()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            os.kill(pid, signal.SIGKILL)
            sys.exit("timed out waiting for %r; saw %r" % (what, seen[-400:]))
        try:
            seen += os.read(fd, 4096)
        except OSError:
            sys.exit("the console closed; saw %r" % seen[-400:])
expect(b"Escape character is ^]")
os.write(fd, b"\r")
expect(b"novacron-guest# ")
os.write(fd, b"echo console-$((6 * 7))\r")
expect(b"console-42")
os.write(fd, b"\x1d")
_, st = os.waitpid(pid, 0)
print("exit", os.waitstatus_to_exitcode(st))
PY
) || fail "console session: $out"
[ "$out" = "exit 0" ] || fail "novactl console: $out"
ok "novactl console vm c: attached through a pseudo-terminal, the guest's prompt, 'echo console-\$((6 * 7))' answered console-42, Ctrl-] left with exit code 0"

nctl console vm c -n "$NS" --log | grep -q "NOVACRON-GUEST-UP" || fail "--log lacks the boot marker"
nctl logs vm c -n "$NS" | grep -q "NOVACRON-GUEST-UP" || fail "novactl logs lacks the boot marker"
put_vm "$NS" c "$(guest_spec Stopped 2)"
wait_for 60 "c Stopped" converged "$NS" vm c Stopped
set +e
msg=$(nctl console vm c -n "$NS" 2>&1 </dev/null)
rc=$?
set -e
[ "$rc" = 1 ] && echo "$msg" | grep -q "vm/c -n $NS is not running (phase Stopped)" || fail "console of a stopped VM: rc $rc: $msg"
ok "--log and novactl logs print the console log; a stopped VM: exit 1, \"$msg\""
