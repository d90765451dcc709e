# signoffd and signoffctl on Debian bookworm, the same Debian packages that
# `make` installs for a local build.
#
#   docker build -t signoff:dev .
#   docker run --rm signoff:dev --help
#
# The runtime image runs as an unprivileged user (UID/GID 10001) and keeps
# nothing it writes outside /var/lib/signoff (the SQLite data folder, a
# volume) and /tmp, so it runs with a read-only root filesystem.

# ---- build -------------------------------------------------------------
FROM debian:bookworm AS build

# The Makefile's DEBIAN_PACKAGES, less the tools only tests and local
# builds use (valgrind, ccache, clang for the fuzzers).
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake pkg-config \
      libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler libabsl-dev \
      libsoci-dev libsoci-sqlite3-4.0 libsqlite3-dev libboost-dev libpq-dev \
      libgtest-dev libgmock-dev libyaml-cpp-dev libcli11-dev libre2-dev libssl-dev tzdata \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /src
COPY . .
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release \
 && cmake --build /build -j"$(nproc)" --target signoffd signoffctl \
 && strip /build/bin/signoffd /build/bin/signoffctl

# ---- runtime -----------------------------------------------------------
FROM debian:bookworm-slim

# Only the shared libraries the two binaries load (gRPC 1.51, protobuf,
# abseil, SOCI with its SQLite and PostgreSQL backends, yaml-cpp, RE2,
# OpenSSL), time zones for business calendars, and CA certificates for TLS.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libgrpc++1.51 libgrpc29 libprotobuf32 libabsl20220623 libc-ares2 \
      libsoci-core4.0 libsoci-sqlite3-4.0 libsoci-postgresql4.0 libsqlite3-0 libpq5 \
      libyaml-cpp0.7 libre2-9 libssl3 tzdata ca-certificates \
 && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 signoff \
 && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/signoff \
      --no-create-home --shell /usr/sbin/nologin signoff \
 && install -d -o 10001 -g 10001 -m 0750 /var/lib/signoff

COPY --from=build /build/bin/signoffd /build/bin/signoffctl /usr/local/bin/

USER 10001:10001
# The default --db (var/signoff.db) lands in the data folder.
WORKDIR /var/lib/signoff
VOLUME ["/var/lib/signoff"]
EXPOSE 50051

ENTRYPOINT ["/usr/local/bin/signoffd"]
CMD ["serve"]
