# NovaCron build. `make` builds build/novacrond and build/novactl; `make check` builds a
# sanitized copy under build/san and runs every test; `make demo` shows a
# local cluster converging; `make bench` prints the benchmark figures.

CC      ?= cc
BUILD   ?= build
PKGS    := libevent libevent_pthreads libcurl libcjson libvirt libsystemd libxml-2.0 \
           libnl-route-3.0 libisofs-1 libnftables

WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wformat=2 -Wno-format-nonliteral -Werror
CFLAGS  ?= -O2 -g
# The libraries' flags are asked of pkg-config when the first recipe needs
# them, once, and not when the Makefile is read: on a fresh machine the
# packages arrive only when the `deps` prerequisite runs, after parsing.
# Every compile waits for `deps` (an order-only prerequisite), so `make`,
# `make demo` and `make check` all work on the first run.
pkg = $(or $(shell pkg-config $(1) $(PKGS) 2>/dev/null),$(error pkg-config knows none of \
      $(PKGS) ($(1)); hack/deps.sh installs them))
PKG_CFLAGS = $(eval PKG_CFLAGS := $(call pkg,--cflags))$(PKG_CFLAGS)
PKG_LIBS = $(eval PKG_LIBS := $(call pkg,--libs))$(PKG_LIBS)
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE -pthread $(WARN) -I. $(CFLAGS) $(SANFLAGS) $(PKG_CFLAGS)
LDLIBS  = $(PKG_LIBS) -lm -pthread
SANITIZE := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

CORE_SRCS := \
	controller/config.c \
	controller/http.c \
	controller/leader.c \
	controller/vmstats.c \
	controller/workers.c \
	core/base64.c \
	core/clock.c \
	core/commit.c \
	core/etcd.c \
	core/flags.c \
	core/informer.c \
	core/log.c \
	core/metrics.c \
	core/names.c \
	core/node.c \
	core/watch.c \
	core/workqueue.c \
	drivers/dnsmasq.c \
	drivers/domxml.c \
	drivers/error.c \
	drivers/files.c \
	drivers/fake/dhcp.c \
	drivers/fake/faults.c \
	drivers/fake/firewall.c \
	drivers/fake/hv.c \
	drivers/fake/overlay.c \
	drivers/fake/peers.c \
	drivers/fake/storage.c \
	drivers/libvirt.c \
	drivers/migrate.c \
	drivers/nft.c \
	drivers/overlay.c \
	drivers/podman.c \
	drivers/seed.c \
	drivers/snapshot.c \
	drivers/stats.c \
	drivers/storage.c \
	drivers/volsend.c \
	reconcilers/alloc.c \
	reconcilers/cloudinit.c \
	reconcilers/events.c \
	reconcilers/hostpath.c \
	reconcilers/hotplug.c \
	reconcilers/ifaces.c \
	reconcilers/instancetype.c \
	reconcilers/migration.c \
	reconcilers/moves.c \
	reconcilers/network.c \
	reconcilers/process.c \
	reconcilers/networkpolicy.c \
	reconcilers/restore.c \
	reconcilers/run.c \
	reconcilers/schedule.c \
	reconcilers/snapshot.c \
	reconcilers/status.c \
	reconcilers/stop.c \
	reconcilers/table.c \
	reconcilers/tuning.c \
	reconcilers/users.c \
	reconcilers/vm.c \
	reconcilers/volume.c \
	scheduler/inventory.c \
	scheduler/scheduler.c \
	schema/kinds.c \
	schema/labels.c \
	schema/migration.c \
	schema/network.c \
	schema/networkpolicy.c \
	schema/quantity.c \
	schema/instancetype.c \
	schema/restore.c \
	schema/snapshot.c \
	schema/validate.c \
	schema/vm.c \
	schema/volume.c

CORE_OBJS := $(CORE_SRCS:%.c=$(BUILD)/obj/%.o)
UNIT_TESTS := $(patsubst tests/%.c,$(BUILD)/tests/%,$(wildcard tests/test_*.c))
# Criterion tests that need a real etcd; the integration suite runs them.
ITESTS := $(patsubst tests/%.c,$(BUILD)/tests/%,$(wildcard tests/itest_*.c))

