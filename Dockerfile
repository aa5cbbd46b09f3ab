# tagbump container images: three targets in one file.
#
#   docker build --target full -t tagbump .          # git, ssh, a shell; non-root
#   docker build --target slim -t tagbump:slim .     # minimal: API mode only; non-root
#   docker build -t tagbump:action .                 # default (last stage): the GitHub Action's
#   docker run --rm -e TAGBUMP_TOKEN tagbump image ghcr.io/acme/api:v1.5.0 apps/api \
#       --repo https://github.com/acme/gitops-config.git --branch main
#
# - `full`: Alpine with git, ssh and a shell, run as the non-root user 1001 (Tekton
#   `runAsNonRoot`, GitLab, Jenkins, `docker run`). Works with every remote and every
#   `--via`.
# - `action` (the final stage, so a fork's action pointed at `runs.image: Dockerfile`
#   gets it): `full` run as root, as GitHub requires of a container action
#   (docs.github.com: "Dockerfile support for GitHub Actions": "Docker actions must be
#   run by the default Docker user (root)"), with action/entrypoint.sh, which maps the
#   action's inputs onto tagbump's flags, as its ENTRYPOINT.
# - `slim`: `FROM scratch` with only the static binary, a CA bundle, an empty /tmp and
#   /etc/passwd and /etc/group entries for the non-root user 1001.
#   No git, no ssh, no shell: it can only land changes through the GitHub / GitLab API
#   (`--via api`, or `--via auto` with an https:// GitHub or GitLab URL and a token),
#   or edit files in a mounted directory. It cannot run the action's shell script, nor
#   a GitLab CI `script:` (both need /bin/sh); use it with `docker run`, Kubernetes /
#   Tekton / Argo steps that set `command`/`args`, and the like.
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
# process runs as the non-root user 1001.
#
# No credentials are baked in: tokens are given at run time (TAGBUMP_TOKEN, GITHUB_TOKEN,
# GITLAB_TOKEN or CI_JOB_TOKEN in the environment). Only features of the classic builder
# are used, so `DOCKER_BUILDKIT=0 docker build` works too.

FROM rust:1-alpine AS build
# C toolchain for aws-lc-sys (rustls' crypto provider); ca-certificates
# for the bundle the `slim` stage copies.
RUN apk add --no-cache build-base cmake perl ca-certificates
WORKDIR /src
COPY . .
# The commit `tagbump --version` shows (the release workflow passes it; a .git
# directory is not in the build context).
ARG TAGBUMP_GIT_COMMIT=""
RUN cargo build --release --locked --bin tagbump \
    && cp target/release/tagbump /usr/local/bin/tagbump \
    && /usr/local/bin/tagbump --version \
    && mkdir -p /rootfs/tmp /rootfs/etc \
    && chmod 1777 /rootfs/tmp \
    && echo 'tagbump:x:1001:1001:tagbump:/tmp:/sbin/nologin' > /rootfs/etc/passwd \
    && echo 'tagbump:x:1001:' > /rootfs/etc/group

# The minimal image for API mode (`docker build --target slim`). tagbump verifies TLS
# with the system roots (rustls-platform-verifier → rustls-native-certs), which read
# SSL_CERT_FILE; /tmp is for the API lander's scratch directory.
FROM scratch AS slim
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /rootfs/ /
COPY --from=build /usr/local/bin/tagbump /tagbump
LABEL org.opencontainers.image.title="tagbump (API mode)" \
      org.opencontainers.image.description="Write a freshly pushed container image tag into a GitOps config repository through the GitHub / GitLab API" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
    HOME=/tmp \
    TMPDIR=/tmp \
    TAGBUMP_VIA=api
USER 1001:1001
ENTRYPOINT ["/tagbump"]
CMD ["--help"]

# The full image: git, ssh and a shell for every remote and mode, non-root.
FROM alpine:3.22 AS full
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

# The GitHub Action's image (action.yml): the full image, run as root (a container
# action's workspace and $GITHUB_OUTPUT belong to the runner's user, whatever its uid),
# with the script that maps the inputs onto tagbump's flags as its entrypoint. git may
# work in the workspace although another uid owns it.
FROM full AS action
USER root
RUN git config --system --add safe.directory /github/workspace \
    && git config --system --add safe.directory '/github/workspace/*'
COPY action/entrypoint.sh /usr/local/bin/tagbump-action
LABEL org.opencontainers.image.title="tagbump (GitHub Action)"
ENTRYPOINT ["/usr/local/bin/tagbump-action"]
CMD []
