# hwcert — see README.md. `make e2e` is the main job; `make test` is what CI runs.
SHELL := /bin/bash
GO ?= go
DEB_PKGS := libvirt-dev pkg-config gcc libvirt-clients python3-openstackclient
# The real libvirtd the reference tests hold the fake one to (installed without recommends).
DAEMON_PKGS := libvirt-daemon libvirt-daemon-driver-qemu qemu-system-x86
REPORT_DIR ?= reports
BIN := bin/hwcert

BROWSERCHECK := framework/report/browsercheck
# The browser check drives Debian's chromium (no browser download) with playwright-core from npm.
BROWSER_CMDS := chromium:chromium node:nodejs npm:npm

.PHONY: all deps deps-browser build test unit e2e suites faults soak lint conformance browser reference bench bench-lab fuzz clean

all: build

# Installs the Debian packages the build and the tests need, only those that are missing.
deps:
	@missing=""; for p in $(DEB_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "deps: installing$$missing"; \
		sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
		$$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq $$missing; \
	fi
	@missing=""; for p in $(DAEMON_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	if [ -n "$$missing" ]; then \
		echo "deps: installing$$missing"; \
		$$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends $$missing; \
	fi; \
	getent group libvirt-qemu >/dev/null || $$sudo groupadd --system libvirt-qemu; \
	getent passwd libvirt-qemu >/dev/null || $$sudo useradd --system --gid libvirt-qemu $$(getent group kvm >/dev/null && echo --groups kvm) \
		--home-dir /var/lib/libvirt --no-create-home --shell /usr/sbin/nologin libvirt-qemu
	$(GO) mod download

# The revision goes into the certification report; the build info lacks it where VCS stamping is
# off (GOFLAGS=-buildvcs=false) or the go command cannot read the checkout (a git worktree).
REVISION := $(shell git rev-parse HEAD 2>/dev/null)$(shell git diff --quiet HEAD 2>/dev/null || echo -modified)
build: deps
	$(GO) build -buildvcs=auto -ldflags "-X github.com/hwcert/hwcert/framework/report.Revision=$(REVISION)" -o $(BIN) ./cmd/hwcert

# Chromium, Node and npm when missing (Debian packages), then playwright-core at the locked version.
deps-browser:
	@missing=""; for c in $(BROWSER_CMDS); do command -v $${c%%:*} >/dev/null 2>&1 || missing="$$missing $${c##*:}"; done; \
	if [ -n "$$missing" ]; then \
		echo "deps-browser: installing$$missing"; \
		sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
		$$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq $$missing; \
	fi
	npm ci --prefix $(BROWSERCHECK) --no-audit --no-fund --loglevel=error

lint: deps
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

# Unit, API and protocol tests (everything except the suites, which `suites` runs).
unit: deps
	$(GO) test -count=1 $$($(GO) list ./... | grep -v /suites/)

# Every suite against the embedded mock lab.
e2e: build
	./$(BIN) run --report-dir $(REPORT_DIR)

# Every suite on every shipped lab (each answers different questions: aio one host, multi four
# workers, stx-reading the StarlingX per-guest-node reading, shapes the host shapes of real labs),
# then in parallel with the Ginkgo CLI with servers that really sit in BUILD for a while.
LABS := multi aio stx-reading shapes
suites: build
	@set -e; for l in $(LABS); do echo "== suites on the $$l lab"; ./$(BIN) run --lab $$l --report-dir $(REPORT_DIR)/suites/$$l; done
	HWCERT_BOOT_LATENCY=150ms $(GO) tool ginkgo -p --procs=3 --randomize-all --silence-skips ./suites/...
	$(GO) test -count=1 -tags concurrent -timeout 10m ./cmd/hwcert/ -run TestConcurrentRunsOnOneLab

# Every suite against the mock with each fault, on the multi and stx-reading labs; the specs that
# must catch it have to fail.
faults: build
	$(GO) test -count=1 -tags faultmatrix -timeout 20m ./cmd/hwcert/ -run TestFaultMatrix

# 20 runs of the default lab behind a mock whose plumbing fails (a random mix of --chaos faults,
# some runs interrupted): no verdict changes, nothing is left, the mock never crashes. Each run
# prints its seed and faults.
soak: build
	$(GO) test -count=1 -tags soak -timeout 10m -v ./cmd/hwcert/ -run '^(TestSoak|TestEarlySignalStopsTheRun|TestSecondSignalExitsAtOnce|TestLeftBehindNamesTheCleanup|TestRunAbortsOnceWhenTheLabIsGone)$$'

# Real clients (openstack CLI, virsh) against `hwcert mock`.
conformance: build
	$(GO) test -count=1 -tags conformance -timeout 10m ./mock/conformance/

# The certification bundle as a person sees it: a passing run and a numa-misplace run opened in
# headless Chromium (no errors, every host and guest picture drawn, the failed specs' pictures show
# the remote device); full-page screenshots are left in $(REPORT_DIR)/ to look at.
browser: build deps-browser
	./$(BIN) run --report-dir $(REPORT_DIR)/browser/pass
	@rc=0; ./$(BIN) run --mock-fault numa-misplace --report-dir $(REPORT_DIR)/browser/numa-misplace || rc=$$?; \
	if [ $$rc != 1 ]; then echo "browser: the numa-misplace run exited $$rc, expected 1 (specs failed)"; exit 1; fi
	node $(BROWSERCHECK)/check.mjs $(REPORT_DIR)/browser/pass $(REPORT_DIR)/screenshot.png
	node $(BROWSERCHECK)/check.mjs $(REPORT_DIR)/browser/numa-misplace $(REPORT_DIR)/screenshot-numa-misplace.png --expect-remote

# The fake libvirtd against a real libvirtd 9.0 with QEMU, which the test starts and stops
# itself (by pid); needs root, and skips saying so without it.
reference: build
	$(GO) test -count=1 -tags 'conformance reference' -timeout 10m -run '^TestRealLibvirtd' ./mock/conformance/

test: lint unit suites faults soak conformance reference browser

bench: deps
	$(GO) test -run '^$$' -bench . -benchmem ./...

# The full matrix on the default mock lab with servers 2 s in BUILD, serially and with --procs
# (BENCH_PROCS, default 8): each prints its wall time next to the lab's bound.
BENCH_PROCS ?= 8
bench-lab: build
	set -o pipefail; ./$(BIN) run --mock-boot-latency 2s --report-dir $(REPORT_DIR)/bench-lab/serial | tail -2
	set -o pipefail; ./$(BIN) run --mock-boot-latency 2s --procs $(BENCH_PROCS) --report-dir $(REPORT_DIR)/bench-lab/procs | tail -2

fuzz: deps
	@for t in $$(grep -rl 'func Fuzz' --include='*_test.go' . | xargs -n1 dirname | sort -u); do \
		for f in $$(grep -ho 'func Fuzz[A-Za-z0-9_]*' $$t/*_test.go | cut -d' ' -f2); do \
			echo "fuzz $$t $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime 20s $$t || exit 1; done; done

clean:
	rm -rf bin $(REPORT_DIR)/*.xml $(REPORT_DIR)/*.json $(REPORT_DIR)/evidence $(REPORT_DIR)/index.html \
		$(REPORT_DIR)/MANIFEST.sha256 $(REPORT_DIR)/*.png $(REPORT_DIR)/browser
