# The two commands a newcomer needs: `make demo` and `make test`.
# Both create .venv on first use; nothing else has to be installed beyond Python 3.11+ and make.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test serve clean bench

demo: $(VENV)/.sandbox
	$(BIN)/mdsync demo

test: $(VENV)/.test
	$(BIN)/python -m pytest -n auto $(PYTEST_ARGS)

serve: $(VENV)/.sandbox
	$(BIN)/mdsync sandbox serve

bench: $(VENV)/.test
	$(BIN)/python benchmarks/sandbox_throughput.py
	$(BIN)/python benchmarks/convert_throughput.py
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

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
