# hwcert — see README.md. `make e2e` is the main job; `make test` is what CI runs.
SHELL := /bin/bash
GO ?= go
DEB_PKGS := libvirt-dev pkg-config gcc libvirt-clients python3-openstackclient
REPORT_DIR ?= reports
BIN := bin/hwcert

.PHONY: all deps build test unit e2e suites faults lint conformance bench fuzz clean

all: build

# Installs the Debian packages the build and the tests need, only those that are missing.
deps:
	@missing=""; for p in $(DEB_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "deps: installing$$missing"; \
		sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
		$$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq $$missing; \
	fi
	$(GO) mod download

build: deps
	$(GO) build -o $(BIN) ./cmd/hwcert

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

# Every suite against the mock with each fault, on the multi and stx-reading labs; the specs that
# must catch it have to fail.
faults: build
	$(GO) test -count=1 -tags faultmatrix -timeout 20m ./cmd/hwcert/ -run TestFaultMatrix

# Real clients (openstack CLI, virsh) against `hwcert mock`.
conformance: build
	$(GO) test -count=1 -tags conformance -timeout 10m ./mock/conformance/

test: lint unit suites faults conformance

bench: deps
	$(GO) test -run '^$$' -bench . -benchmem ./...

fuzz: deps
	@for t in $$(grep -rl 'func Fuzz' --include='*_test.go' . | xargs -n1 dirname | sort -u); do \
		for f in $$(grep -ho 'func Fuzz[A-Za-z0-9_]*' $$t/*_test.go | cut -d' ' -f2); do \
			echo "fuzz $$t $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime 20s $$t || exit 1; done; done

clean:
	rm -rf bin $(REPORT_DIR)/*.xml $(REPORT_DIR)/*.json $(REPORT_DIR)/evidence
