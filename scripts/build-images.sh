#!/usr/bin/env bash
# Build every image the samples and tests use, locally, by tag. Docker's layer
# cache makes a rebuild of unchanged sources take about a second per image.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
base=${MEDPERF_BASE_IMAGE:-pytest-medperf/python-base:bookworm}

bash "$here/scripts/build-base-image.sh"

log=$(mktemp)
trap 'rm -f "$log"' EXIT
build() {  # tag, context folder
  if ! DOCKER_BUILDKIT=0 docker build -q --build-arg "BASE_IMAGE=$base" \
      --label io.github.pytest-medperf.sample=1 -t "$1" "$here/$2" >"$log" 2>&1; then
    cat "$log" >&2
    echo "build-images: building $1 from $2 failed" >&2
    exit 1
  fi
  echo "build-images: $1"
}

build pytest-medperf/sample-prep:0.1 sample_containers/data_preparator
build pytest-medperf/sample-model:0.1 sample_containers/model
build pytest-medperf/sample-metrics:0.1 sample_containers/metrics
build pytest-medperf/sample-legacy-model:0.1 sample_containers/legacy_model/project
build pytest-medperf/violations:0.1 sample_containers/violations
build pytest-medperf/hostile:0.1 sample_containers/hostile
build pytest-medperf/site-user:0.1 sample_containers/site_user
build pytest-medperf/sample-fl:0.1 sample_containers/fl
build pytest-medperf/sample-memory:0.1 sample_containers/memory_model
build pytest-medperf/sample-script:0.1 sample_containers/script
build pytest-medperf/sample-ca:0.1 sample_containers/ca

# A rebuilt sample leaves its previous image untagged: remove those, and nothing else.
docker image prune -f --filter label=io.github.pytest-medperf.sample=1 >/dev/null