CLI_SRCS := $(wildcard novactl/*.c)
CLI_OBJS := $(CLI_SRCS:%.c=$(BUILD)/obj/%.o)

# libFuzzer targets (tests/fuzz/), built by clang into build/fuzz.
FUZZERS := $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_SECONDS ?= 60

.PHONY: all check unit integration demo bench clean deps man install fuzz fuzz-targets
all: $(BUILD)/novacrond $(BUILD)/novactl

deps:
	@./hack/deps.sh

$(BUILD)/obj/%.o: %.c | deps
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/libnovacron.a: $(CORE_OBJS)
	$(AR) rcs $@ $^

$(BUILD)/novacrond: $(BUILD)/obj/controller/main.o $(BUILD)/libnovacron.a
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/novactl: $(CLI_OBJS) $(BUILD)/libnovacron.a
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: tests/%.c $(BUILD)/libnovacron.a | deps
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS) -lcriterion

# The library is instrumented for coverage (fuzzer-no-link); each target
# links libFuzzer's main.
fuzz-targets: $(FUZZERS:%=$(BUILD)/fuzz/%)

$(BUILD)/fuzz/%: tests/fuzz/%.c tests/fuzz/fuzz.h $(BUILD)/obj/novactl/manifest.o \
		$(BUILD)/libnovacron.a | deps
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer -o $@ $< $(BUILD)/obj/novactl/manifest.o \
		$(BUILD)/libnovacron.a $(LDLIBS)

$(BUILD)/nc-bench: tests/bench/bench.c $(BUILD)/libnovacron.a | deps
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/nc-sched-bench: tests/bench/sched.c $(BUILD)/libnovacron.a | deps
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)

# Every test runs against the ASan+UBSan build: unit tests first (fast, no
# daemons), then every fuzz target (its corpus replayed, then a few seconds
# of fuzzing, so that none rots), then the integration tests that start
# real etcd and novacrond.
# Then the queue, the informers and the workers run under ThreadSanitizer
# through the convergence test, where a data race aborts the daemon.
check: deps
	./hack/lint.sh
	$(MAKE) BUILD=build/san SANFLAGS="$(SANITIZE)" CFLAGS="-O1 -g" unit
	$(MAKE) fuzz FUZZ_SECONDS=3
	$(MAKE) BUILD=build/san SANFLAGS="$(SANITIZE)" CFLAGS="-O1 -g" integration
	$(MAKE) BUILD=build/tsan SANFLAGS="-fsanitize=thread" CFLAGS="-O1 -g" build/tsan/novacrond
	TSAN_OPTIONS="halt_on_error=1 suppressions=$(abspath tests/tsan.supp)" \
		NOVACROND=$(abspath build/tsan/novacrond) \
		ONLY=test_converge.sh ./tests/integration/run.sh

# Then the JSON Schemas against the C validators, through novactl validate.
unit: $(UNIT_TESTS) $(BUILD)/novactl
	@set -e; for t in $(UNIT_TESTS); do echo "== $$t"; $$t --jobs 2; done
	/usr/bin/python3 tests/schema/check.py $(BUILD)/novactl

integration: $(BUILD)/novacrond $(BUILD)/novactl $(ITESTS)
	NOVACROND=$(abspath $(BUILD)/novacrond) NOVACTL=$(abspath $(BUILD)/novactl) \
		./tests/integration/run.sh

# Every fuzz target: its corpus replayed, then FUZZ_SECONDS of fuzzing,
# executions per second printed (hack/fuzz.sh).
fuzz: deps
	$(MAKE) BUILD=build/fuzz CC=clang SANFLAGS="-fsanitize=fuzzer-no-link $(FUZZ_SAN)" \
		CFLAGS="-O1 -g" fuzz-targets
	./hack/fuzz.sh build/fuzz/fuzz $(FUZZ_SECONDS) $(FUZZERS)

demo: deps all
	./hack/demo.sh

bench: deps all $(BUILD)/nc-bench $(BUILD)/nc-sched-bench
	NOVACROND=$(abspath $(BUILD)/novacrond) NOVACTL=$(abspath $(BUILD)/novactl) \
		BENCH_TOOL=$(abspath $(BUILD)/nc-bench) \
		SCHED_BENCH_TOOL=$(abspath $(BUILD)/nc-sched-bench) \
		./tests/bench/run.sh

# Man pages, written by help2man from each binary's --help (hack/man.sh).
PREFIX  ?= /usr/local
MANS    := $(BUILD)/man/novacrond.8 $(BUILD)/man/novactl.1
man: $(MANS)

$(BUILD)/man/novacrond.8: $(BUILD)/novacrond man/novacrond.h2m hack/man.sh | deps
	@mkdir -p $(dir $@)
	./hack/man.sh $< 8 "the NovaCron controller: drives libvirt toward the documents in etcd" $@

$(BUILD)/man/novactl.1: $(BUILD)/novactl man/novactl.h2m hack/man.sh | deps
	@mkdir -p $(dir $@)
	./hack/man.sh $< 1 "apply, inspect and delete NovaCron objects in etcd" $@

# Binaries, man pages, the API reference and the systemd unit (its
# ExecStart pointed at PREFIX), under DESTDIR for packagers.
install: all man
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/man/man8 $(DESTDIR)$(PREFIX)/share/doc/novacron \
		$(DESTDIR)$(PREFIX)/lib/systemd/system
	install -m 755 $(BUILD)/novacrond $(BUILD)/novactl $(DESTDIR)$(PREFIX)/bin/
	install -m 644 $(BUILD)/man/novactl.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 644 $(BUILD)/man/novacrond.8 $(DESTDIR)$(PREFIX)/share/man/man8/
	install -m 644 schema/README.md $(DESTDIR)$(PREFIX)/share/doc/novacron/api.md
	install -m 644 schema/*.schema.json $(DESTDIR)$(PREFIX)/share/doc/novacron/
	sed 's|^ExecStart=/usr/local/bin/|ExecStart=$(PREFIX)/bin/|' manifests/novacrond.service \
		>$(DESTDIR)$(PREFIX)/lib/systemd/system/novacrond.service

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
