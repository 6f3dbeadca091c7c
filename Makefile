# SPDX-License-Identifier: GPL-2.0
# kvmprobe: `make` builds build/kvmprobe and build/kvm-exerciser,
# `make test` runs every test, `make demo` shows the probe on this host.

ARCH ?= $(shell uname -m | sed -e 's/x86_64/x86/')
CLANG ?= clang
LLVM_STRIP ?= llvm-strip
BPFTOOL ?= bpftool
VERSION := 0.1.0

# SANITIZE=1: the same tree built by clang with AddressSanitizer (with
# LeakSanitizer) and UndefinedBehaviorSanitizer in build-san/, so build/
# stays as it is. Every report is fatal: -fno-sanitize-recover, and the
# tests run with halt_on_error/abort_on_error (tests/run.sh sanitize).
# The objects carry libFuzzer's coverage hooks too (fuzzer-no-link, inert
# without libFuzzer), so the fuzz targets link the very same objects.
ifeq ($(SANITIZE),1)
OUT := build-san
CC := $(CLANG)
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fsanitize=fuzzer-no-link -fno-omit-frame-pointer
CFLAGS ?= -O1 -g
else
OUT := build
CC ?= gcc
SAN_FLAGS :=
endif

ifeq ($(wildcard vmlinux/$(ARCH)/vmlinux.h),)
$(error unsupported arch '$(ARCH)': no vmlinux/$(ARCH)/vmlinux.h (tools/gen-vmlinux.sh))
endif

ifeq ($(V),1)
Q :=
else
Q := @
endif

CFLAGS ?= -O2 -g
KP_CFLAGS := $(CFLAGS) $(SAN_FLAGS) -std=gnu11 -Wall -Wextra -Werror -I. -I$(OUT) \
	-DKP_VERSION=\"$(VERSION)\"
LIBS := -lbpf -lelf -lz -ljson-c -linih -lmicrohttpd -lcap -lm -lncurses
# the libvirt resolver backend
VIRT_LIBS := -lvirt -lxml2 -lpthread
XML_CFLAGS = $(shell pkg-config --cflags libxml-2.0 2>/dev/null)
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Werror \
	-Ivmlinux/$(ARCH) -Ibpf

