# Multi-stage build: the release binary (symbols, no debug info) on a distroless, non-root base.
# Multi-arch: docker buildx build --platform linux/amd64,linux/arm64 -t IMAGE . (native builders per platform
# are much faster than emulation for a Rust build).
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin bucket-access-operator

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /src/target/release/bucket-access-operator /usr/local/bin/bucket-access-operator
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/bucket-access-operator"]
CMD ["run", "--log-json"]
