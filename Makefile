# The two commands of the README: `make book` and `make test`.
SHELL := bash
.SHELLFLAGS := -eo pipefail -c
.DEFAULT_GOAL := help

PRESET ?= cpu
PYTHON ?= python3
# On this project's machines these builds lie on disk; elsewhere pick the build for your platform.
TORCH ?= torch==2.14.1 torchvision==0.29.1
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# pip on these machines warns about absent local index folders: hide only those lines
PIPFILTER := { grep -v '^WARNING: Location' || true; }

export ALPHAVAE_QUIET ?= 1
export PYTHONHASHSEED := 0

# Offline copies of MNIST / Fashion-MNIST (torchvision layout) to seed data/ from, when present
DATA_FROM ?= ../shared/data

# `make book SOLUTIONS=hide` builds a copy for a course: every {solution} block is left out.
SOLUTIONS ?= show
# Warnings are errors; --keep-going reports all of them before failing.
JB_BUILD := $(BIN)/jupyter-book build --path-output . --warningiserror --keep-going

.PHONY: help venv data book html test notebooks lint clean assignments

help:
	@echo "make book [PRESET=smoke|cpu|paper]  execute every chapter with papermill and build _build/html"
	@echo "make book SOLUTIONS=hide             the same, without the exercises' solutions (for a course)"
	@echo "make html                            build _build/html from the committed notebooks, without executing them"
	@echo "make test                            make html, then pytest over tests/ (the browser test included) and strict pytest --nbval over book/"
	@echo "make notebooks                       re-execute the chapters in place at the default preset (refresh outputs)"
	@echo "make assignments                     build the graded assignments (otter-grader) into assignments/"
	@echo "make lint                            ruff check and ruff format --check"

$(STAMP): pyproject.toml
	@echo "== creating $(VENV) and installing the project"
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q $(TORCH) 2>&1 | $(PIPFILTER)
	$(BIN)/python -m pip install -q -e '.[book,dev,course]' 2>&1 | $(PIPFILTER)
	$(BIN)/python -c "import torch, torchvision, papermill, nbval, jupyter_book, alphavae_core"
	touch $@

venv: $(STAMP)

# Copy the offline .gz files into data/ (git-ignored) once; online machines download instead.
data:
	@if [ -d "$(DATA_FROM)" ] && [ ! -d data/MNIST/raw ]; then \
	  echo "== seeding data/ from $(DATA_FROM)"; mkdir -p data; \
	  for d in MNIST FashionMNIST; do mkdir -p data/$$d/raw; cp $(DATA_FROM)/$$d/raw/*.gz data/$$d/raw/; done; \
	fi

book: $(STAMP) data
	@case "$(SOLUTIONS)" in show|hide) ;; *) echo "SOLUTIONS must be show or hide, not '$(SOLUTIONS)'"; exit 2;; esac
	$(BIN)/python scripts/execute_book.py --preset $(PRESET) --out _build/src
	cp -r _ext _build/src/
	$(BIN)/python -c "import pathlib, sys, yaml; p = pathlib.Path('_build/src/_config.yml'); \
	  c = yaml.safe_load(p.read_text()); c['sphinx']['config']['hide_solutions'] = sys.argv[1] == 'hide'; \
	  p.write_text(yaml.safe_dump(c, allow_unicode=True, sort_keys=False))" $(SOLUTIONS)
	$(JB_BUILD) _build/src
	@echo "== the book is in _build/html/index.html (solutions: $(SOLUTIONS))"

# The book as committed (stored outputs, nothing executed): what the browser test opens.
html: $(STAMP)
	@start=$$(date +%s); $(JB_BUILD) . ; echo "== _build/html built in $$(( $$(date +%s) - start )) s"

test: $(STAMP) data html
	$(BIN)/python -m pytest --nbval --nbval-current-env --nbval-cell-timeout=600 -p no:cacheprovider tests book

notebooks: $(STAMP) data
	$(BIN)/python scripts/execute_book.py --in-place

# One student notebook and one autograder per chapter with graded exercises (see book/course.md).
assignments: $(STAMP)
	$(BIN)/alphavae assignments build --out assignments

lint: $(STAMP)
	$(BIN)/ruff check alphavae_core tests scripts
	$(BIN)/ruff format --check alphavae_core tests scripts

clean:
	rm -rf _build
