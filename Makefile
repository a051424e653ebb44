# One target per user step. Every target sets up what it needs (.venv, pinned torch).
# `make help` lists them.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-v1
ASSIGNMENT ?= week10_rnn
SUBMISSIONS ?=
OUT ?= out
ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help setup system-deps release grade review report export bench demo test eval-rubrics mutation clean

help: ## list the targets
	@echo "Autograded recurrent-network labs. Targets:"
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | awk -F'\t' '{printf "  make %-14s %s\n", $$1, $$2}'
	@echo
	@echo "Grade a class:  make grade ASSIGNMENT=week10_rnn SUBMISSIONS=path/to/submissions OUT=path/to/out"
	@echo "Same as:        $(BIN)/autograder grade --help"

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0   # pinned first: an unpinned torch pulls GBs of CUDA wheels
	$(BIN)/pip install -q -e '.[cluster,dev]'
	@$(MAKE) --no-print-directory system-deps
	touch $(STAMP)

setup: $(STAMP) ## create .venv and install everything (torch pinned to the CPU build)

system-deps: ## best effort (root + apt): bubblewrap for the sandbox, chromium for the browser checks
	@for pair in bwrap:bubblewrap chromium:chromium; do cmd=$${pair%%:*}; pkg=$${pair##*:}; \
	  if command -v $$cmd >/dev/null; then echo "$$pkg: present"; \
	  elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    (apt-get install -y -q $$pkg >/dev/null 2>&1 || (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q $$pkg >/dev/null 2>&1)) \
	    && echo "$$pkg: installed" || echo "$$pkg: could not be installed here"; \
	  else echo "$$pkg: missing (install the Debian package '$$pkg')"; fi; done

release: $(STAMP) ## generate student + instructor notebooks under assignments/
	$(BIN)/autograder release $(ARGS)

grade: $(STAMP) ## grade a class: ASSIGNMENT=... SUBMISSIONS=... OUT=... (re-run to resume; ARGS="--workers 4")
	@test -n "$(SUBMISSIONS)" || { echo "usage: make grade ASSIGNMENT=week10_rnn SUBMISSIONS=path/to/submissions OUT=path/to/out"; exit 2; }
	$(BIN)/autograder grade $(ASSIGNMENT) $(SUBMISSIONS) --out $(OUT) $(ARGS)

review: $(STAMP) ## TA: written answers waiting for review in OUT (ARGS="--decisions OUT/review_queue.csv" records them)
	$(BIN)/autograder review $(ASSIGNMENT) --out $(OUT) $(ARGS)

report: $(STAMP) ## rewrite OUT/report.html and OUT/feedback/ from the gradebook (no regrading)
	$(BIN)/autograder report $(ASSIGNMENT) --out $(OUT) $(ARGS)

export: $(STAMP) ## re-export OUT from the gradebook, plus items.csv and canvas_import.csv (ARGS="--roster x.csv")
	$(BIN)/autograder export $(ASSIGNMENT) --out $(OUT) $(ARGS)

test: $(STAMP) ## run the whole test suite
	$(BIN)/python -m pytest $(ARGS)

N ?= 100
BENCH_OUT = $(if $(filter command line environment,$(origin OUT)),$(OUT),bench-out)
bench: $(STAMP) ## benchmark against nbgrader autograde on N submissions per lab -> OUT/bench.json (default bench-out/)
	$(BIN)/python -m autograder.bench.run --n $(N) --out $(BENCH_OUT) $(ARGS)

eval-rubrics: $(STAMP) ## rubric scorer against the labelled answers (tuning and held-out parts)
	$(BIN)/python -m autograder.rubric.evaluate $(ARGS)

mutation: $(STAMP) ## hidden suites: every mutant caught on its grade_id, every fair variant full marks
	$(BIN)/python -m autograder.scoring.corpus $(ARGS)

DEMO_OUT ?= demo-out
demo: $(STAMP) ## the main job on bundled sample data: release, sample class, grade both labs -> demo-out/<lab>/report.html
	$(BIN)/python -m autograder.demo.run --out $(DEMO_OUT) $(ARGS)

clean: ## remove generated output (keeps .venv)
	rm -rf out demo-out bench-out .pytest_cache
