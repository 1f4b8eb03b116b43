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

.PHONY: help install run test lint compile data image run-local submit schedule serve ui bench clean

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

test: install ## run the test suite, the end-to-end pipeline run included
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

lint: install ## ruff over the code
	$(BIN)/ruff check src components pipelines tests bench

compile: install ## write the KFP IR YAML of the pipeline (pipeline.yaml; PIPELINE_YAML= to change)
	$(BIN)/labelgate compile --output $(PIPELINE_YAML)

$(TICKETS_DATA): examples/support_tickets/make_data.py | $(BIN)/python
	$(BIN)/python examples/support_tickets/make_data.py examples/support_tickets/data

data: ## download the YouTube Spam Collection from UCI and verify its SHA-256 hashes
	$(PYTHON) scripts/fetch_data.py --dest data/youtube-spam

bench: install ## run every benchmark in bench/ (prints ratios against the anchors measured in the same run)
	@set -e; for b in bench/[!_]*.py; do echo "== $$b"; $(BIN)/python $$b; done

# --- The local registry and serving (after `make run`) ------------------------------------------------
# Empty: labelgate's defaults (src/labelgate/parameters.py).
REGISTRY_URI ?=
MODEL_NAME ?=
SERVE_PORT ?= 8080
UI_PORT ?= 5000

serve: install ## serve the champion over KServe V1/V2 on http://127.0.0.1:8080 (SERVE_PORT); see README
	$(BIN)/labelgate serve $(if $(REGISTRY_URI),--registry-uri $(REGISTRY_URI)) $(if $(MODEL_NAME),--model-name $(MODEL_NAME)) --port $(SERVE_PORT)

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
KFP_PARAMS ?= data_uri=$(KFP_DATA_URI) registry_uri=$(KFP_REGISTRY_URI)
SUBMIT_ARGS ?= --wait
CRON ?= 0 3 * * *
CLUSTER_ARGS = --host $(KFP_HOST) --package $(PIPELINE_YAML) --experiment $(KFP_EXPERIMENT) --version $(IMAGE_TAG)-$(shell date -u +%Y%m%d-%H%M%S) $(addprefix --param ,$(KFP_PARAMS))

image: ## build the component and serving images (Dockerfile), tagged from the git commit
	@scripts/require_tools.sh image docker
	docker build --target component --build-arg GIT_COMMIT=$(IMAGE_TAG) -t $(COMPONENT_IMAGE) .
	docker build --target serving --build-arg GIT_COMMIT=$(IMAGE_TAG) -t $(SERVING_IMAGE) .

run-local: .require-kind install ## kind + KFP 2.17: install, load the images, run the pipeline, print its summary
	COMPONENT_IMAGE=$(COMPONENT_IMAGE) SERVING_IMAGE=$(SERVING_IMAGE) DATA=$(DATA) BIN=$(BIN) scripts/run_local_kind.sh

submit: .require-kfp-host install ## upload a new pipeline version to KFP_HOST and run it (SUBMIT_ARGS=--wait waits)
	LABELGATE_IMAGE=$(COMPONENT_IMAGE) $(BIN)/labelgate compile --output $(PIPELINE_YAML)
	$(BIN)/labelgate submit $(CLUSTER_ARGS) $(SUBMIT_ARGS)

schedule: .require-kfp-host install ## upload a new pipeline version to KFP_HOST and run it on a cron (CRON='0 3 * * *')
	LABELGATE_IMAGE=$(COMPONENT_IMAGE) $(BIN)/labelgate compile --output $(PIPELINE_YAML)
	$(BIN)/labelgate schedule $(CLUSTER_ARGS) --cron '$(CRON)'

.require-kind:
	@scripts/require_tools.sh run-local kind kubectl docker

.require-kfp-host:
	@test -n "$(KFP_HOST)" || { echo "make $(MAKECMDGOALS): set KFP_HOST to your KFP API, e.g. make $(MAKECMDGOALS) KFP_HOST=http://localhost:8080 (after: kubectl port-forward -n kubeflow svc/ml-pipeline-ui 8080:80)" >&2; exit 2; }

.PHONY: .require-kind .require-kfp-host

clean: ## remove runs, the local registry and caches (keeps .venv)
	rm -rf runs mlruns mlartifacts mlflow.db .pytest_cache
