# sandwatch: top-level entry points. See README.md.
PRESET ?= ci
BUILD_DIR ?= build
JOBS ?= $(shell nproc)
CTEST_ARGS ?=

.PHONY: all deps configure build test test-unit demo asan bench clean help
.PHONY: format format-check tidy
.PHONY: images kind-up kind-down ncat-deb

all: build

help:
	@echo "make deps       install missing Debian/npm packages (scripts/install-deps)"
	@echo "make build      configure and build everything into build/ (binaries in build/bin)"
	@echo "make test       deps + build + every test (ctest); what CI runs"
	@echo "make test-unit  only the fast unit tests"
	@echo "make demo       deps + build + the blog demo end to end"
	@echo "make asan       build and run unit+integration tests under ASan+UBSan"
	@echo "make bench      every figure of docs/performance.md into results/bench-<time>/ (QUICK=1: a smoke run)"
	@echo "make format    reformat every C++ source with clang-format (.clang-format)"
	@echo "make format-check  fail if any C++ source is not clang-formatted (part of make test)"
	@echo "make tidy      clang-tidy, .clang-tidy (~75 CPU min: ~40 min on 2 idle cores, hours shared); TIDY_ARGS=--changed|paths"
	@echo "make images     build the sensor/receiver/workload images (podman or docker; BASE_IMAGE=...)"
	@echo "make kind-up    kind cluster with Kata, Falco+Sidekick, receiver, listener (docs/kind.md)"
	@echo "make kind-down  delete that kind cluster"

deps:
	bash scripts/install-deps

configure:
	cmake --preset $(PRESET) >/dev/null

build: configure
	cmake --build $(BUILD_DIR) -j $(JOBS)

test: deps format-check build
	cd $(BUILD_DIR) && ctest --output-on-failure -j 1 $(CTEST_ARGS)

test-unit: build
	cd $(BUILD_DIR) && ctest --output-on-failure -L unit $(CTEST_ARGS)

asan: deps
	cmake --preset asan >/dev/null
	cmake --build build-asan -j $(JOBS)
	cd build-asan && ctest --output-on-failure -L 'unit|integration' $(CTEST_ARGS)

bench: build
	bash scripts/bench $(if $(QUICK),--quick) --build-dir $(BUILD_DIR)

demo: deps build
	bash scripts/demo

# Style. FORMAT_FILES lists every tracked C++ source; clang-format comes from Debian.
CLANG_FORMAT ?= clang-format
CLANG_TIDY ?= clang-tidy
FORMAT_FILES = $(shell git ls-files '*.cpp' '*.h' '*.cc' '*.hpp' 2>/dev/null)

format:
	@$(CLANG_FORMAT) -i $(FORMAT_FILES)
	@echo "format: $(words $(FORMAT_FILES)) files formatted"

format-check:
	@$(CLANG_FORMAT) --dry-run --Werror $(FORMAT_FILES) || \
	  { echo "format-check: the files above are not clang-formatted; run 'make format'" >&2; exit 1; }
	@echo "format-check: $(words $(FORMAT_FILES)) files clean"

# TIDY_ARGS narrows the run: make tidy TIDY_ARGS=--changed, or TIDY_ARGS="core/rules sensor/src".
tidy: configure
	CLANG_TIDY=$(CLANG_TIDY) bash scripts/tidy --build $(BUILD_DIR) $(TIDY_ARGS)

clean:
	rm -rf build build-asan build-tsan build-fuzz

# Kubernetes path (docs/kind.md). BASE_IMAGE=IMG or IMAGES_ARGS=--local-base builds offline.
# The workload image stages the ncat .deb that the attack installs offline; without it the
# package, new-binary, ncat and reverse-shell steps fail in both pods.
NCAT_DEB_DIR = $(or $(SANDWATCH_CACHE),/var/cache/sandwatch)/debs
ncat-deb:
	@ls $(NCAT_DEB_DIR)/ncat_*.deb >/dev/null 2>&1 || bash scripts/install-deps
	@ls $(NCAT_DEB_DIR)/ncat_*.deb >/dev/null 2>&1 || \
	  { echo "ncat-deb: no ncat .deb in $(NCAT_DEB_DIR); FIX: cd $(NCAT_DEB_DIR) && apt-get download ncat" >&2; exit 1; }

images: build ncat-deb
	BASE_IMAGE="$(BASE_IMAGE)" bash images/build --build-dir $(BUILD_DIR) $(IMAGES_ARGS)

kind-up: build ncat-deb
	BUILD_DIR="$(abspath $(BUILD_DIR))" bash kind-cluster/scripts/kind-up.sh

kind-down:
	bash kind-cluster/scripts/kind-down.sh
