# tagbump container image.
#
#   docker build -t tagbump .
#   docker run --rm -e TAGBUMP_TOKEN tagbump image ghcr.io/acme/api:v1.5.0 apps/api \
#       --repo https://github.com/acme/gitops-config.git --branch main
#
# Stage 1 builds a static binary: on Alpine the host target is *-unknown-linux-musl
# (x86_64-unknown-linux-musl on amd64, aarch64-unknown-linux-musl on arm64), and Rust
# links musl targets statically. The release profile (LTO, strip, panic=abort) comes from
# Cargo.toml.
#
# Stage 2 is Alpine rather than scratch/distroless because tagbump pushes with the `git`
# binary (gix cannot push); it also brings CA certificates, ssh for SSH remotes, and
# setpriv (util-linux-misc), through which git is started so that it dies with tagbump
# even after a `kill -9` (parent-death signal). The
# process runs as the non-root user 1001 (the uid of the GitHub-hosted runner user, so the
# workspace and $GITHUB_OUTPUT mounted by a container action stay writable).
#
# No credentials are baked in: tokens are given at run time (TAGBUMP_TOKEN, GITHUB_TOKEN,
# GITLAB_TOKEN or CI_JOB_TOKEN in the environment). Only features of the classic builder
# are used, so `DOCKER_BUILDKIT=0 docker build` works too.

FROM rust:1-alpine AS build
# C toolchain for the crypto crates (ring, aws-lc-sys) under rustls.
RUN apk add --no-cache build-base cmake perl
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin tagbump \
    && cp target/release/tagbump /usr/local/bin/tagbump \
    && /usr/local/bin/tagbump --version

FROM alpine:3.22
RUN apk add --no-cache ca-certificates git openssh-client-default util-linux-misc \
    && addgroup -g 1001 tagbump \
    && adduser -D -u 1001 -G tagbump -h /home/tagbump -s /sbin/nologin tagbump \
    && mkdir -p /github/workspace \
    && chown tagbump:tagbump /github/workspace
COPY --from=build /usr/local/bin/tagbump /usr/local/bin/tagbump
LABEL org.opencontainers.image.title="tagbump" \
      org.opencontainers.image.description="Write a freshly pushed container image tag into a GitOps config repository" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV GIT_TERMINAL_PROMPT=0
USER 1001:1001
WORKDIR /github/workspace
ENTRYPOINT ["tagbump"]
CMD ["--help"]
