# bucket-access-operator: every target a developer or CI needs. `make test` is what CI runs.
SHELL := /bin/bash
CARGO ?= cargo
export PATH := $(HOME)/.cargo/bin:$(PATH)

.PHONY: all build fmt fmt-check lint test unit bench fuzz

all: build

build:
	$(CARGO) build --locked

fmt:
	$(CARGO) fmt --all

fmt-check:
	$(CARGO) fmt --all -- --check

lint:
	$(CARGO) clippy --locked --all-targets -- -D warnings

# Unit, corpus, property and architecture tests; formatting and lints first (cheap, and CI must fail on them).
test: fmt-check lint
	$(CARGO) test --locked --all-targets
	$(CARGO) test --locked --doc

bench:
	$(CARGO) bench --locked --bench evaluate --bench diagnose

# Runs the parse+evaluate fuzz target for FUZZ_SECONDS (default 600) with the stable toolchain.
FUZZ_SECONDS ?= 600
fuzz:
	$(CARGO) install cargo-fuzz --locked --quiet || true
	mkdir -p fuzz/corpus/parse_evaluate
	cd fuzz && RUSTC_BOOTSTRAP=1 $(CARGO) fuzz run parse_evaluate corpus/parse_evaluate seeds -- -max_total_time=$(FUZZ_SECONDS) -max_len=8192
