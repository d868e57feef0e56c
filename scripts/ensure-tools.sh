#!/usr/bin/env bash
# Tools the kit and its tests use beside Docker: gpg (Debian's gnupg), which decrypts
# MedPerf's encrypted containers, and Debian's docker-registry (the CNCF distribution
# registry), which the tests start on 127.0.0.1 to push and pull as a site does.
# Installs only what is missing; needs root for apt-get.
set -euo pipefail

missing=()
command -v gpg >/dev/null 2>&1 || missing+=(gnupg)
command -v docker-registry >/dev/null 2>&1 || missing+=(docker-registry)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "ensure-tools: ${missing[*]} missing; install them (sudo apt-get install -y ${missing[*]})." >&2
  exit 1
fi
echo "ensure-tools: installing ${missing[*]} ..."
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
# Debian's package may start its own service where systemd runs; the tests start
# their own registry on a free port, so nothing else is needed.
