# Multi-stage build: a static-enough binary on a distroless, non-root base.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY benches ./benches
RUN cargo build --release --locked --bin bucket-access-operator

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /src/target/release/bucket-access-operator /usr/local/bin/bucket-access-operator
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/bucket-access-operator"]
CMD ["run", "--log-json"]
