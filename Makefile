# govarchive: `make demo` and `make test` do all the set-up from a fresh clone.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup system-deps demo test lint bench clean

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
	$(BIN)/mypy crawler pipelines settings retrieval

# Throughput, CPU, memory, storage cost, S3 writes and retrieval on this machine (~15 min);
# writes bench/results/latest.json (bench/bench_e2e.py).
bench: setup
	$(BIN)/python -m bench.bench_e2e

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
