#!/usr/bin/env bash
# Build the local Python base image the sample containers use where no registry
# exists. Real users keep `FROM python:3.11-slim`; here the samples are built with
# --build-arg BASE_IMAGE=<this tag>. Built once, reused by tag.
set -euo pipefail

tag=${MEDPERF_BASE_IMAGE:-pytest-medperf/python-base:bookworm}
if docker image inspect "$tag" >/dev/null 2>&1; then
  exit 0
fi

if ! command -v debootstrap >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q debootstrap >/dev/null
fi

rootfs=$(mktemp -d /tmp/medperf-base-rootfs.XXXXXX)
trap 'rm -rf "$rootfs"' EXIT
echo "build-base-image: debootstrap (about a minute) ..."
debootstrap --variant=minbase --include=python3-minimal,python3-yaml \
  bookworm "$rootfs" http://deb.debian.org/debian >"$rootfs.log" 2>&1 \
  || { tail -20 "$rootfs.log" >&2; rm -f "$rootfs.log"; exit 1; }
rm -f "$rootfs.log"
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
tar -C "$rootfs" -c . | docker import \
  -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  -c 'ENV LANG=C.UTF-8' \
  - "$tag" >/dev/null
echo "build-base-image: built $tag"
