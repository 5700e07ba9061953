# The two commands a newcomer needs: `make demo` and `make test`.
# Both create .venv on first use; nothing else has to be installed beyond Python 3.11+ and make.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test test-browser serve clean bench

demo: $(VENV)/.sandbox
	$(BIN)/mdsync demo

# Two test workers per core: many end-to-end tests wait on a subprocess or a socket; work
# stealing, so a worker that drew the slow watch tests hands the rest on. Bytecode
# is cached under .venv even where PYTHONDONTWRITEBYTECODE is set, or every CLI run the tests
# start would compile mdsync again.
WORKERS ?= $(shell $(PYTHON) -c 'import os; print(2 * (os.cpu_count() or 1))')
test: $(VENV)/.test $(VENV)/.clients
	PYTHONDONTWRITEBYTECODE= PYTHONPYCACHEPREFIX=$(CURDIR)/$(VENV)/pycache \
	  $(BIN)/python -m pytest -n $(WORKERS) --dist worksteal $(PYTEST_ARGS)

# The preview in a real browser: Debian's Chromium, headless, driven by Playwright, over the
# sample docs pushed into a sandbox (tests/browser; make test leaves them out). Needs
# `apt-get install chromium` (.ci/run does it); Playwright downloads no browser of its own.
test-browser: $(VENV)/.browser
	PYTHONDONTWRITEBYTECODE= PYTHONPYCACHEPREFIX=$(CURDIR)/$(VENV)/pycache \
	  $(BIN)/python -m pytest -m browser tests/browser $(PYTEST_ARGS)

serve: $(VENV)/.sandbox
	$(BIN)/mdsync sandbox serve

bench: $(VENV)/.test
	$(BIN)/python benchmarks/sandbox_throughput.py
	$(BIN)/python benchmarks/convert_throughput.py
	$(BIN)/python benchmarks/pathological_inputs.py
	$(BIN)/python benchmarks/to_markdown_throughput.py
	$(BIN)/python benchmarks/sync_benchmark.py
	$(BIN)/python benchmarks/watch_latency.py

$(VENV)/.python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' \
	  || { echo "mdsync needs Python 3.11 or newer; set PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	@touch $@

$(VENV)/.sandbox: $(VENV)/.python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[sandbox]'
	@touch $@

$(VENV)/.test: $(VENV)/.python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[sandbox,test]'
	@touch $@ $(VENV)/.sandbox

$(VENV)/.browser: $(VENV)/.test pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[sandbox,test,browser]'
	@touch $@

# A third-party Cloud v2 client, in a virtualenv of its own, that a test drives against the
# sandbox (tests/e2e/test_third_party_client.py): the sandbox must serve other tools too.
MD2CONF := markdown-to-confluence==0.6.5
$(VENV)/.clients: $(VENV)/.python
	$(PYTHON) -m venv $(VENV)/clients/md2conf
	$(VENV)/clients/md2conf/bin/python -m pip install --quiet '$(MD2CONF)'
	@touch $@

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
