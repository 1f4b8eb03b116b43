# syntax=docker/dockerfile:1
# labelgate images. `make image` builds both targets and tags them from the git commit:
#   component  every pipeline step's base_image (LABELGATE_IMAGE at compile time), and the MLflow server
#   serving    the KServe predictor: `labelgate serve` on the registry's champion
# Layers go from least to most often changed: torch, the other dependencies, then labelgate itself.
# The base is a build argument: where Docker Hub cannot be reached, `make base-image` builds a local
# Python 3.11 base (Debian bookworm, scripts/base_image.sh) and `make image` passes it.

ARG PYTHON_IMAGE=python:3.11.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PATH=/opt/venv/bin:$PATH
RUN python -m venv /opt/venv
# The CPU build of torch: from wheelhouse/ when the host put it there (`make wheelhouse`: pip on the host
# downloads it, e.g. where PyTorch's index cannot be reached from a build), else from PyTorch's CPU index.
# The default index serves the multi-GB CUDA build. Its dependencies come from the default index.
# wheelhouse/ca-bundle.crt, when present, is the CA bundle pip trusts here (a TLS-intercepting proxy's);
# it stays in this build stage, not in the images.
ARG TORCH_VERSION=2.13.0
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
COPY wheelhouse/ /wheelhouse/
RUN if [ -f /wheelhouse/ca-bundle.crt ]; then export PIP_CERT=/wheelhouse/ca-bundle.crt; fi \
 && if ls /wheelhouse/torch-${TORCH_VERSION}+cpu-*.whl >/dev/null 2>&1; \
    then pip install --find-links /wheelhouse "torch==${TORCH_VERSION}+cpu"; \
    else pip install --index-url ${TORCH_INDEX_URL} --extra-index-url https://pypi.org/simple "torch==${TORCH_VERSION}"; fi
# Every other dependency, read from pyproject.toml alone, so that code changes do not reinstall them.
# The `cluster` extra adds object-store access (s3fs) for data URIs.
WORKDIR /build
COPY pyproject.toml ./
RUN python -c "import tomllib; p = tomllib.load(open('pyproject.toml', 'rb'))['project']; \
print('\n'.join(p['dependencies'] + p['optional-dependencies']['cluster']))" > requirements.txt \
 && if [ -f /wheelhouse/ca-bundle.crt ]; then export PIP_CERT=/wheelhouse/ca-bundle.crt; fi \
 && pip install -r requirements.txt \
 && python -c "import torch; assert torch.__version__.startswith('${TORCH_VERSION}+cpu'), torch.__version__" \
 && rm -rf /wheelhouse
# labelgate itself (no dependencies left to resolve).
COPY README.md ./
COPY src ./src
COPY components ./components
COPY pipelines ./pipelines
# pip fetches the build backend (setuptools) for this: the CA bundle again (build stage only).
COPY wheelhouse/ /wheelhouse/
RUN if [ -f /wheelhouse/ca-bundle.crt ]; then export PIP_CERT=/wheelhouse/ca-bundle.crt; fi \
 && pip install --no-deps . && rm -rf /wheelhouse && find /opt/venv -name '__pycache__' -prune -exec rm -rf {} +

FROM ${PYTHON_IMAGE} AS component
ARG UID=10001
# The code's commit, recorded in each run report's lineage (`make image` passes it).
ARG GIT_COMMIT=unknown
# KFP's launcher stages artifacts under /gcs, /minio and /s3: a non-root step must be able to write there.
RUN groupadd --gid ${UID} labelgate \
 && useradd --uid ${UID} --gid ${UID} --create-home --home-dir /home/labelgate --shell /usr/sbin/nologin labelgate \
 && mkdir -p /gcs /minio /s3 /oci \
 && chown ${UID}:${UID} /gcs /minio /s3 /oci
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
# Paths in the pipeline's defaults (examples/youtube_spam/...) are relative to the working directory.
COPY --chown=${UID}:${UID} examples ./examples
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/home/labelgate \
    MPLBACKEND=Agg \
    MPLCONFIGDIR=/tmp/matplotlib \
    LABELGATE_GIT_COMMIT=${GIT_COMMIT}
USER ${UID}:${UID}
# KFP sets each step's command; run alone, the image shows the command line's help.
CMD ["labelgate", "--help"]

FROM component AS serving
EXPOSE 8080
ENTRYPOINT ["labelgate", "serve"]
CMD ["--host", "0.0.0.0", "--port", "8080"]
