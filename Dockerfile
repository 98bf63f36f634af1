# syntax=docker/dockerfile:1
# Latchkey's image: the release server and the console, on Debian slim, as a non-root user.
# `docker compose up --build` builds it (see docker-compose.yml), or `docker build -t latchkey .`.
# The builder runs `cargo xtask dist`, the same command `cargo xtask ci` runs on every CI run.

ARG RUST_VERSION=1.95

FROM rust:${RUST_VERSION}-bookworm AS builder
WORKDIR /src
# The console build's tools, from rustup and crates.io only; each is a cached layer.
# wasm-opt 116 (crates.io): Debian's binaryen breaks the console.
RUN rustup target add wasm32-unknown-unknown \
    && cargo install wasm-opt --version 0.116.1 --locked
# wasm-bindgen-cli at exactly the wasm-bindgen version in Cargo.lock (xtask checks it).
# Not --locked: its lock file pins a crate version that crates.io no longer has.
COPY Cargo.lock ./
RUN cargo install wasm-bindgen-cli --version \
    "$(sed -n '/^name = "wasm-bindgen"$/{n;s/^version = "\(.*\)"$/\1/p;}' Cargo.lock)"
COPY . .
# The release server binary into dist/latchkey and the console into dist/console.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo xtask dist

FROM debian:bookworm-slim
RUN useradd --system --user-group --uid 10001 --home-dir /var/lib/latchkey --create-home \
    --shell /usr/sbin/nologin latchkey
COPY --from=builder /src/dist/latchkey /usr/local/bin/latchkey
COPY --from=builder /src/dist/console /usr/share/latchkey/console
ENV LATCHKEY_BIND=0.0.0.0:8080 \
    LATCHKEY_CONSOLE_DIR=/usr/share/latchkey/console \
    LATCHKEY_DATA_DIR=/var/lib/latchkey \
    RUST_LOG=info
USER 10001:10001
WORKDIR /var/lib/latchkey
EXPOSE 8080
# `latchkey healthcheck` GETs /health/ready at LATCHKEY_BIND (no curl in the image).
HEALTHCHECK --interval=10s --timeout=6s --start-period=30s --retries=3 CMD ["latchkey", "healthcheck"]
ENTRYPOINT ["latchkey"]
CMD ["serve"]
