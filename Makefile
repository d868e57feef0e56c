# Two entry points for a fresh machine:
#   make demo  - install, start a Docker engine if none answers, build the sample
#                images, and run the kit on the good sample containers, on two demo
#                datasets (the model x dataset matrix at the end); every item passes
#   make test  - the same set-up, then lint (ruff + mypy) and the test suite
# make demo-regression adds a model that knows only the demo set: the matrix shows it
# failing on site_b only, and the target exits 1 - on purpose.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PYTEST := $(VENV)/bin/pytest
SAMPLES := sample_containers

.PHONY: demo demo-regression test setup install docker tools images lint bench clean

DEMO_DATA := --medperf-demo-data $(SAMPLES)/data/demo \
  --medperf-demo-data site_b=$(SAMPLES)/data/site_b

demo: setup
	$(PYTEST) -p no:cacheprovider -v \
	  --medperf-config $(SAMPLES)/data_preparator/container_config.yaml \
	  --medperf-config $(SAMPLES)/model/container_config.yaml \
	  --medperf-config $(SAMPLES)/metrics/container_config.yaml \
	  $(DEMO_DATA) --medperf-determinism

demo-regression: setup
	$(PYTEST) -p no:cacheprovider \
	  --medperf-config $(SAMPLES)/data_preparator/container_config.yaml \
	  --medperf-config $(SAMPLES)/model/container_config.yaml \
	  --medperf-config $(SAMPLES)/regression/model_demo_only/container_config.yaml \
	  --medperf-config $(SAMPLES)/metrics/container_config.yaml \
	  $(DEMO_DATA)

test: setup lint
	$(PYTEST) tests

setup: install docker tools images

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

docker:
	bash scripts/ensure-docker.sh

# gpg (encrypted containers) and docker-registry (the tests' local registry)
tools:
	bash scripts/ensure-tools.sh

images: docker
	bash scripts/build-images.sh

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

bench: setup
	$(PY) bench/overhead.py
	$(PY) bench/speed.py
	$(PY) bench/chatty.py
	$(PY) bench/datasets.py

clean:
	rm -rf $(VENV) *.egg-info
