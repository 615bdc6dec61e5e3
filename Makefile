# fencelock: `make demo` runs the demo, `make test` runs every test. Both set up what they need.
# `make dist` writes the release artifacts to dist/; `make test-dist` installs each of them
# somewhere clean, without Rust, and runs a smoke scenario against a real nats-server.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
LOGS := .tmp/test-logs
export FENCELOCK_NATS_SERVER ?= $(abspath $(VENV)/bin/nats-server)

RUST_PACKAGES := -p fencelock -p fencelock-testkit -p fencelock-demo -p fencelock-bench \
	-p fencelock-fault-tests -p fencelock-soak -p fencelock-cli

DIST := dist

.PHONY: setup redis demo test lint test-rust test-faults bench bench-r3 soak clean dist test-dist

$(VENV)/.installed: requirements-dev.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

setup: $(VENV)/.installed

# redis-server for the Redis tests: installed from the distribution when missing (Debian/Ubuntu).
redis:
	scripts/ensure-redis

demo: setup
	scripts/demo

# Every suite logs to $(LOGS); the last line adds them up ("all: N passed, M failed").
test: setup redis lint
	@rm -rf $(LOGS) && mkdir -p $(LOGS)
	set -o pipefail; $(MAKE) --no-print-directory test-rust 2>&1 | tee $(LOGS)/rust.log
	set -o pipefail; $(MAKE) --no-print-directory -C bindings/c test 2>&1 | tee $(LOGS)/c.log
	set -o pipefail; $(MAKE) --no-print-directory -C bindings/go test 2>&1 | tee $(LOGS)/go.log
	set -o pipefail; $(MAKE) --no-print-directory -C python test 2>&1 | tee $(LOGS)/python.log
	set -o pipefail; $(MAKE) --no-print-directory -C node test 2>&1 | tee $(LOGS)/node.log
	set -o pipefail; $(MAKE) --no-print-directory -C bindings/jvm test 2>&1 | tee $(LOGS)/jvm.log
	set -o pipefail; FENCELOCK_REQUIRE_ALL_WORKERS=1 $(MAKE) --no-print-directory -C tests/cross-language test 2>&1 | tee $(LOGS)/cross-language.log
	@python3 scripts/summarize-tests.py $(LOGS)/*.log

lint:
	scripts/version --check
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets --quiet -- -D warnings

test-rust: setup redis
	cargo test $(RUST_PACKAGES)

# The whole fault suite (tests/fault/README.md), one scenario at a time, bounded to 15 minutes;
# every scenario prints a "SCENARIO | name | operations | faults | violations" row, gathered at
# the end. The slow scenarios are #[ignore]d, so `make test` runs only the fast part.
test-faults: setup redis
	@mkdir -p .tmp
	set -o pipefail; timeout 900 cargo test -p fencelock-fault-tests -- --include-ignored \
		--test-threads=1 --nocapture 2>&1 | tee .tmp/test-faults.log
	@echo '--- scenario | operations | faults injected | violations'
	@grep -oE 'SCENARIO \|.*|^  (violation|documented).*' .tmp/test-faults.log

bench: setup
	cargo run --release -p fencelock-bench -- --backend all

# W1-W4 on R3 buckets of a 3-node NATS cluster the bench starts (fencelock and raw alike).
bench-r3: setup
	cargo run --release -p fencelock-bench -- --replicas 3 --only W1,W2,W3,W4

# Memory under churn: every binding on every backend, RSS at 10 % and 100 % of 200 000 cycles
# per row (about 15 minutes). SOAK_ARGS="--only rust,node --backend memory" for a part of it.
soak: setup
	$(MAKE) --no-print-directory -C python install
	$(MAKE) --no-print-directory -C node build
	$(MAKE) --no-print-directory -C bindings/c soak-worker
	$(MAKE) --no-print-directory -C bindings/go soak-worker
	cargo run --release -p fencelock-soak -- --check $(SOAK_ARGS)

# Release artifacts, from scratch: every scripts/dist/<package>.sh writes its own into $(DIST)
# (python: wheel + sdist, node: two npm tarballs, jvm: jar + pom, c: tarball, go: module proxy).
# scripts/dist/lib/ holds what they share (the glibc 2.17 build and its check).
dist: setup
	rm -rf $(DIST) && mkdir -p $(DIST)
	set -e; for s in scripts/dist/*.sh; do echo "--- $$s"; $$s $(DIST); done
	@echo "--- $(DIST)/: size, bytes, artifact"
	@for f in $(DIST)/*; do \
		printf '%6s %10s  %s\n' "$$(du -sh "$$f" | cut -f1)" "$$(du -sb "$$f" | cut -f1)" "$$f"; \
	done

# Installs every artifact of $(DIST) in a clean place with cargo hidden from PATH; one line per
# artifact at the end (scripts/test-dist.sh).
test-dist: setup
	scripts/test-dist.sh $(DIST)

clean:
	cargo clean
	rm -rf $(VENV) .tmp $(DIST)