# every bpf/<name>.bpf.c is an object with its skeleton
BPF_PROBES := $(patsubst bpf/%.bpf.c,%,$(wildcard bpf/*.bpf.c))
BPF_OBJS := $(patsubst %,$(OUT)/%.bpf.o,$(BPF_PROBES))
SKELS := $(patsubst %,$(OUT)/%.skel.h,$(BPF_PROBES))
IO_TOOLS := $(OUT)/blk-exerciser $(OUT)/tap-exerciser

# pure modules: unit-tested without root or libbpf
PURE := hist reasons cli metrics record snap procfs jsonutil vmproc domxml cgcpu \
	cpustat halts \
	idtable schedcalc top_layout
# user/: the door (main, cli) and five wings, lowest first: core,
# identity, probes, sinks, service. A wing includes only wings below it
# (tools/check-wings.sh, run by make test).
WINGS := core identity probes sinks service
USER_SRCS := $(wildcard user/*.c $(patsubst %,user/%/*.c,$(WINGS)))
USER_HDRS := $(wildcard user/*.h $(patsubst %,user/%/*.h,$(WINGS)))
USER_OBJS := $(patsubst user/%.c,$(OUT)/user/%.o,$(USER_SRCS))
# $(call obj,hist): the object of module hist, whichever wing it lives in
obj = $(patsubst user/%.c,$(OUT)/user/%.o,$(filter user/$(1).c $(patsubst %,user/%/$(1).c,$(WINGS)),$(USER_SRCS)))

UNIT_TESTS := $(patsubst tests/unit/%.c,$(OUT)/tests/%,$(wildcard tests/unit/test_*.c))

.DELETE_ON_ERROR:
# keep BPF objects and skeletons between builds
.SECONDARY:
.PHONY: FORCE all deps test test-unit test-integration test-vm demo bench \
	clean format test-sanitize test-soak san-bins fuzz install uninstall deb

all: $(OUT)/kvmprobe $(OUT)/kvm-exerciser $(IO_TOOLS)

deps:
	$(Q)tools/deps.sh all

# Install what the build needs when something is missing (fast when not).
$(OUT)/.deps-build: tools/deps.sh
	$(Q)tools/deps.sh build
	$(Q)mkdir -p $(OUT) && touch $@

$(OUT)/%.bpf.o: bpf/%.bpf.c bpf/*.h vmlinux/$(ARCH)/vmlinux.h | $(OUT)/.deps-build
	@echo "  BPF     $@"
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@
	$(Q)$(LLVM_STRIP) -g $@ # DWARF is not needed: BTF stays

$(OUT)/%.skel.h: $(OUT)/%.bpf.o
	@echo "  SKEL    $@"
	$(Q)$(BPFTOOL) gen skeleton $< name $*_bpf > $@

$(OUT)/kvm_exit_names.h: tools/gen-kvm-exit-names.sh | $(OUT)/.deps-build
	@echo "  GEN     $@"
	$(Q)tools/gen-kvm-exit-names.sh > $@

# the compiler flags are a prerequisite: a changed flag (SANITIZE's
# coverage hooks, CFLAGS) rebuilds the objects
$(OUT)/.cflags: FORCE | $(OUT)/.deps-build
	$(Q)echo '$(CC) $(KP_CFLAGS)' | cmp -s - $@ || echo '$(CC) $(KP_CFLAGS)' > $@
FORCE:

$(OUT)/user/%.o: user/%.c $(USER_HDRS) bpf/*.h $(SKELS) $(OUT)/kvm_exit_names.h \
		$(OUT)/.cflags
	@echo "  CC      $@"
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(KP_CFLAGS) -c $< -o $@

$(OUT)/kvmprobe: $(USER_OBJS)
	@echo "  LD      $@"
	$(Q)$(CC) $(KP_CFLAGS) -o $@ $^ $(LIBS) $(VIRT_LIBS)

$(OUT)/kvm-exerciser: $(wildcard tools/kvm-exerciser/*.c tools/kvm-exerciser/*.h) | $(OUT)/.deps-build
	@echo "  CC      $@"
	$(Q)$(CC) $(KP_CFLAGS) -o $@ $(filter %.c,$^) -pthread

# Ground-truth tools of the block and net tests and benchmarks.
$(OUT)/%-exerciser: tools/%-exerciser.c | $(OUT)/.deps-build
	@echo "  CC      $@"
	$(Q)$(CC) $(KP_CFLAGS) -o $@ $<

# Unit tests: one cmocka binary per pure module, linking only that module.
# the objects a test links are prerequisites too: no stale links.
# (libobjs has no '%': in a pattern rule's second expansion make would
# replace it by the stem, and $(filter %.o,...) kept nothing.)
objsof = $(foreach w,$(1),$(if $(filter-out $(w:.o=),$(w)),$(w)))
.SECONDEXPANSION:
$(OUT)/tests/test_%: tests/unit/test_%.c $$(call obj,$$*) \
		$$(call objsof,$$(TEST_LIBS_$$*)) $(OUT)/.deps-build
	@echo "  CC      $@"
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(KP_CFLAGS) -Wno-unused-parameter -o $@ $< $(call obj,$*) \
		$(TEST_LIBS_$*) -lcmocka

TEST_LIBS_jsonutil := $(call obj,hist) -ljson-c -lm
TEST_LIBS_record := $(call obj,hist) $(call obj,metrics)
TEST_LIBS_halts := $(call obj,snap) $(call obj,record) $(call obj,metrics) \
	$(call obj,hist) -lm
TEST_LIBS_hist := -lm
TEST_LIBS_dropreason := -lbpf -lelf -lz
TEST_LIBS_netdev := $(call obj,vmproc)
TEST_LIBS_procfs := $(call obj,vmproc)
TEST_LIBS_sink_dev := $(call obj,record) $(call obj,metrics) \
	$(call obj,hist) $(call obj,jsonutil) -ljson-c -lm
# the sinks: their device objects, records, registry, JSON helpers and
# the alert names their alert records carry
SINK_LIBS := $(call obj,sink_dev) $(call obj,record) $(call obj,metrics) \
	$(call obj,hist) $(call obj,jsonutil) $(call obj,alert) -ljson-c -lm
TEST_LIBS_sink_json := $(SINK_LIBS) $(call obj,schedcalc)
# kp_sink_flush lives in sink_json
TEST_LIBS_sink_text := $(SINK_LIBS) $(call obj,sink_json) $(call obj,schedcalc)
TEST_LIBS_config := $(call obj,cli) $(call obj,alert) $(call obj,metrics) \
	$(call obj,record) $(call obj,hist) -linih -lm
TEST_LIBS_alert := $(call obj,record) $(call obj,metrics) \
	$(call obj,hist) -lm
TEST_LIBS_domxml := -lxml2
TEST_LIBS_top_layout := $(call obj,hist) -ljson-c -lm

# kp-iddump: prints the resolver's identity table (tests/integration)
IDDUMP_OBJS := $(foreach m,resolve idtable vmproc virt domxml procfs record \
	metrics hist jsonutil,$(call obj,$(m)))
$(OUT)/tests/kp-iddump: tests/tools/kp_iddump.c $(IDDUMP_OBJS)
	@echo "  CC      $@"
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(KP_CFLAGS) -o $@ $^ -ljson-c -lm $(VIRT_LIBS)
# kp-ticker: the machine's timer floor beside kvmprobe (test_scrape_jitter)
$(OUT)/tests/kp-ticker: tests/tools/kp_ticker.c
	@echo "  CC      $@"
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(KP_CFLAGS) -o $@ $^ -lpthread
# kp-stamp: when each record reaches a file (test_scrape_jitter)
$(OUT)/tests/kp-stamp: tests/tools/kp_stamp.c
	@echo "  CC      $@"
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(KP_CFLAGS) -o $@ $^
# the resolver on fixture /proc trees, without libvirt (virt.o still
# links it)
TEST_LIBS_resolve := $(foreach m,idtable vmproc virt domxml procfs record \
	metrics hist,$(call obj,$(m))) -lm $(VIRT_LIBS)
TEST_LIBS_prom := $(call obj,record) $(call obj,metrics) $(call obj,hist) -lm
TEST_LIBS_outq := -lpthread
TEST_LIBS_http := $(call obj,cli) -lmicrohttpd -lpthread
$(call obj,domxml): KP_CFLAGS += $(XML_CFLAGS)

# libFuzzer targets (tests/fuzz/): one per parser of outside input, built
# with SANITIZE=1 only (clang, ASan, UBSan, libFuzzer).
FUZZ_TARGETS := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS := $(patsubst %,$(OUT)/fuzz/fuzz_%,$(FUZZ_TARGETS))
FUZZ_LIBS_proc_stat := $(call obj,vmproc)
FUZZ_LIBS_cmdline := $(call obj,vmproc)
FUZZ_LIBS_cgroup := $(call obj,vmproc)
FUZZ_LIBS_fdinfo := $(call obj,vmproc)
FUZZ_LIBS_comm := $(call obj,procfs) $(call obj,vmproc)
FUZZ_LIBS_uevent := $(call obj,blkdev)
FUZZ_LIBS_tun_flags := $(call obj,netdev) $(call obj,vmproc)
FUZZ_LIBS_net_dev := $(call obj,netdev) $(call obj,vmproc)
FUZZ_LIBS_domxml := $(call obj,domxml) -lxml2
FUZZ_LIBS_config := $(call obj,config) $(call obj,cli) $(call obj,alert) \
	$(call obj,metrics) $(call obj,record) $(call obj,hist) -linih -lm
FUZZ_LIBS_http := $(call obj,http) $(call obj,cli) -lmicrohttpd -lpthread
$(OUT)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h \
		$$(call objsof,$$(FUZZ_LIBS_$$*)) $(OUT)/.deps-build
ifneq ($(SANITIZE),1)
	$(error fuzz targets need the sanitizer build: make SANITIZE=1 $@)
endif
	@echo "  FUZZ    $@"
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(KP_CFLAGS) $(XML_CFLAGS) -fsanitize=fuzzer -o $@ $< \
		$(FUZZ_LIBS_$*)

# the sanitizer build (SANITIZE=1: build-san/) and what runs on it
san-bins: $(OUT)/kvmprobe $(UNIT_TESTS) $(FUZZ_BINS)

test-sanitize:
	$(Q)$(MAKE) --no-print-directory SANITIZE= all
	$(Q)$(MAKE) --no-print-directory SANITIZE=1 san-bins
	$(Q)tools/deps.sh test
	$(Q)tests/run.sh sanitize

# make fuzz [FUZZ_SECONDS=30]: every target for FUZZ_SECONDS under ASan
fuzz:
	$(Q)$(MAKE) --no-print-directory SANITIZE=1 san-bins
	$(Q)tests/fuzz/run.sh fuzz

test: all $(UNIT_TESTS) $(OUT)/tests/kp-iddump $(OUT)/tests/kp-ticker \
	$(OUT)/tests/kp-stamp
	$(Q)$(MAKE) --no-print-directory SANITIZE=1 san-bins
	$(Q)tools/deps.sh test
	$(Q)tests/run.sh all

test-unit: $(UNIT_TESTS)
	$(Q)tests/run.sh unit

test-integration: all $(OUT)/tests/kp-iddump $(OUT)/tests/kp-ticker \
	$(OUT)/tests/kp-stamp
	$(Q)tools/deps.sh test
	$(Q)tests/run.sh integration

test-soak: all
	$(Q)tools/deps.sh test
	$(Q)tests/run.sh soak

test-vm: all
	$(Q)tools/deps.sh test
	$(Q)tests/run.sh vm

demo: all
	$(Q)tools/demo.sh

# The floor of every benchmark row: empty programs on the probe's events.
$(OUT)/bpf-floor: tools/bench/bpf-floor.c | $(OUT)/.deps-build
	@echo "  CC      $@"
	$(Q)$(CC) $(KP_CFLAGS) -o $@ $< -lbpf

bench: all $(OUT)/bpf-floor
	$(Q)tools/deps.sh test
	$(Q)tools/bench/run.sh

# make install [PREFIX=/usr/local] [SYSCONFDIR=/etc] [DESTDIR=]: the
# binary, kvmprobe(1), the systemd unit, logrotate, the example config
# (not over an existing one), Prometheus rules and Grafana dashboard.
PREFIX ?= /usr/local
SYSCONFDIR ?= /etc
SBINDIR = $(PREFIX)/sbin
MANDIR = $(PREFIX)/share/man
DATADIR = $(PREFIX)/share/kvmprobe
DOCDIR = $(PREFIX)/share/doc/kvmprobe
UNITDIR = $(PREFIX)/lib/systemd/system
D = $(DESTDIR)

install: $(OUT)/kvmprobe
	@echo "  INSTALL $(D)$(PREFIX)"
	$(Q)install -d $(D)$(SBINDIR) $(D)$(MANDIR)/man1 $(D)$(UNITDIR) \
		$(D)$(SYSCONFDIR)/logrotate.d $(D)$(SYSCONFDIR)/kvmprobe \
		$(D)$(DATADIR)/prometheus $(D)$(DATADIR)/grafana \
		$(D)$(DOCDIR)/examples
	$(Q)install -m 0755 $(OUT)/kvmprobe $(D)$(SBINDIR)/kvmprobe
	$(Q)sed 's/@VERSION@/$(VERSION)/' tools/pkg/kvmprobe.1 | gzip -9n \
		> $(D)$(MANDIR)/man1/kvmprobe.1.gz
	$(Q)sed 's#/usr/local/sbin/kvmprobe#$(SBINDIR)/kvmprobe#' \
		tools/service/kvmprobe.service > $(D)$(UNITDIR)/kvmprobe.service
	$(Q)install -m 0644 tools/service/kvmprobe.logrotate \
		$(D)$(SYSCONFDIR)/logrotate.d/kvmprobe
	$(Q)[ -e $(D)$(SYSCONFDIR)/kvmprobe/kvmprobe.conf ] || \
		install -m 0644 tools/service/kvmprobe.conf.example \
		$(D)$(SYSCONFDIR)/kvmprobe/kvmprobe.conf
	$(Q)install -m 0644 tools/service/kvmprobe.conf.example $(D)$(DOCDIR)/examples/
	$(Q)install -m 0644 tools/service/kvmprobe.rules.yml $(D)$(DATADIR)/prometheus/
	$(Q)install -m 0644 tools/service/grafana-dashboard.json \
		$(D)$(DATADIR)/grafana/kvmprobe-dashboard.json
	$(Q)install -m 0644 README.md docs/output.md docs/metrics.md \
		tools/pkg/copyright $(D)$(DOCDIR)/

# the configuration stays (as dpkg -r leaves a conffile)
uninstall:
	rm -f $(D)$(SBINDIR)/kvmprobe $(D)$(MANDIR)/man1/kvmprobe.1.gz \
		$(D)$(UNITDIR)/kvmprobe.service
	rm -rf $(D)$(DATADIR) $(D)$(DOCDIR)

# make deb: build/kvmprobe_VERSION_ARCH.deb from a tree staged by install
deb: $(OUT)/kvmprobe
	$(Q)rm -rf $(OUT)/deb
	$(Q)$(MAKE) --no-print-directory install DESTDIR=$(CURDIR)/$(OUT)/deb \
		PREFIX=/usr SYSCONFDIR=/etc
	$(Q)strip --strip-unneeded $(OUT)/deb/usr/sbin/kvmprobe
	$(Q)tools/pkg/mkdeb.sh $(OUT)/deb \
		$(OUT)/kvmprobe_$(VERSION)_$$(dpkg --print-architecture).deb $(VERSION)

format:
	clang-format -i bpf/*.c bpf/*.h $(USER_SRCS) $(USER_HDRS)

clean:
	rm -rf $(OUT)/*.o $(OUT)/*.skel.h $(OUT)/user $(OUT)/tests \
		$(OUT)/kvmprobe $(OUT)/kvm-exerciser $(IO_TOOLS) $(OUT)/bpf-floor \
		$(OUT)/kvm_exit_names.h $(OUT)/.deps-build $(OUT)/.cflags \
		$(OUT)/deb $(OUT)/kvmprobe_*.deb
	rm -rf build-san
