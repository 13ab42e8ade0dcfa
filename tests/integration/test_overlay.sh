# The overlay driver (tests/itest_overlay.c) between two network namespaces
# this test makes, joined by a veth pair: every address is inside them,
# none in the root namespace, and they are removed when the test ends.
# lane: light
. "$(dirname "$0")/lib.sh"

A=nc-ov-$$-a
B=nc-ov-$$-b
on_cleanup "ip netns del $A 2>/dev/null; ip netns del $B 2>/dev/null"
ip netns add "$A"
ip netns add "$B"
ip -n "$A" link add nc-veth type veth peer name nc-veth netns "$B"
ip -n "$A" addr add 192.168.213.1/24 dev nc-veth
ip -n "$B" addr add 192.168.213.2/24 dev nc-veth
for ns in "$A" "$B"; do
    ip -n "$ns" link set lo up
    ip -n "$ns" link set nc-veth up
done

NC_TEST_NS_A=$A NC_TEST_NS_B=$B "$(dirname "$NOVACROND")/tests/itest_overlay" --jobs 1 ||
    fail "overlay driver tests failed"
ok "overlay driver: bridge + VXLAN in two namespaces, FDB entries seen by bridge(8), ping across, peers removed, foreign devices untouched"
