# govarchive: `make demo` and `make test` do all the set-up from a fresh clone.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup system-deps demo test lint quality bench clean

setup: $(STAMP)

# The virtualenv holds the pinned lock; re-installed only when the lock changes.
$(STAMP): requirements.lock requirements-dev.lock
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON) (Python 3.11)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.lock
	touch $(STAMP)

# Debian packages the tests drive for real: chromium (browser pages), redis-server (distributed
# crawls), a CJK font (readable browser screenshots). Installed when run as root; otherwise the
# tests that need them say so and skip.
system-deps:
	@missing=""; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	dpkg -s fonts-wqy-microhei >/dev/null 2>&1 || missing="$$missing fonts-wqy-microhei"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "not root: tests needing$$missing will skip"; fi; \
	fi

demo: setup
	$(BIN)/python -m demo.run

test: setup system-deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy crawler pipelines settings retrieval bench demo

# Extraction quality gate over the 60 real labelled pages of ../shared/eval/zh-dev, when that folder
# is there (it is not part of the project; the fixture-corpus gate is in `make test`). Floors are
# issue 4's: F1 0.93 and +0.06 over plain trafilatura, chrome on at most 5% of pages, dates 95%.
ZH_DEV ?= ../shared/eval/zh-dev
quality: setup
	@if [ -d "$(ZH_DEV)" ]; then \
	  $(BIN)/scrapy extract-eval "$(ZH_DEV)" --min-f1 0.93 --max-chrome 0.05 --min-margin 0.06 --min-date 0.95; \
	else echo "quality: $(ZH_DEV) not present, real-page gate not run"; fi

# Throughput, CPU, memory, storage cost, S3 writes and retrieval on this machine (~15 min);
# writes bench/results/latest.json (bench/bench_e2e.py).
bench: setup
	$(BIN)/python -m bench.bench_e2e

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
