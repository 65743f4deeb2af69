# bpkit course: two commands on a fresh machine with Python 3.10+ and make.
#   make book   create .venv, install, build the HTML book into _build/html: the English
#               edition, then the Chinese one (_build/html/zh) from the same executed notebooks
#   make test   the whole suite (lint, unit and property tests, every notebook,
#               the book build, the browser test of the built book)
#   make pdf    the whole book as one PDF (_build/pdf/book.pdf), offline, for handouts
#   make lab    JupyterLab on the chapters, for self-study (make lab-zh: 中文版)
#   make i18n   refresh the translation catalogs (locale/, bpcourse/locale/) and list what is left
#   make bench  benchmarks against the performance budgets

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
BOOK_FLAGS := -W -n --keep-going

.PHONY: book pdf test lab lab-zh i18n bench lint format clean browser-deps strip

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "bpkit needs Python 3.10 or newer; found " + sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	@touch $(STAMP)

# One BLAS thread per process for the book build and the tests: the chapters' matrices
# are small, and on a 2-core machine a second, spinning BLAS thread only competes with
# the kernel (measured: the capstone notebook ran 6.2 s with two threads, 5.7 s with one;
# on a busy machine 164 s against 26 s). Override with OPENBLAS_NUM_THREADS=... make ...
book pdf test: export OPENBLAS_NUM_THREADS ?= 1

# (When bpkit or bpcourse changes, the book's own extension, book/bpkit_book.py, re-executes every
# notebook: the execution cache keys on each notebook's code only.)
book: $(STAMP)
	$(BIN)/jupyter-book build . $(BOOK_FLAGS)
	$(BIN)/python book/i18n.py build
	@echo "The book is at file://$(CURDIR)/_build/html/index.html"
	@echo "中文版: file://$(CURDIR)/_build/html/zh/index.html"

# One HTML page of the whole book, printed by Debian's Chromium once MathJax has typeset
# it (book/pdf.py): Jupyter Book's pdfhtml builder downloads its own browser (no network).
pdf: $(STAMP) browser-deps
	$(BIN)/python book/pdf.py

# The browser test drives Debian's Chromium (Playwright's own browser download
# cannot work offline). Install it when we can; otherwise say how in one line.
browser-deps:
	@if ! command -v chromium >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Debian's chromium for the browser test ..."; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	      || { echo "Could not install chromium: run 'sudo apt-get install chromium' and retry."; exit 1; }; \
	  else \
	    echo "The browser test needs Chromium: run 'sudo apt-get install chromium' (Debian/Ubuntu) and retry."; exit 1; \
	  fi; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check bpkit bpcourse book tests bench
	$(BIN)/ruff format --check bpkit bpcourse book tests bench

format: $(STAMP)
	$(BIN)/ruff check --fix bpkit bpcourse book tests bench
	$(BIN)/ruff format bpkit bpcourse book tests bench

test: $(STAMP) browser-deps lint
	$(BIN)/python -m pytest

lab: $(STAMP)
	$(BIN)/jupyter lab chapters

# The chapters in Chinese, generated from the catalogs (book/i18n.py notebooks): nothing
# online is needed, so this works where Colab and Binder cannot be reached.
lab-zh: $(STAMP)
	$(BIN)/python book/i18n.py notebooks
	$(BIN)/jupyter lab chapters_zh

# New and changed English text lands in the catalogs empty or fuzzy; translate, then
# `make book`. Exits non-zero while a page listed in locale/zh_CN/complete.txt has gaps.
i18n: $(STAMP)
	$(BIN)/python book/i18n.py gettext
	$(BIN)/python book/i18n.py status

bench: $(STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf _build chapters_zh

# Strip outputs and execution counts from every notebook (commit notebooks stripped).
strip: $(STAMP)
	$(BIN)/python book/strip.py chapters
