# bucket-access-operator: every target a developer or CI needs. `make test` is what CI runs.
SHELL := /bin/bash
CARGO ?= cargo
export PATH := $(HOME)/.cargo/bin:$(PATH)

.PHONY: all build fmt fmt-check lint test unit e2e scale image demo demo-stop control-plane bench fuzz moto-env test-env crds

VENV := .venv
MOTO_VERSION := 5.2.5

all: build

build:
	$(CARGO) build --locked

fmt:
	$(CARGO) fmt --all

fmt-check:
	$(CARGO) fmt --all -- --check

lint:
	$(CARGO) clippy --locked --workspace --all-targets -- -D warnings

# moto (the AWS stand-in), pinned, in a virtualenv of the repository; boto3 seeds it (tests/moto/seed.py).
# cfn-lint validates the CloudFormation templates of deploy/aws/ (tests/cli/deploy_aws.rs).
CFN_LINT_VERSION := 1.58.0
VENV_STAMP := $(VENV)/.installed-moto-$(MOTO_VERSION)-cel-0.5.0-cfn-lint-$(CFN_LINT_VERSION)
$(VENV_STAMP):
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check 'moto[server]==$(MOTO_VERSION)' boto3 'cel-python==0.5.0' 'cfn-lint==$(CFN_LINT_VERSION)'
	touch $(VENV_STAMP)

moto-env: $(VENV_STAMP)

# Everything the tests need beyond cargo, installed as a normal user: moto, boto3, cel-python and cfn-lint in
# .venv.
# (Lua 5.1 for the Argo CD health check is built by the `mlua` crate; s3control's `<account>.localhost` host
# names reach moto through a proxy of the tests' own, set with the standard HTTP_PROXY: no root, no apt-get,
# no system file edits.)
test-env: moto-env

# Unit, corpus, property, architecture, CLI and moto integration tests, then the end-to-end tests on a real
# control plane; formatting and lints first.
test: fmt-check lint test-env
	$(CARGO) test --locked --workspace --lib --tests --benches
	$(CARGO) test --locked --workspace --doc
	$(MAKE) --no-print-directory e2e

# kube-apiserver, etcd and kubectl built from Go modules, cached under ~/.cache/bucket-access-operator/.
control-plane:
	tests/apiserver/build.sh

# The end-to-end tests (tests/e2e/): ignored by a plain `cargo test`, run here against a real control plane.
e2e: test-env
	BIN=$$(tests/apiserver/build.sh) && export BIN && $(CARGO) test --locked --workspace --test e2e -- --ignored --nocapture

# One command to see the product work: control plane, moto, the operator and the example checks.
demo: test-env
	$(CARGO) build --locked
	demo/up.sh

demo-stop:
	demo/down.sh

# The CRDs are generated from the Rust types, into crds/ and the chart's files/crds (real files: Flux drops
# symlinks), and the snapshot's JSON Schema into docs/; tests/operator/crd.rs fails when any is stale.
CHART_CRDS := deploy/helm/bucket-access-operator/files/crds
crds:
	mkdir -p crds $(CHART_CRDS)
	$(CARGO) run --locked --quiet -- crd --kind check > crds/bucketaccesschecks.bucketaccess.io.yaml
	$(CARGO) run --locked --quiet -- crd --kind scope > crds/bucketaccessscopes.bucketaccess.io.yaml
	cp crds/*.yaml $(CHART_CRDS)/
	$(CARGO) run --locked --quiet -- schema > docs/snapshot.schema.json

# The benchmarks of the pure crates (a release build of them compiles no AWS SDK), then the 100,000-check
# benchmark against moto (a test build: tests/operator/soak.rs, in a process of its own for its peak RSS).
bench: test-env
	$(CARGO) bench --locked -p iam-policy --bench evaluate
	$(CARGO) bench --locked -p s3-diagnosis --bench diagnose
	$(CARGO) test --locked --test operator -- --ignored --exact soak::a_hundred_thousand_checks --nocapture

# The container image: an OCI image layout in target/image (its manifest digest printed), the release binary on
# Debian's packages pinned in deploy/image/packages.lock, built by deploy/image/build.py without a daemon, a
# registry or root. The binary is built in a target directory of its own with the cargo home and the checkout
# remapped, so that the same sources and toolchain give the same binary in any checkout (the release workflow
# builds it in the rust:1.95-bookworm image). `make test` builds the same
# image around the binary it tests and runs the operator from it (tests/e2e/image.rs).
IMAGE_ARCH ?= amd64
image:
	RUSTFLAGS="--remap-path-prefix=$${CARGO_HOME:-$$HOME/.cargo}=/cargo --remap-path-prefix=$(CURDIR)=/src" \
	  $(CARGO) build --locked --release --bin bucket-access-operator --target-dir target/image-build
	python3 deploy/image/build.py --binary target/image-build/release/bucket-access-operator --out target/image \
	  --arch $(IMAGE_ARCH)

# The scale trial (not part of `make test`): SCALE_STEPS check objects on the test control plane, evaluated by
# the release binary against moto; prints the figures docs/operations.md quotes (tests/e2e/scale.rs).
SCALE_STEPS ?= 10000,30000
scale: test-env
	$(CARGO) build --locked --release --bin bucket-access-operator
	BIN=$$(tests/apiserver/build.sh) && export BIN && SCALE_STEPS=$(SCALE_STEPS) \
	  OPERATOR_BIN=$(CURDIR)/target/release/bucket-access-operator $(CARGO) test --locked --test e2e -- --nocapture

# Runs the parse+evaluate fuzz target for FUZZ_SECONDS (default 600) with the stable toolchain.
FUZZ_SECONDS ?= 600
fuzz:
	$(CARGO) install cargo-fuzz --locked --quiet || true
	mkdir -p fuzz/corpus/parse_evaluate
	cd fuzz && RUSTC_BOOTSTRAP=1 $(CARGO) fuzz run parse_evaluate corpus/parse_evaluate seeds -- -max_total_time=$(FUZZ_SECONDS) -max_len=8192
