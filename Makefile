# One command to run the app, one to run the tests; both install what they need first.
# `make run`  -> install, set up the database with the bundled sample, start the app
# `make test` -> install (including Debian's chromium for browser tests), lint (ruff, and
#                import-linter for the layer order), run every test

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8501

.PHONY: run test install setup assets browser postgres bench clean

# HOTSPOTS_MAX_UPLOAD_MB (whole MB), when set, is also Streamlit's upload limit.
run: setup
	$(PY) -m streamlit run serve.py --server.port $(PORT) --server.address localhost \
	  $(if $(HOTSPOTS_MAX_UPLOAD_MB),--server.maxUploadSize $(HOTSPOTS_MAX_UPLOAD_MB))

test: install assets browser postgres
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(PY) -m pytest

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

assets: static/vendor/.ready

static/vendor/.ready: package-lock.json scripts/vendor_assets.py $(VENV)/.installed
	npm ci --no-audit --no-fund --loglevel=error
	$(PY) scripts/vendor_assets.py
	touch $@

setup: install assets
	$(VENV)/bin/hotspots setup

browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium; }

postgres:
	bash scripts/ensure_postgres.sh

bench: setup
	$(PY) bench/bench_import_detect.py
	$(PY) bench/bench_national.py
	$(PY) bench/bench_hotspots.py
	$(PY) bench/bench_context.py
	$(PY) bench/bench_registers.py
	$(PY) bench/bench_themes.py
	$(PY) bench/bench_briefing.py
	$(PY) bench/bench_access.py
	$(PY) bench/bench_uploads.py
	$(PY) bench/bench_app.py
	$(PY) bench/bench_trust.py
	$(PY) bench/bench_assessment.py
	$(PY) bench/bench_hardening.py

clean:
	rm -rf $(VENV) node_modules static/vendor data/hotspots.sqlite*
