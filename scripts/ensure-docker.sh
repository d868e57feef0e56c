#!/usr/bin/env bash
# Make sure a Docker engine answers. Installs Debian's docker.io and starts
# dockerd only when `docker info` fails; never starts a second daemon.
set -euo pipefail

if docker info >/dev/null 2>&1; then
  exit 0
fi

if ! command -v dockerd >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "ensure-docker: no Docker engine answers and dockerd is not installed;" \
         "install Docker (or run this script as root to install Debian's docker.io)." >&2
    exit 1
  fi
  echo "ensure-docker: installing Debian's docker.io ..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q docker.io iptables >/dev/null
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "ensure-docker: no Docker engine answers; start one (e.g. 'sudo systemctl start docker')." >&2
  exit 1
fi

log=${DOCKERD_LOG:-/var/log/medperf-kit-dockerd.log}
echo "ensure-docker: starting dockerd (log: $log) ..."
nohup dockerd >"$log" 2>&1 &
for _ in $(seq 1 60); do
  if docker info >/dev/null 2>&1; then
    echo "ensure-docker: engine ready."
    exit 0
  fi
  sleep 1
done
echo "ensure-docker: dockerd did not answer within 60 s; see $log" >&2
exit 1
