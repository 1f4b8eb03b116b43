# labelgate: `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The example data: the shared read-only copy when it exists, else `make data` downloads it.
SHARED_DATA := ../shared/data/youtube-spam
DATA ?= $(if $(wildcard $(SHARED_DATA)/*.csv),$(SHARED_DATA),data/youtube-spam)
LF_MODULE ?= examples/youtube_spam/lfs.py
CONFIG ?= examples/youtube_spam/config.yaml
RUN_ARGS ?=
PIPELINE_YAML ?= pipeline.yaml

.PHONY: help install run test lint compile data image run-local submit schedule serve ui bench clean

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

install: $(VENV)/.installed ## create .venv and install labelgate with its dev tools

run: install $(if $(filter data/youtube-spam,$(DATA)),data) ## run the whole pipeline locally (kfp.local) on the example data
	$(BIN)/labelgate run --data $(DATA) --lf-module $(LF_MODULE) --config $(CONFIG) $(RUN_ARGS)

test: install ## run the test suite, the end-to-end pipeline run included
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

lint: install ## ruff over the code
	$(BIN)/ruff check src components pipelines tests bench

compile: install ## write the KFP IR YAML of the pipeline to $(PIPELINE_YAML)
	$(BIN)/labelgate compile --output $(PIPELINE_YAML)

data: ## download the YouTube Spam Collection from UCI and verify its SHA-256 hashes
	$(PYTHON) scripts/fetch_data.py --dest data/youtube-spam

bench: install ## run every benchmark in bench/ (prints ratios against the anchors measured in the same run)
	@set -e; for b in bench/[!_]*.py; do echo "== $$b"; $(BIN)/python $$b; done

clean: ## remove runs, the local registry and caches (keeps .venv)
	rm -rf runs mlruns mlartifacts mlflow.db .pytest_cache
