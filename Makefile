# Two commands on a fresh machine: `make site` builds the review into site/, `make test` runs every check.
# Both create .venv from the lock file when it is missing or older than the lock.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# Reproducible output: dates in the site and the PDF come from the last commit, not the clock.
# (Left unset outside a git checkout, e.g. in a tarball; tools then use the build time.)
ifeq ($(origin SOURCE_DATE_EPOCH), undefined)
  COMMIT_EPOCH := $(shell git log -1 --format=%ct 2>/dev/null)
  ifneq ($(COMMIT_EPOCH),)
    export SOURCE_DATE_EPOCH := $(COMMIT_EPOCH)
  endif
endif

.PHONY: site test serve pdf validate lint bench bench-large lock clean export screenshots

site: $(STAMP)
	$(BIN)/mkdocs build --strict
	$(BIN)/python scripts/build_pdf.py --site-dir site

pdf: $(STAMP)
	$(BIN)/python scripts/build_pdf.py --site-dir site

test: $(STAMP)
	$(BIN)/python -m pytest

serve: $(STAMP)
	$(BIN)/mkdocs serve --dirty

# The final Markdown tree (markers and citations expanded, generated pages, assets, downloads)
# with an mkdocs.yml without hooks: plain MkDocs builds it to the same pages.
export: $(STAMP)
	$(BIN)/python scripts/export.py --out export

# Full-page PNGs of the main pages at 390 px and 1,280 px (and the home page in the dark scheme)
# in build/screenshots/, with what the browser test measures on each; needs Debian's chromium.
screenshots: $(STAMP)
	$(BIN)/python scripts/screenshots.py --out build/screenshots

validate: $(STAMP)
	$(BIN)/python scripts/validate.py

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The targets of issue 18 at 500 and 1,000 studies, every part (17 minutes on an idle 2-core machine).
bench: $(STAMP)
	$(BIN)/python scripts/bench.py --sizes 500,1000 --profile 1000 --json bench-results.json

# Builds only, once each, at 2,000 and 4,000 studies (15 minutes on an idle 2-core machine).
bench-large: $(STAMP)
	$(BIN)/python scripts/bench.py --sizes 2000,4000 --repeat 1 --skip-bibtex --skip-serve --skip-pdf --json bench-large.json

# Regenerate the lock from requirements.in (needs network; uv is used only here).
lock: $(STAMP)
	$(BIN)/python -m pip install --quiet uv==0.13.8
	$(BIN)/uv pip compile requirements.in --generate-hashes --python-version 3.11 --no-header -o requirements.lock

$(STAMP): requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements.lock
	touch $(STAMP)

clean:
	rm -rf site export build/screenshots .pytest_cache .cache
