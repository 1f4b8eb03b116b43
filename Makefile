# labelgate: `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The example data: the shared read-only copy when it exists, else `make data` downloads it.
SHARED_DATA := ../shared/data/youtube-spam
DATA ?= $(if $(wildcard $(SHARED_DATA)/*.csv),$(SHARED_DATA),data/youtube-spam)
# Pipeline defaults live in src/labelgate/parameters.py; `make run` passes --data only when it differs.
DATA_FLAG = $(if $(or $(filter command line environment,$(origin DATA)),$(filter data/youtube-spam,$(DATA))),--data $(DATA))
RUN_ARGS ?=
# A project folder written by `labelgate init` (docs/own-data.md): `make run PROJECT=DIR`.
PROJECT ?=
# The multi-class example's synthetic data, written on first use (examples/support_tickets/make_data.py).
TICKETS_DATA := examples/support_tickets/data/train.csv
PIPELINE_YAML ?= pipeline.yaml

.PHONY: help install run test lint compile data image base-image wheelhouse engine chromium run-containers run-local submit schedule schedule-monitor serve monitor ui bench mutation clean

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --upgrade pip > $(VENV)/install.log 2>&1 || { tail -n 20 $(VENV)/install.log; exit 1; }

# torch goes first, alone: asked for directly, pip takes the CPU wheel; resolved through the project's
# extras it can pick the multi-GB CUDA build of the same version. pip's chatter goes to a log.
TORCH_PIN := $(shell grep -o 'torch==[0-9.]*' pyproject.toml | head -n 1)
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	@echo "installing labelgate and its dependencies into $(VENV) (log: $(VENV)/install.log) ..."
	@{ $(BIN)/python -m pip install '$(TORCH_PIN)' && $(BIN)/python -m pip install -e '.[dev]'; } >> $(VENV)/install.log 2>&1 \
		|| { tail -n 40 $(VENV)/install.log; exit 1; }
	@touch $@
	@echo "installed: $$($(BIN)/python -c 'import kfp, torch, great_expectations as gx, mlflow; print("kfp", kfp.__version__, "| torch", torch.__version__, "| great_expectations", gx.__version__, "| mlflow", mlflow.__version__)')"

install: $(VENV)/.installed ## create .venv and install labelgate with its dev tools

run: install $(if $(PROJECT),$(if $(filter examples/support_tickets%,$(PROJECT)),$(TICKETS_DATA)),$(if $(filter data/youtube-spam,$(DATA)),data)) ## run the whole pipeline locally (kfp.local) on the example data, or on PROJECT=DIR
	$(BIN)/labelgate run $(if $(PROJECT),--project $(PROJECT),$(DATA_FLAG)) $(RUN_ARGS)

# Line coverage of labelgate, in the processes the tests start too ([tool.coverage] in pyproject.toml),
# held to COVERAGE_MIN percent unless PYTEST_ARGS picks a subset (-m, -k or paths under tests/);
# `make test COVERAGE=` runs without it.
COVERAGE_MIN ?= 91
COVERAGE ?= --cov --cov-report=term:skip-covered $(if $(filter -m -k tests/%,$(PYTEST_ARGS)),,--cov-fail-under=$(COVERAGE_MIN))
# Test files run in TEST_JOBS pytest-xdist workers (a file's tests stay in one worker, so its module fixtures
# are made once); the pipeline runs wait on subprocesses and servers often enough that two workers use two
# cores well. `make test TEST_JOBS=0` runs everything in one process.
TEST_JOBS ?= 2
test: install ## run the test suite, the end-to-end pipeline run included; prints skip reasons and line coverage
	$(BIN)/python -m pytest -q -rs $(if $(filter-out 0,$(TEST_JOBS)),-n $(TEST_JOBS) --dist loadfile) $(COVERAGE) $(PYTEST_ARGS)

lint: install ## ruff over the code
	$(BIN)/ruff check src components pipelines tests bench

compile: install ## write the KFP IR YAML of the pipeline (pipeline.yaml; PIPELINE_YAML= to change)
	$(BIN)/labelgate compile --output $(PIPELINE_YAML)

$(TICKETS_DATA): examples/support_tickets/make_data.py | $(BIN)/python
	$(BIN)/python examples/support_tickets/make_data.py examples/support_tickets/data

data: ## download the YouTube Spam Collection from UCI and verify its SHA-256 hashes
	$(PYTHON) scripts/fetch_data.py --dest data/youtube-spam

mutation: install ## mutation testing (mutmut) of the decision modules: prints `score <module> <fraction> (<killed>/<total>)`, fails below 0.90
	$(BIN)/python scripts/mutation.py $(MUTATION_ARGS)

bench: install ## run every benchmark in bench/ (prints ratios against the anchors measured in the same run)
	@set -e; for b in bench/[!_]*.py; do echo "== $$b"; $(BIN)/python $$b; done

# --- The local registry and serving (after `make run`) ------------------------------------------------
# Empty: labelgate's defaults (src/labelgate/parameters.py).
REGISTRY_URI ?=
MODEL_NAME ?=
SERVE_PORT ?= 8080
UI_PORT ?= 5000
# The prediction log beside the local registry (empty: off); `make monitor` reads it.
PREDICTION_LOG ?= mlruns/predictions

serve: install ## serve the champion over KServe V1/V2 on http://127.0.0.1:8080 (SERVE_PORT), logging to PREDICTION_LOG
	$(BIN)/labelgate serve $(if $(REGISTRY_URI),--registry-uri $(REGISTRY_URI)) $(if $(MODEL_NAME),--model-name $(MODEL_NAME)) --port $(SERVE_PORT) $(if $(PREDICTION_LOG),--prediction-log $(PREDICTION_LOG))

monitor: install ## served traffic (PREDICTION_LOG) vs the champion's profile and LFs; exit 3 on drift; report in monitoring/
	$(BIN)/labelgate monitor --log $(PREDICTION_LOG) $(if $(REGISTRY_URI),--registry-uri $(REGISTRY_URI)) $(if $(MODEL_NAME),--model-name $(MODEL_NAME))

ui: install ## MLflow UI on the local registry at http://127.0.0.1:5000 (UI_PORT): runs, metrics, versions, champion
	@mkdir -p mlruns/artifacts
	$(BIN)/mlflow ui --backend-store-uri $(or $(REGISTRY_URI),$(shell $(BIN)/python -c 'from labelgate.parameters import DEFAULTS; print(DEFAULTS.registry_uri)')) --default-artifact-root $(CURDIR)/mlruns/artifacts \
		--host 127.0.0.1 --port $(UI_PORT) --workers 1

# --- The cluster path: images, kind, an existing KFP (README: "Running on a cluster") ----------------
IMAGE_REGISTRY ?=
IMAGE_TAG ?= $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo dev)$(shell git diff --quiet HEAD -- 2>/dev/null || echo -dirty)
COMPONENT_IMAGE ?= $(IMAGE_REGISTRY)labelgate-component:$(IMAGE_TAG)
SERVING_IMAGE ?= $(IMAGE_REGISTRY)labelgate-serving:$(IMAGE_TAG)
KFP_HOST ?=
KFP_EXPERIMENT ?= labelgate
KFP_DATA_URI ?= s3://mlpipeline/labelgate/data/youtube-spam
KFP_REGISTRY_URI ?= http://labelgate-mlflow:5000
# Push creates (first time) or patches this KServe InferenceService with SERVING_IMAGE; INFERENCE_SERVICE=
# (empty) where KServe is not installed.
INFERENCE_SERVICE ?= labelgate-spam
# Where that InferenceService's server appends its prediction log (`labelgate monitor --log` reads it).
KFP_PREDICTION_LOG ?= s3://mlpipeline/labelgate/predictions/youtube-spam
KFP_PARAMS ?= data_uri=$(KFP_DATA_URI) registry_uri=$(KFP_REGISTRY_URI) \
	$(if $(INFERENCE_SERVICE),inference_service=$(INFERENCE_SERVICE) serving_image=$(SERVING_IMAGE) \
	prediction_log=$(KFP_PREDICTION_LOG))
SUBMIT_ARGS ?= --wait
CRON ?= 0 3 * * *
# The monitoring pipeline (labelgate compile --pipeline monitoring) on its own cron, reading the serving pods' log.
MONITOR_YAML ?= monitoring-pipeline.yaml
MONITOR_CRON ?= 0 * * * *
# RETRAIN_DATA_URI (an object-store prefix): on drift the monitoring pipeline also runs the training pipeline on
# the training data plus the traffic, written under it, and deploys a blessed model as `make submit` does.
RETRAIN_DATA_URI ?=
MONITOR_PARAMS ?= log_uri=$(KFP_PREDICTION_LOG) registry_uri=$(KFP_REGISTRY_URI) since=1h \
	$(if $(RETRAIN_DATA_URI),retrain_data_uri=$(RETRAIN_DATA_URI) $(filter-out registry_uri=%,$(KFP_PARAMS)))
CLUSTER_ARGS = --host $(KFP_HOST) --package $(PIPELINE_YAML) --experiment $(KFP_EXPERIMENT) --version $(IMAGE_TAG)-$(shell date -u +%Y%m%d-%H%M%S) $(addprefix --param ,$(KFP_PARAMS))

# The images' base: the Dockerfile's default (python:3.11-slim from Docker Hub) unless `make base-image`
# built the local one, or PYTHON_IMAGE= names another.
LOCAL_BASE_IMAGE := labelgate-python:3.11-bookworm
PYTHON_IMAGE ?= $(shell docker image inspect $(LOCAL_BASE_IMAGE) >/dev/null 2>&1 && echo $(LOCAL_BASE_IMAGE))
# pip on the host fetches torch's CPU wheel into wheelhouse/ (from PyTorch's CPU index unless pip's own
# configuration finds it first); the image build installs it from there, and trusts pip's CA bundle
# (PIP_CERT or global.cert) when the host has one.
TORCH_VERSION := $(patsubst torch==%,%,$(TORCH_PIN))
TORCH_DOWNLOAD_ARGS ?= --extra-index-url https://download.pytorch.org/whl/cpu
DOCKER_BUILD = docker build --network host $(if $(PYTHON_IMAGE),--build-arg PYTHON_IMAGE=$(PYTHON_IMAGE)) \
	--build-arg TORCH_VERSION=$(TORCH_VERSION) --build-arg GIT_COMMIT=$(IMAGE_TAG)

chromium: ## install Debian's Chromium when missing (the report pages are checked in it, headless)
	@command -v chromium >/dev/null 2>&1 || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; }

engine: ## make a Docker engine reachable (use a running one, else start Debian's dockerd as root)
	scripts/docker_engine.sh start

base-image: ## build the local Python 3.11 base image (debootstrap) when python:3.11-slim cannot be pulled
	@scripts/require_tools.sh base-image docker
	@docker image inspect $(LOCAL_BASE_IMAGE) >/dev/null 2>&1 || docker pull -q python:3.11.11-slim-bookworm >/dev/null 2>&1 \
		&& echo "base image: python:3.11.11-slim-bookworm pulled, or $(LOCAL_BASE_IMAGE) present" \
		|| scripts/base_image.sh $(LOCAL_BASE_IMAGE)

wheelhouse: install ## download torch's CPU wheel into wheelhouse/ for the image build
	@ls wheelhouse/torch-$(TORCH_VERSION)+cpu-*.whl >/dev/null 2>&1 \
		|| $(BIN)/python -m pip download --quiet --no-deps --dest wheelhouse $(TORCH_DOWNLOAD_ARGS) 'torch==$(TORCH_VERSION)+cpu'
	@ls wheelhouse/torch-$(TORCH_VERSION)+cpu-*.whl
	@cert=$${PIP_CERT:-$$($(BIN)/python -m pip config get global.cert 2>/dev/null || true)}; \
		if [ -n "$$cert" ] && [ -f "$$cert" ]; then cp "$$cert" wheelhouse/ca-bundle.crt; echo "wheelhouse/ca-bundle.crt: pip's CA bundle ($$cert)"; fi

image: wheelhouse ## build the component and serving images (Dockerfile), tagged from the git commit and :latest
	@scripts/require_tools.sh image docker
	$(DOCKER_BUILD) --target component -t $(COMPONENT_IMAGE) -t $(IMAGE_REGISTRY)labelgate-component:latest .
	$(DOCKER_BUILD) --target serving -t $(SERVING_IMAGE) -t $(IMAGE_REGISTRY)labelgate-serving:latest .
	@docker image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep -E '^$(IMAGE_REGISTRY)labelgate-(component|serving):$(IMAGE_TAG) '

run-containers: install $(if $(filter data/youtube-spam,$(DATA)),data) ## run the pipeline with every step in the component image (kfp.local DockerRunner); after make image
	@scripts/require_tools.sh run-containers docker
	LABELGATE_IMAGE=$(COMPONENT_IMAGE) $(BIN)/labelgate run --runner docker \
		--data $(DATA) --lf-module $(LF_MODULE) --config $(CONFIG) $(RUN_ARGS)

run-local: .require-kind install ## kind + KFP 2.17: install, load the images, run the pipeline, print its summary
	COMPONENT_IMAGE=$(COMPONENT_IMAGE) SERVING_IMAGE=$(SERVING_IMAGE) DATA=$(DATA) BIN=$(BIN) scripts/run_local_kind.sh

submit: .require-kfp-host install ## upload a new pipeline version to KFP_HOST and run it (SUBMIT_ARGS=--wait waits)
	LABELGATE_IMAGE=$(COMPONENT_IMAGE) $(BIN)/labelgate compile --output $(PIPELINE_YAML)
	$(BIN)/labelgate submit $(CLUSTER_ARGS) $(SUBMIT_ARGS)

schedule: .require-kfp-host install ## upload a new pipeline version to KFP_HOST and run it on a cron (CRON='0 3 * * *')
	LABELGATE_IMAGE=$(COMPONENT_IMAGE) $(BIN)/labelgate compile --output $(PIPELINE_YAML)
	$(BIN)/labelgate schedule $(CLUSTER_ARGS) --cron '$(CRON)'

schedule-monitor: .require-kfp-host install ## upload the monitoring pipeline to KFP_HOST and run it on a cron (MONITOR_CRON='0 * * * *': the last hour's traffic)
	LABELGATE_IMAGE=$(COMPONENT_IMAGE) $(BIN)/labelgate compile --pipeline monitoring --output $(MONITOR_YAML)
	$(BIN)/labelgate schedule --host $(KFP_HOST) --package $(MONITOR_YAML) --pipeline-name labelgate-monitoring \
		--experiment $(KFP_EXPERIMENT) --version $(IMAGE_TAG)-$(shell date -u +%Y%m%d-%H%M%S) \
		--name labelgate-monitoring-schedule --cron '$(MONITOR_CRON)' $(addprefix --param ,$(MONITOR_PARAMS))

.require-kind:
	@scripts/require_tools.sh run-local kind kubectl docker

.require-kfp-host:
	@test -n "$(KFP_HOST)" || { echo "make $(MAKECMDGOALS): set KFP_HOST to your KFP API, e.g. make $(MAKECMDGOALS) KFP_HOST=http://localhost:8080 (after: kubectl port-forward -n kubeflow svc/ml-pipeline-ui 8080:80)" >&2; exit 2; }

.PHONY: .require-kind .require-kfp-host

clean: ## remove runs, the local registry and caches (keeps .venv)
	rm -rf runs mlruns mlartifacts mlflow.db .pytest_cache
