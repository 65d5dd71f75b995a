# kubeship — `make demo` and `make test` set themselves up on a fresh Debian machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SRC := src tests examples benchmarks scripts
# Debian packages the tests run for real (command=package).
TEST_DEPS := haproxy wrk promtool=prometheus prometheus-alertmanager amtool=prometheus-alertmanager \
	redis-server prometheus-redis-exporter prometheus-node-exporter \
	pg_ctlcluster=postgresql psql=postgresql-client prometheus-postgres-exporter \
	rsyslogd=rsyslog /usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_gtls.so=rsyslog-gnutls \
	wapiti shellcheck
GOCODE := /usr/share/gocode/src
BENCH_DEPS := wrk go=golang-go $(GOCODE)/github.com/gin-gonic/gin=golang-github-gin-gonic-gin-dev \
	$(GOCODE)/github.com/xeipuuv/gojsonschema=golang-github-xeipuuv-gojsonschema-dev \
	$(GOCODE)/gopkg.in/yaml.v3=golang-gopkg-yaml.v3-dev /usr/bin/time=time

.PHONY: help venv system-deps lint test unit e2e demo bench clean

help:
	@echo "make demo   serve the example app, exercise it, show where the outputs are"
	@echo "make test   lint, type-check and run the whole suite (installs what it needs)"
	@echo "make bench  benchmarks/ (prints numbers and ratios; installs wrk and Go)"

# The runtime is compiled at install (setup.py, a C compiler and Python's headers): edits to it reinstall.
PY_INCLUDE := $(shell $(PYTHON) -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
$(VENV)/.installed: pyproject.toml setup.py $(wildcard src/kubeship/runtime/*.py)
	@scripts/system-deps.sh cc=gcc $(PY_INCLUDE)/Python.h=python3-dev
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@

venv: $(VENV)/.installed

system-deps:
	@scripts/system-deps.sh $(TEST_DEPS)
	@scripts/containers-setup.sh

lint: venv
	$(BIN)/ruff check $(SRC)
	$(BIN)/ruff format --check $(SRC)
	$(BIN)/mypy
	$(BIN)/lint-imports

test: venv system-deps lint
	$(BIN)/python -m pytest -n 2

unit: venv
	$(BIN)/python -m pytest -n 2 -m "not e2e"

e2e: venv system-deps
	$(BIN)/python -m pytest -m e2e

demo: venv
	-@scripts/system-deps.sh redis-server wapiti
	$(BIN)/python scripts/demo.py

bench: venv
	@scripts/system-deps.sh $(BENCH_DEPS)
	$(BIN)/python benchmarks/render.py
	$(BIN)/python benchmarks/check.py
	$(BIN)/python benchmarks/simulate.py
	-$(BIN)/python benchmarks/simulate_accuracy.py
	$(BIN)/python benchmarks/deliver.py
	$(BIN)/python benchmarks/serve.py
	$(BIN)/python benchmarks/serve_tls.py
	$(BIN)/python benchmarks/overload.py

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache
