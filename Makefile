# LLM Interview Field Guide: one command to preview, one to test.
#   make serve [lang=en|zh|ru]   preview with live reload (labs not executed)
#   make test                    set up, strict-build every language, run every check
#   make build                   build every language into site/ (labs executed)

PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
NODE_STAMP := node_modules/.installed-stamp
lang   ?= en
port   ?= 8000

CONFIG_en := mkdocs.yml
CONFIG_zh := mkdocs.zh.yml
CONFIG_ru := mkdocs.ru.yml

.PHONY: setup serve build test lighthouse outputs figures lint lock clean vendor deploy bench

setup: $(STAMP) $(NODE_STAMP)

# Create the virtual environment and install the lock. The repository root goes on the
# path through a .pth file so that `import snippets...` works in tests, labs and scripts.
$(STAMP): requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(PY) -c "import pathlib, site; pathlib.Path(site.getsitepackages()[0], 'llm_field_guide.pth').write_text('$(CURDIR)\n')"
	@touch $@

# Node tools for the quality gates (axe-core, Lighthouse), pinned by package-lock.json.
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	@touch $@

serve: $(STAMP)
	@test -n "$(CONFIG_$(lang))" || { echo "unknown lang '$(lang)': use en, zh or ru"; exit 2; }
	LABS_EXECUTE=false NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs serve --livereload --dirty -f $(CONFIG_$(lang)) -a 127.0.0.1:$(port)

build: $(STAMP)
	$(PY) scripts/build.py

# Every check and test: first everything but Lighthouse, on two workers; then the
# Lighthouse speed gate, alone, because its Performance score depends on the CPU time it
# observes (see CONTRIBUTING.md, "Speed gate"). It prints every run's scores.
test: setup build
	$(PY) -m pytest -n 2 --dist loadfile -m "not lighthouse" --durations=25
	$(PY) -m pytest -m lighthouse -s -q

# The speed gate on its own (about 8 minutes).
lighthouse: setup build
	$(PY) -m pytest -m lighthouse -s -q

outputs: setup
	$(PY) scripts/snippet_outputs.py --write

# Redraw the shared figures, every language (docs/assets/figures/<section>/<name>.<lang>.svg);
# MEASURE=1 also measures the recorded timings again (minutes).
figures: setup
	$(PY) scripts/figures.py $(if $(MEASURE),--measure)

lint: $(STAMP)
	$(VENV)/bin/ruff check snippets tests scripts docs/hooks
	$(VENV)/bin/codespell --ignore-words .codespell-ignore --skip "scripts/vendor" docs/en snippets scripts README.md CONTRIBUTING.md
	$(PY) scripts/check_parity.py
	$(PY) scripts/check_style.py
	$(PY) scripts/check_snippets.py

lock: setup
	$(PY) -m pip install --quiet -r requirements.in
	{ echo "# Lock file: exact versions make installs. Regenerate with make lock (see requirements.in)."; \
	  $(PY) -m pip freeze --exclude-editable | sed 's/^torch==\(.*\)+cpu$$/torch==\1/'; } > requirements.txt

# Publish a release of every language with mike: make deploy VERSION=1.0 [PUSH=1]
deploy: $(STAMP)
	@test -n "$(VERSION)" || { echo "usage: make deploy VERSION=1.0 [PUSH=1]"; exit 2; }
	$(PY) scripts/deploy.py $(VERSION) $(if $(PUSH),--push)

# Benchmark (not a test): build times, rebuild time, page weight, search index, query time.
bench: setup
	$(PY) scripts/bench_site.py $(if $(WRITE),--write)

vendor:
	bash scripts/vendor_assets.sh

clean:
	rm -rf site .pytest_cache
