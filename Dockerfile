# Jembatan: a multi-stage build. The builder compiles the release binary; the runtime
# image is Debian slim with that one binary, running as an unprivileged user.
#
#   docker build -t jembatan .
#   docker run --rm -p 8080:8080 -v jembatan-data:/var/lib/jembatan -e JEMBATAN_JWT_SECRET=... jembatan
#
# SQLite is compiled in and TLS is rustls, so the runtime needs no shared libraries
# beyond libc (ca-certificates is there for TLS connections to a remote database).

FROM rust:1-bookworm AS builder
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p jembatan --bin jembatan \
    && install -m 0755 target/release/jembatan /usr/local/bin/jembatan

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --home-dir /var/lib/jembatan --shell /usr/sbin/nologin jembatan \
    && install -d -o jembatan -g jembatan -m 0750 /var/lib/jembatan /var/lib/jembatan/documents
COPY --from=builder /usr/local/bin/jembatan /usr/local/bin/jembatan

USER jembatan:jembatan
WORKDIR /var/lib/jembatan
ENV JEMBATAN_LISTEN=0.0.0.0:8080 \
    JEMBATAN_DATABASE_URL=sqlite:///var/lib/jembatan/jembatan.db?mode=rwc \
    JEMBATAN_STORAGE_DIR=/var/lib/jembatan/documents \
    JEMBATAN_LOG_FORMAT=json
EXPOSE 8080
# `serve` applies pending migrations, then listens; SIGTERM lets in-flight requests finish.
ENTRYPOINT ["jembatan"]
CMD ["serve"]
