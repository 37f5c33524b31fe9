#!/usr/bin/env bash
# Installs and starts a container engine for the Testcontainers tests on a Debian machine without Docker:
# rootful podman from Debian, its Docker-compatible API on unix:///run/podman/podman.sock.
# Idempotent: installs only what is missing, writes the config only when it differs, starts the API service
# only when the socket does not answer. Needs root (apt-get, /etc/containers, /run/podman).
#
#   scripts/container-engine.sh          # install + configure + start the API service
#   eval "$(scripts/container-engine.sh env)"   # the environment Testcontainers needs (see below)
#
# Recipe, pitfalls and measurements: docs/testing-containers.md.
set -euo pipefail

SOCK=/run/podman/podman.sock
LOG_DIR=${TRIBUTARY_IMAGE_WORK:-/var/tmp/tributary-images}

print_env() {
  # DOCKER_HOST: podman's Docker API. Ryuk (the reaper) is an image from Docker Hub, which is not reachable:
  # disabled (containers are stopped by the tests themselves). This machine has /.dockerenv, so Testcontainers
  # would route through the bridge gateway: keep test traffic on loopback (127.0.0.1, as the local brokers). Testcontainers reads the last two
  # from the environment only.
  cat <<ENV
export DOCKER_HOST=unix://$SOCK
export TESTCONTAINERS_RYUK_DISABLED=true
export TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1
ENV
}

if [[ "${1:-}" == env ]]; then
  print_env
  exit 0
fi

# iptables: netavark (podman's network backend) programs the container network's NAT and port forwards with it; the
# packages above do not depend on it, and without it the first `RUN` of an image build fails with "netavark: No such
# file or directory (os error 2)" (seen on a fresh machine, 2026-12-07).
pkgs=()
for p in podman runc slirp4netns fuse-overlayfs uidmap debootstrap netavark aardvark-dns iptables curl; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || pkgs+=("$p")
done
if [ ${#pkgs[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${pkgs[@]}"
fi

# VMs without systemd, with cgroup v1 and a limited RLIMIT_NOFILE: without default_ulimits runc fails with
# "error setting rlimit type 7: operation not permitted".
conf=$(cat <<'CONF'
# written by tributary scripts/container-engine.sh
[containers]
default_ulimits = [
  "nofile=4096:4096",
  "nproc=4096:4096",
]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
)
if [[ ! -f /etc/containers/containers.conf ]] || [[ "$(cat /etc/containers/containers.conf)" != "$conf" ]]; then
  mkdir -p /etc/containers
  printf '%s\n' "$conf" > /etc/containers/containers.conf
fi

if ! curl -sf --unix-socket "$SOCK" http://d/_ping >/dev/null 2>&1; then
  mkdir -p /run/podman "$LOG_DIR"
  # --time=0: no idle timeout; the service lives until the machine (or CI job) ends.
  nohup podman system service --time=0 "unix://$SOCK" >"$LOG_DIR/podman-service.log" 2>&1 &
  echo $! >"$LOG_DIR/podman-service.pid"
  for _ in $(seq 1 100); do
    curl -sf --unix-socket "$SOCK" http://d/_ping >/dev/null 2>&1 && break
    sleep 0.1
  done
  curl -sf --unix-socket "$SOCK" http://d/_ping >/dev/null || {
    echo "podman API service did not answer on $SOCK; its log: $LOG_DIR/podman-service.log" >&2
    exit 1
  }
fi
echo "container engine: $(podman --version), API on unix://$SOCK"
