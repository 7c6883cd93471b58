# syntax=docker/dockerfile:1
# Build stage: compile the release binary (templates, locales, static files, migrations and the
# catalogue are compiled in). `.ci/image-check` builds from exactly what these COPY lines copy.
FROM rust:1-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
# The bundled SQLite's build flags (see the file).
COPY .cargo ./.cargo
COPY src ./src
COPY templates ./templates
COPY static ./static
COPY locales ./locales
COPY migrations ./migrations
COPY catalogue ./catalogue
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin secportal \
 && cp target/release/secportal /usr/local/bin/secportal

# Runtime stage: a small Debian with CA certificates, running as a non-root user. The data folder
# exists, owned by that user, so that a new volume mounted on it is seeded writable for it.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 secportal \
 && useradd --system --uid 10001 --gid secportal --home-dir /var/lib/secportal --create-home secportal \
 && install -d -o secportal -g secportal -m 0750 /var/lib/secportal/data
COPY --from=build /usr/local/bin/secportal /usr/local/bin/secportal
USER secportal:secportal
WORKDIR /var/lib/secportal
ENV SECPORTAL_ADDR=0.0.0.0:8080 \
    SECPORTAL_DATA_DIR=/var/lib/secportal/data
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD curl -fsS http://127.0.0.1:8080/readyz || exit 1
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/secportal"]
CMD ["serve"]
